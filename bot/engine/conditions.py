"""The Python half of a flow version: named conditions and document builders, never eval.

A flow file branches with data (predicates); for the rare case a predicate cannot
express, it names a condition: a plain Python function of the answers. The
conditions and the document builders of one flow version live together in a
`FlowCode` (see bot/flowcode/), which the loader receives as an argument, so two
versions of a flow never share, or overwrite, each other's code.

Each condition and document builder declares the steps it reads and the option
values it compares them with; the loader refuses a flow whose code reads a step or
a value the flow does not have. A condition is always given the *effective*
answers (of the steps on the path), so a stale answer of a step that is no longer
asked (say `provider` after the channel was changed to the App) never switches it
on; still, write conditions that hold only when the steps they read are asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Answers = Mapping[str, Any]
ConditionFunction = Callable[[Answers], bool]
# A document builder takes the answers and whatever its surface needs to render (a translator).
DocumentFunction = Callable[..., Any]
# For each step read, the option values compared with its answer.
ValueReads = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Condition:
    """A named condition: the function, the steps it reads and the option values it compares."""

    name: str
    func: ConditionFunction
    reads: tuple[str, ...]
    values: ValueReads = field(default_factory=dict, compare=False)

    def __call__(self, answers: Answers) -> bool:
        """Evaluate the condition on a set of (effective) answers."""
        return self.func(answers)


@dataclass(frozen=True)
class DocumentBuilder:
    """A ready-to-paste document of a flow version: its id, checklist item and what it reads."""

    id: str
    item: str
    build: DocumentFunction
    reads: tuple[str, ...]
    values: ValueReads = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ChannelChoice:
    """Which step records the channel the respondent chose, and which of its options each recommendation names.

    The respondent's result shows the chosen channel beside the recommendation and
    says so when they differ. A recommendation without an entry names no channel.
    """

    step: str
    by_recommendation: Mapping[str, str | None]


class FlowCode:
    """The named conditions and document builders of one flow version (its registry)."""

    def __init__(self) -> None:
        """Start empty; the decorators below fill it when its module is imported."""
        self.conditions: dict[str, Condition] = {}
        self.documents: dict[str, DocumentBuilder] = {}
        # How answers of an earlier version of the same flow become this version's, by that version.
        self.migrations: dict[int, AnswerMigration] = {}
        self.channel_choice: ChannelChoice | None = None

    def chosen_channel(self, step: str, by_recommendation: Mapping[str, str | None]) -> None:
        """Name the step that records the chosen channel and the option each recommendation value stands for."""
        self.channel_choice = ChannelChoice(step, dict(by_recommendation))

    def migration(self, *, from_version: int) -> Callable[[AnswerMigration], AnswerMigration]:
        """Register how the answers of `from_version` carry over to this version (a re-assessment).

        The function takes the earlier version's effective answers and returns this
        version's answers: the ones that keep their meaning, nothing for the rest.
        """

        def register(func: AnswerMigration) -> AnswerMigration:
            if from_version in self.migrations:
                raise ValueError(f"a migration from version {from_version} is registered twice")
            self.migrations[from_version] = func
            return func

        return register

    def condition(
        self, name: str, *, reads: tuple[str, ...], values: ValueReads | None = None
    ) -> Callable[[ConditionFunction], ConditionFunction]:
        """Register a function as the condition `name`, reading the steps `reads` (and `values`)."""

        def register(func: ConditionFunction) -> ConditionFunction:
            if name in self.conditions:
                raise ValueError(f"condition {name!r} is registered twice")
            self.conditions[name] = Condition(name, func, reads, dict(values or {}))
            return func

        return register

    def document(
        self, document_id: str, build: DocumentFunction, *, item: str, reads: tuple[str, ...], values: ValueReads | None = None
    ) -> None:
        """Register a document builder (a function kept where it renders) for checklist item `item`."""
        if document_id in self.documents:
            raise ValueError(f"document {document_id!r} is registered twice")
        self.documents[document_id] = DocumentBuilder(document_id, item, build, reads, dict(values or {}))


# A migration of answers from an earlier version of a flow (see FlowCode.migration).
AnswerMigration = Callable[[Mapping[str, Any]], dict[str, Any]]

# What a loader is given: the code of each flow version by (flow id, version).
# A flow version without an entry has no Python code (it branches with predicates only).
CodeRegistry = Mapping[tuple[str, int], FlowCode]
