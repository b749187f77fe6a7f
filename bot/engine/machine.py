"""The flow engine: one transitions.Machine per flow version, built once, shared.

The machine has `model=None` and `auto_transitions=False`; a turn fires
`machine.events[trigger].trigger(assessment, value=...)` on any object with a
`state` (a step id or "done") and `answers` (a dict). Nothing is attached to the
machine per request, so it stays read-only and safe to share between threads;
concurrency between processes is the database's job (a version counter).

Transitions: from each step, `answer` (and `skip` on optional steps) has one
candidate transition to every later step up to the next step that is always
asked, then to "done"; transitions tries them in order and takes the first whose
condition (the destination's `asked_when`) holds. `back` has the mirror-image
candidates towards the start. `restart` goes from anywhere to the first step.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from transitions import Machine, MachineError

from .errors import TurnError
from .model import DONE, Flow, Step
from .predicates import describe
from .prompt import Prompt
from .rules import Checklist, derive_checklist, effective_answers, recommend
from .values import INFO_VALUE, validate_value
from .vocabulary import StepKind, TurnAction

# The whitelist of triggers (kept as a tuple for the callers that list them).
TRIGGERS: tuple[str, ...] = tuple(TurnAction)


class _AskedWhen:
    """A transition condition: the destination step is asked for the model's answers.

    The compiled asked_when ignores answers of steps off the path (see predicates.py),
    so it runs on the model's answers as they are: one closure call per candidate.
    """

    __slots__ = ("__name__", "asked")

    def __init__(self, step: Step) -> None:
        self.asked = step.asked
        self.__name__ = describe(step.asked_when)  # transitions logs and diagrams show this name

    def __call__(self, event: Any) -> bool:
        return self.asked(event.model.answers)


class FlowEngine:
    """Runs one flow version: turns, prompts, recommendation and checklist."""

    def __init__(self, flow: Flow) -> None:
        """Build the state machine for `flow` (once per flow version)."""
        self.flow = flow
        self.steps = flow.steps
        self.initial_state = next((s.id for s in flow.steps if s.asked({})), DONE)
        self._conditions = {s.id: _AskedWhen(s) for s in flow.steps if s.asked_when}
        self.machine = Machine(
            model=None,
            states=[s.id for s in flow.steps] + [DONE],
            transitions=self._transitions(),
            initial=None,
            auto_transitions=False,
            send_event=True,
            prepare_event=[self._apply_answer],
        )
        # asked_when only reads these steps, so the path (and progress) depends on them alone.
        self._branch_steps = flow.branch_steps
        self._path_cache = lru_cache(maxsize=4096)(self._path_for)

    def _candidates(self, steps: tuple[Step, ...] | list[Step]) -> list[tuple[str, list[_AskedWhen]]]:
        """Destinations in order, up to and including the first one always asked."""
        out: list[tuple[str, list[_AskedWhen]]] = []
        for step in steps:
            if not step.asked_when:
                out.append((step.id, []))
                return out
            out.append((step.id, [self._conditions[step.id]]))
        return out

    def _transitions(self) -> list[dict[str, Any]]:
        steps = self.steps
        out: list[dict[str, Any]] = []
        for i, step in enumerate(steps):
            forward = self._candidates(steps[i + 1 :])
            if not forward or forward[-1][1]:
                forward.append((DONE, []))
            triggers = ("answer", "skip") if step.optional else ("answer",)
            for trigger in triggers:
                out += [{"trigger": trigger, "source": step.id, "dest": d, "conditions": c} for d, c in forward]
            backward = self._candidates(list(reversed(steps[:i])))
            out += [{"trigger": "back", "source": step.id, "dest": d, "conditions": c} for d, c in backward]
        backward = self._candidates(list(reversed(steps)))
        out += [{"trigger": "back", "source": DONE, "dest": d, "conditions": c} for d, c in backward]
        out.append({"trigger": "restart", "source": "*", "dest": self.initial_state})
        return out

    @staticmethod
    def _apply_answer(event: Any) -> None:
        """Write the answer before the conditions pick the next step (they may read it)."""
        model, name = event.model, event.event.name
        if name == "answer" or name == "skip":
            answers = dict(model.answers)  # a new dict, so ORM JSON columns see the change
            value = event.kwargs.get("value")
            if value is None:
                answers.pop(model.state, None)
            else:
                answers[model.state] = value
            model.answers = answers
        elif name == "restart":
            model.answers = {}

    # -- turns -------------------------------------------------------------------

    def current_step(self, model: Any) -> Step | None:
        """The step the model is at (None when done); unknown states are refused."""
        if model.state == DONE:
            return None
        step = self.flow.step_by_id.get(model.state)
        if step is None:
            raise TurnError("unknown_step", model.state)
        return step

    def answer(self, model: Any, step_id: str, value: Any) -> None:
        """Answer the current step; on any refusal raise TurnError and change nothing."""
        step = self._expect(model, step_id)
        self._fire(model, "answer", value=validate_value(step, value))

    def skip(self, model: Any, step_id: str) -> None:
        """Skip the current step if it is optional (its answer is removed)."""
        step = self._expect(model, step_id)
        if not step.optional:
            raise TurnError("not_optional", step.id)
        self._fire(model, "skip", value=None)

    def back(self, model: Any) -> None:
        """Go to the previous asked step; its answer stays (pre-selected)."""
        self.current_step(model)
        if not self._fire(model, "back", refuse="no_previous_step"):
            raise TurnError("no_previous_step", model.state)

    def rewind_to(self, model: Any, step_id: str) -> None:
        """Go back, step by step, to an earlier asked step (to change its answer from a summary).

        Refuses (TurnError `unknown_step`) a step that is not behind the current one on
        the path; on a refusal the model is unchanged.
        """
        path = self.path(model.answers)
        position = len(path) if model.state == DONE else path.index(model.state) if model.state in path else -1
        if step_id not in path[: max(position, 0)]:
            raise TurnError("unknown_step", step_id)
        while model.state != step_id:
            self.back(model)

    def fast_forward(self, model: Any, *, stop_at_info: bool = False) -> None:
        """Move on over the following steps whose stored answers are still valid.

        After an answer was changed from the summary, later answers that still apply are
        kept: this re-answers them in order and stops at the first step without a valid
        answer (a new step on the path, or one that was skipped), or at the end. With
        `stop_at_info` it also stops at every info step (a re-assessment shows the
        recommendation again, before the old channel answer is reused).
        """
        while (step := self.current_step(model)) is not None:
            if stop_at_info and step.kind is StepKind.INFO:
                return
            stored = model.answers.get(step.id)
            if stored is None:
                return
            try:
                value = validate_value(step, stored)
            except TurnError:
                return
            self._fire(model, "answer", value=value)

    def restart(self, model: Any) -> None:
        """Start the flow again from the first step with no answers."""
        self._fire(model, "restart")

    def fire(self, model: Any, trigger: str, step: str | None = None, value: Any = None) -> None:
        """Fire a whitelisted trigger by name (for adapters that receive it as data)."""
        if trigger == "answer":
            self.answer(model, step or "", value)
        elif trigger == "skip":
            self.skip(model, step or "")
        elif trigger == "back":
            self.back(model)
        elif trigger == "restart":
            self.restart(model)
        else:
            raise TurnError("unknown_trigger", step, allowed=list(TRIGGERS))

    def _expect(self, model: Any, step_id: str) -> Step:
        step = self.current_step(model)
        if step is None:
            raise TurnError("flow_finished", step_id, current=DONE)
        if step_id != step.id:
            raise TurnError("stale_step", step_id, current=step.id)
        return step

    def _fire(self, model: Any, trigger: str, refuse: str = "invalid_value", **kwargs: Any) -> bool:
        try:
            return self.machine.events[trigger].trigger(model, **kwargs)
        except MachineError as exc:
            raise TurnError(refuse, model.state) from exc

    # -- views -------------------------------------------------------------------

    def _path_for(self, key: tuple[Any, ...]) -> tuple[str, ...]:
        """The projected path for the branch-step values in `key`."""
        answers = {k: (list(v) if isinstance(v, tuple) else v) for k, v in zip(self._branch_steps, key, strict=True) if v is not None}
        projected: dict[str, Any] = {}
        path = []
        for step in self.steps:
            if not step.asked(projected):
                continue
            path.append(step.id)
            if step.id in answers:
                projected[step.id] = answers[step.id]
            elif step.options:  # not answered yet: assume the first option to estimate
                projected[step.id] = step.options[0].value if step.kind == StepKind.CHOICE else [step.options[0].value]
        return tuple(path)

    def path(self, answers: Mapping[str, Any]) -> tuple[str, ...]:
        """The asked steps for these answers; unanswered branches are estimated."""
        key = []
        for name in self._branch_steps:
            value = answers.get(name)
            key.append(tuple(value) if isinstance(value, list) else value)
        return self._path_cache(tuple(key))

    def prompt(self, model: Any) -> Prompt:
        """The view-model of the model's current step (or of the finished flow)."""
        path = self.path(model.answers)
        step = self.current_step(model)
        if step is None:
            checklist = self.checklist(model.answers)
            flow = self.flow
            return Prompt(DONE, DONE, None, flow.finish_text, flow.finish_help, (), False, len(path), len(path), checklist=checklist)
        answered = path.index(step.id) if step.id in path else len(path)
        shown = recommend(self.flow, model.answers) if step.shows == "recommendation" else None
        value = model.answers.get(step.id)
        if step.kind == StepKind.INFO and value is None:
            value = INFO_VALUE
        return Prompt(step.id, step.kind, step.section, step.text, step.help, step.options, step.optional, answered, len(path), value, shown)

    def checklist(self, answers: Mapping[str, Any]) -> Checklist:
        """The recommendation and the 26 checklist items for these answers."""
        return derive_checklist(self.flow, answers)

    def effective_answers(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """The answers that count (of steps on the path)."""
        return effective_answers(self.flow, answers)


class EngineRegistry:
    """All loaded flow versions, each with its engine, built once at start-up."""

    def __init__(self, flows: Mapping[tuple[str, int], Flow]) -> None:
        """Build one engine per (flow id, version)."""
        self.engines = {key: FlowEngine(flow) for key, flow in flows.items()}

    def get(self, flow_id: str, version: int | None = None) -> FlowEngine:
        """The engine of a flow version (the newest when version is None)."""
        if version is None:
            versions = [v for (fid, v) in self.engines if fid == flow_id]
            if not versions:
                raise KeyError(flow_id)
            version = max(versions)
        return self.engines[(flow_id, version)]

    def latest(self) -> list[FlowEngine]:
        """The newest version of each flow."""
        return [self.get(fid) for fid in sorted({fid for fid, _ in self.engines})]
