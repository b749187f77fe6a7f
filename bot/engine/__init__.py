"""The pure domain: flow definitions, the state machine, rules and prompts.

Imports neither Flask nor SQLAlchemy, so it runs (and is tested) without a server.
Everything it returns is keys (step ids, message contexts, error codes); each
surface localises at its edge.
"""

from .definition import DONE, Flow, Msg, load_flow, load_flows, parse_flow
from .errors import FlowError, TurnError
from .machine import TRIGGERS, EngineRegistry, FlowEngine
from .prompt import Prompt
from .rules import Checklist, ItemResult, RecommendationResult, derive_checklist, effective_answers

__all__ = [
    "DONE",
    "TRIGGERS",
    "Checklist",
    "EngineRegistry",
    "Flow",
    "FlowEngine",
    "FlowError",
    "ItemResult",
    "Msg",
    "Prompt",
    "RecommendationResult",
    "TurnError",
    "derive_checklist",
    "effective_answers",
    "load_flow",
    "load_flows",
    "parse_flow",
]
