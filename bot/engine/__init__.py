"""The pure domain: flow definitions, the state machine, rules and prompts.

Imports neither Flask nor SQLAlchemy, so it runs (and is tested) without a server.
Everything it returns is keys (step ids, message contexts, error codes); each
surface localises at its edge. A flow version's Python code (conditions, document
builders) is passed to the loader, never read from a global.
"""

from .conditions import CodeRegistry, Condition, DocumentBuilder, FlowCode
from .errors import FlowError, TurnError
from .machine import TRIGGERS, EngineRegistry, FlowEngine
from .model import DONE, Flow, Msg, Step
from .parser import load_flow, load_flows, parse_flow
from .prompt import Prompt
from .rules import Checklist, ItemResult, RecommendationResult, derive_checklist, effective_answers

__all__ = [
    "DONE",
    "TRIGGERS",
    "Checklist",
    "CodeRegistry",
    "Condition",
    "DocumentBuilder",
    "EngineRegistry",
    "Flow",
    "FlowCode",
    "FlowEngine",
    "FlowError",
    "ItemResult",
    "Msg",
    "Prompt",
    "RecommendationResult",
    "Step",
    "TurnError",
    "derive_checklist",
    "effective_answers",
    "load_flow",
    "load_flows",
    "parse_flow",
]
