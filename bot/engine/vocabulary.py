"""The fixed vocabularies of the product, defined once: statuses, step kinds, turn actions, error codes, formats.

Each is a `StrEnum`, so a member compares equal to its string value and serialises
as it in JSON; the OpenAPI document's enums are tested against these.
"""

from __future__ import annotations

from enum import StrEnum


class ItemStatus(StrEnum):
    """The status of a checklist item."""

    DONE = "done"
    OPEN = "open"
    CRITICAL = "critical"
    NOT_APPLICABLE = "not_applicable"


# How checklists list items: what needs doing first.
STATUS_ORDER: tuple[ItemStatus, ...] = (ItemStatus.CRITICAL, ItemStatus.OPEN, ItemStatus.DONE, ItemStatus.NOT_APPLICABLE)


class StepKind(StrEnum):
    """The kind of a step, and so of a prompt (`done` only for the finished flow's prompt)."""

    CHOICE = "choice"
    MULTI = "multi"
    TEXT = "text"
    INFO = "info"


class PromptKind(StrEnum):
    """The `kind` of a prompt: a step kind, or `done` when the flow is finished."""

    CHOICE = "choice"
    MULTI = "multi"
    TEXT = "text"
    INFO = "info"
    DONE = "done"


class TurnAction(StrEnum):
    """What a turn does (and what its history revision records)."""

    ANSWER = "answer"
    SKIP = "skip"
    BACK = "back"
    RESTART = "restart"
    AMEND = "amend"  # a manager changed an answer of the checklist of record


class Surface(StrEnum):
    """Where a turn came from; the public API calls this field `channel`."""

    API = "api"
    WIDGET = "widget"
    WIZARD = "wizard"
    MANAGE = "manage"  # the manager area (an amendment of the checklist of record)


class TurnErrorCode(StrEnum):
    """Why the engine or the turn service refused a turn."""

    STALE_STEP = "stale_step"
    INVALID_VALUE = "invalid_value"
    EXCLUSIVE_OPTION = "exclusive_option"
    EMPTY_SELECTION = "empty_selection"
    WRONG_TYPE = "wrong_type"
    VALUE_REQUIRED = "value_required"
    TEXT_TOO_LONG = "text_too_long"
    INVALID_EMAIL = "invalid_email"
    INVALID_URL = "invalid_url"
    NOT_OPTIONAL = "not_optional"
    NO_PREVIOUS_STEP = "no_previous_step"
    FLOW_FINISHED = "flow_finished"
    UNKNOWN_STEP = "unknown_step"
    UNKNOWN_TRIGGER = "unknown_trigger"
    FLOW_UNAVAILABLE = "flow_unavailable"
    ASSESSMENT_CLOSED = "assessment_closed"
    STEP_NOT_ASKED = "step_not_asked"
    AMENDMENT_OPENS_STEPS = "amendment_opens_steps"


# Refusals about the state (someone else moved on, the flow is over or closed), not about the value.
CONFLICT_CODES = frozenset({TurnErrorCode.STALE_STEP, TurnErrorCode.FLOW_FINISHED, TurnErrorCode.NO_PREVIOUS_STEP, TurnErrorCode.ASSESSMENT_CLOSED})


class StartedVia(StrEnum):
    """How an assessment was started, and so whose result it is."""

    PUBLIC = "public"  # the public embed key: a self-assessment, the respondent's own
    RESPONDENT_LINK = "respondent_link"  # a manager's respondent link: the organisation's own people
    REASSESSMENT = "reassessment"  # a manager's re-assessment of the checklist of record
    LEGACY = "legacy"  # before respondent links existed (kept as the organisation's record)


class ExportFormat(StrEnum):
    """A checklist export's format, named by its file extension."""

    PDF = "pdf"
    CSV = "csv"
    XLSX = "xlsx"
    MD = "md"
    JSON = "json"
