"""The turn service: every surface (chat API, widget, wizard, a future bot) takes its turns here.

Like Home Assistant's flow manager, one entry point runs a turn and returns one typed
outcome: `Accepted` (the next prompt), `Refused` (the value is not taken: an error
code with its parameters) or `Conflict` (someone else moved on, the flow is finished
or there is no step to go back to: the error code with the current prompt). The
surfaces only render the outcome. This module owns the rules every surface shares:
a missing or null value (and a blank optional text) skips an optional step, a stale
step or a lost race is a conflict, and an assessment whose flow version is no longer
loaded raises `FlowUnavailableError` (one error handler renders it).

A re-assessment (`reassess`) starts an assessment on the organisation's current flow
version with the answers of its checklist of record migrated; its answer and skip
turns move on over the steps whose carried-over answers are still valid, and stop
at the recommendation, so the respondent answers only what is new, sees the advice
again and lands on the summary.

It knows neither Flask nor HTTP: it takes a database session and the flow engines.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from . import worklist
from .engine import DONE, EngineRegistry, FlowEngine, Prompt, TurnError, amendment
from .engine.migration import migrate_answers
from .engine.vocabulary import CONFLICT_CODES, StartedVia, Surface, TurnAction, TurnErrorCode
from .store import assessments as store
from .store.models import Assessment, Organisation, RespondentLink

# An unfinished assessment left alone this long can no longer be opened with its token.
DEFAULT_IDLE_DAYS = 30


class FlowUnavailableError(LookupError):
    """The flow version an assessment (or organisation) uses is not loaded: keep old flow files in flows/."""

    def __init__(self, flow_id: str, version: int | None, locale: str | None = None) -> None:
        """Name the missing flow version (and the assessment's language, for the message)."""
        self.flow_id = flow_id
        self.version = version
        self.locale = locale
        super().__init__(f"{flow_id} v{version}" if version is not None else flow_id)


class AssessmentExpiredError(LookupError):
    """An unfinished assessment was left alone longer than the idle period: its token opens nothing any more."""

    def __init__(self, locale: str | None = None) -> None:
        """Keep the assessment's language for the message."""
        self.locale = locale
        super().__init__("assessment expired")


class NoMigrationError(LookupError):
    """The answers of the source's flow version cannot be carried over to the target version (no migration registered)."""

    def __init__(self, flow_id: str, source_version: int, target_version: int) -> None:
        """Name the two versions."""
        self.flow_id = flow_id
        self.source_version = source_version
        self.target_version = target_version
        super().__init__(f"{flow_id}: no migration from version {source_version} to version {target_version}")


@dataclass(frozen=True)
class Conversation:
    """An assessment together with the engine of its own flow version."""

    assessment: Assessment
    engine: FlowEngine

    def prompt(self) -> Prompt:
        """The current prompt (the finished flow's when done)."""
        return self.engine.prompt(self.assessment)


@dataclass(frozen=True)
class Accepted:
    """The turn was taken and committed; `prompt` is the next step (or the finished flow)."""

    conversation: Conversation
    prompt: Prompt


@dataclass(frozen=True)
class Refused:
    """The value was not taken (nothing changed); the surface shows the error and asks again."""

    conversation: Conversation
    error: TurnError

    @property
    def code(self) -> str:
        """The stable error code."""
        return self.error.code


@dataclass(frozen=True)
class Conflict:
    """The turn no longer fits the assessment's state (nothing changed); `prompt` is the current step."""

    conversation: Conversation
    error: TurnError
    prompt: Prompt = field(compare=False)

    @property
    def code(self) -> str:
        """The stable error code."""
        return self.error.code


TurnOutcome = Accepted | Refused | Conflict


@dataclass(frozen=True)
class Amended:
    """A manager's amendment of the checklist of record was committed (`changed` is False when the answer was already that)."""

    conversation: Conversation
    changed: bool


AmendmentOutcome = Amended | Refused | Conflict


@dataclass(frozen=True)
class Reassessment:
    """A new re-assessment: its conversation and the steps that carry a migrated answer (in flow order)."""

    conversation: Conversation
    prefilled: list[str]


@dataclass
class _Model:
    """The detached state the engine works on, so a refused turn touches nothing."""

    state: str
    answers: dict[str, Any]


class TurnService:
    """Start, resume and take turns on assessments; one instance per request (it holds the session)."""

    def __init__(self, session: Session, engines: EngineRegistry, idle_days: int = DEFAULT_IDLE_DAYS, review_interval_days: int = 365) -> None:
        """Work in `session` with the loaded flow engines; unfinished assessments expire after `idle_days` without a turn."""
        self.session = session
        self.engines = engines
        self.idle_days = idle_days
        self.review_interval_days = review_interval_days

    # -- conversations -------------------------------------------------------------

    def engine_for_organisation(self, organisation: Organisation) -> FlowEngine:
        """The engine new assessments of the organisation use: its flow, pinned version or the latest."""
        try:
            return self.engines.get(organisation.flow_id, organisation.flow_version)
        except KeyError as exc:
            raise FlowUnavailableError(organisation.flow_id, organisation.flow_version) from exc

    def engine_for(self, assessment: Assessment) -> FlowEngine:
        """The engine of the assessment's own flow version (it finishes on the version it started with)."""
        try:
            return self.engines.get(assessment.flow_id, assessment.flow_version)
        except KeyError as exc:
            raise FlowUnavailableError(assessment.flow_id, assessment.flow_version, assessment.locale) from exc

    def open(self, token: str) -> Conversation | None:
        """The conversation of a token, None when unknown; raises AssessmentExpiredError, FlowUnavailableError."""
        assessment = store.assessment_by_token(self.session, token) if is_plausible_key(token) else None
        return None if assessment is None else self.resume(assessment)

    def resume(self, assessment: Assessment) -> Conversation:
        """The conversation of an already loaded assessment; raises AssessmentExpiredError, FlowUnavailableError."""
        if store.is_idle(assessment, self.idle_days):
            raise AssessmentExpiredError(assessment.locale)
        return Conversation(assessment, self.engine_for(assessment))

    def start(self, organisation: Organisation, locale: str, surface: Surface, link: RespondentLink | None = None) -> Conversation:
        """Create an assessment on the organisation's flow version, at its first step.

        Started from a respondent link it is trusted (it becomes the checklist of record
        when completed); otherwise it is a public self-assessment, the respondent's own.
        """
        engine = self.engine_for_organisation(organisation)
        flow = engine.flow
        via = StartedVia.PUBLIC if link is None else StartedVia.RESPONDENT_LINK
        assessment = store.create(
            self.session, organisation, flow.id, flow.version, engine.initial_state, locale, surface, via, link.id if link is not None else None
        )
        return Conversation(assessment, engine)

    def reassess(self, organisation: Organisation, source: Assessment, locale: str, surface: Surface) -> Reassessment:
        """Start a re-assessment of `source` (the checklist of record) on the organisation's flow version.

        The source's completed answers are migrated to that version (unchanged on the
        same version); the assessment starts at the first step of the path that has no
        migrated answer or shows the recommendation. When nothing is left to ask, it
        starts at the first step, whose answer is pre-selected: one confirmation and
        the respondent is on the summary. Raises FlowUnavailableError, NoMigrationError.
        """
        engine = self.engine_for_organisation(organisation)
        answers = self.migrated_answers(engine, source)
        model = _Model(engine.initial_state, dict(answers))
        engine.fast_forward(model, stop_at_info=True)
        state = engine.initial_state if model.state == DONE else model.state
        assessment = store.create_reassessment(self.session, source, engine.flow.version, state, answers, locale, surface)
        return Reassessment(Conversation(assessment, engine), list(answers))

    @staticmethod
    def migrated_answers(engine: FlowEngine, source: Assessment) -> dict[str, Any]:
        """The source's completed answers as `engine`'s version reads them, in flow order.

        Same version: as they are; an earlier version: through the migration the new
        version registers (`flow.migrations[source version]`). Only valid answers of the
        new version's steps are kept, and never the recommendation's: it is shown again.
        """
        flow = engine.flow
        answers = migrate_answers(flow, source.flow_version, source.completed_answers or {}) if source.flow_id == flow.id else None
        if answers is None:
            raise NoMigrationError(source.flow_id, source.flow_version, flow.version)
        return answers

    def switch_locale(self, conversation: Conversation, locale: str) -> None:
        """Change the conversation's language (not a turn: no version check, no revision)."""
        if locale != conversation.assessment.locale:
            store.set_locale(self.session, conversation.assessment, locale)

    # -- turns ---------------------------------------------------------------------

    def answer(self, conversation: Conversation, step: str, value: Any, surface: Surface, *, fast_forward: bool = False) -> TurnOutcome:
        """Answer `step` (which must be the current one) with `value`.

        A null value skips an optional step (a required one is refused with
        `value_required`); a blank text on an optional step counts as skipped.
        `fast_forward` (changing an answer from a summary) then moves on over later
        answers that still apply.
        """
        engine = conversation.engine
        if value is None:
            return self._take(conversation, TurnAction.SKIP, step, surface, lambda model: self._skip_or_require(engine, model, step), fast_forward)
        return self._take(conversation, TurnAction.ANSWER, step, surface, lambda model: engine.answer(model, step, value), fast_forward)

    def skip(self, conversation: Conversation, step: str, surface: Surface, *, fast_forward: bool = False) -> TurnOutcome:
        """Leave the optional `step` (the current one) unanswered; a required step is refused (`not_optional`)."""
        engine = conversation.engine
        return self._take(conversation, TurnAction.SKIP, step, surface, lambda model: engine.skip(model, step), fast_forward)

    def back(self, conversation: Conversation, surface: Surface, *, expected_step: str | None = None, to: str | None = None) -> TurnOutcome:
        """Go back one step, or to the earlier step `to` (from a summary); the old answers stay.

        `expected_step` guards against a stale tab: when it is not the current step
        the outcome is a conflict and nothing changes.
        """
        engine, state = conversation.engine, conversation.assessment.state
        if expected_step is not None and expected_step != state:
            return self._refusal(conversation, TurnError(TurnErrorCode.STALE_STEP, expected_step, current=state))
        if to is not None:
            return self._take(conversation, TurnAction.BACK, state, surface, lambda model: engine.rewind_to(model, to))
        return self._take(conversation, TurnAction.BACK, state, surface, engine.back)

    def restart(self, conversation: Conversation, surface: Surface) -> TurnOutcome:
        """Clear the answers and start again at the first step."""
        return self._take(conversation, TurnAction.RESTART, conversation.assessment.state, surface, conversation.engine.restart)

    def amend(self, record: Assessment, step: str, value: Any, surface: Surface, actor: Any, *, expected_version: int | None = None) -> AmendmentOutcome:
        """Change one answer of the organisation's checklist of record, as a manager who learnt that something changed.

        A turn of its own kind: the version check stays (`expected_version`, and the
        UPDATE's own), one revision names the manager, the answers that count change and
        the state never moves. Refused: `step_not_asked`, `amendment_opens_steps` (a
        re-assessment asks those questions) or any turn refusal of the value. A
        concurrent writer is a conflict (`stale_step`). Raises FlowUnavailableError.
        """
        conversation = Conversation(record, self.engine_for(record))
        if expected_version is not None and expected_version != record.version:
            return self._refusal(conversation, TurnError(TurnErrorCode.STALE_STEP, step, current=record.state))
        completed = record.completed_answers or {}
        try:
            amended = amendment.amend(conversation.engine.flow, completed, step, value)
        except TurnError as exc:
            return Refused(conversation, exc)
        if amended == completed:
            return Amended(conversation, changed=False)
        try:
            store.save_amendment(self.session, record, amended, step, amended.get(step), surface, actor)
        except store.StaleAssessmentError:
            store.reload(self.session, record)
            return self._refusal(conversation, TurnError(TurnErrorCode.STALE_STEP, step, current=record.state))
        self.snapshot(record.organisation)
        return Amended(conversation, changed=True)

    def snapshot(self, organisation: Organisation) -> None:
        """Write today's progress snapshot of the organisation (its checklist of record changed, or its tracking)."""
        with suppress(FlowUnavailableError):  # a removed flow version: the progress keeps its last day
            worklist.snapshot(self.session, self.engine_for, organisation, self.review_interval_days)

    # -- the one way a turn is taken ---------------------------------------------------

    @staticmethod
    def _skip_or_require(engine: FlowEngine, model: _Model, step: str) -> None:
        """Skip an optional step; a required one asks for an answer (`value_required`)."""
        try:
            engine.skip(model, step)
        except TurnError as exc:
            if exc.code != TurnErrorCode.NOT_OPTIONAL:
                raise
            raise TurnError(TurnErrorCode.VALUE_REQUIRED, step) from exc

    def _take(
        self,
        conversation: Conversation,
        action: TurnAction,
        step: str,
        surface: Surface,
        run: Callable[[_Model], None],
        fast_forward: bool = False,
    ) -> TurnOutcome:
        """Run the engine on a detached copy, then commit the turn with its revision (or report why not)."""
        assessment, engine = conversation.assessment, conversation.engine
        if is_closed(assessment):
            return self._refusal(conversation, TurnError(TurnErrorCode.ASSESSMENT_CLOSED, step))
        model = _Model(assessment.state, dict(assessment.answers))
        try:
            run(model)
        except TurnError as exc:
            return self._refusal(conversation, exc)
        if action is TurnAction.ANSWER and model.answers.get(step) is None:
            action = TurnAction.SKIP  # a blank text on an optional step counts as skipped
        if action is TurnAction.BACK:
            recorded_value: Any = model.state  # the step it returned to
        elif action is TurnAction.ANSWER:
            recorded_value = model.answers.get(step)
        else:
            recorded_value = None
        if action in (TurnAction.ANSWER, TurnAction.SKIP):
            if assessment.reassessment_of is not None:
                engine.fast_forward(model, stop_at_info=True)  # a re-assessment asks only what is new, and shows the advice again
            elif fast_forward:
                engine.fast_forward(model)
        record = store.TurnRecord(
            state=model.state,
            answers=model.answers,
            action=action,
            step=step,
            value=recorded_value,
            surface=surface,
            completed_answers=engine.effective_answers(model.answers) if model.state == DONE else None,
            becomes_record=not assessment.is_self_assessment,
        )
        try:
            store.save_turn(self.session, assessment, record)
        except store.StaleAssessmentError:
            store.reload(self.session, assessment)
            return self._refusal(conversation, TurnError(TurnErrorCode.STALE_STEP, step, current=assessment.state))
        if record.becomes_record and record.completed_answers is not None:
            self.snapshot(assessment.organisation)
        return Accepted(conversation, conversation.prompt())

    @staticmethod
    def _refusal(conversation: Conversation, error: TurnError) -> Refused | Conflict:
        """A conflict (with the current prompt) for a refusal about the state, else a refused value."""
        if error.code in CONFLICT_CODES:
            return Conflict(conversation, error, conversation.prompt())
        return Refused(conversation, error)


def is_closed(assessment: Assessment) -> bool:
    """Whether turns are refused: a manager adopted the self-assessment, or revoked the link it was started from."""
    return assessment.adopted_at is not None or assessment.link_revoked


# Tokens, embed keys and slugs are short; anything longer (or with a NUL, which PostgreSQL refuses
# in text) cannot name one, so it is unknown without asking the database.
MAX_KEY_LENGTH = 64


def is_plausible_key(key: str) -> bool:
    """Whether `key` could be a token, embed key or slug at all (short, no NUL character)."""
    return len(key) <= MAX_KEY_LENGTH and "\x00" not in key
