"""Named conditions that flow files refer to: plain Python functions, never eval.

Each condition takes the answers (a mapping of step id to value) and returns a bool.
A condition must hold only when every step it reads was itself asked, so that a
stale answer of a step that is no longer on the path can never switch it on
(for example `provider` after the channel was changed to the App). That is why
the conditions below build on each other. Each one declares the steps it reads;
`flows check` uses that to enumerate every path of a flow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Answers = Mapping[str, Any]


@dataclass(frozen=True)
class Condition:
    """A registered condition: its name, the function and the steps it reads."""

    name: str
    func: Callable[[Answers], bool]
    reads: tuple[str, ...]

    def __call__(self, answers: Answers) -> bool:
        """Evaluate the condition on a set of answers."""
        return self.func(answers)


CONDITIONS: dict[str, Condition] = {}


def condition(name: str, *, reads: tuple[str, ...]) -> Callable[[Callable[[Answers], bool]], Callable[[Answers], bool]]:
    """Register a function as the condition `name`, reading the steps `reads`."""

    def register(func: Callable[[Answers], bool]) -> Callable[[Answers], bool]:
        if name in CONDITIONS:
            raise ValueError(f"condition {name!r} is registered twice")
        CONDITIONS[name] = Condition(name, func, reads)
        return func

    return register


APP_CHANNELS = frozenset({"business_app", "coexistence"})
PLATFORM_CHANNELS = frozenset({"business_platform", "coexistence"})


@condition("not_internal", reads=("purpose",))
def not_internal(a: Answers) -> bool:
    """WhatsApp is (also) meant for customers: purpose is not `internal`."""
    return a.get("purpose") != "internal"


@condition("has_channel", reads=("purpose", "channel"))
def has_channel(a: Answers) -> bool:
    """A WhatsApp channel was chosen for customers (channel is not `none`)."""
    return not_internal(a) and a.get("channel") not in (None, "none")


@condition("app_side", reads=("purpose", "channel"))
def app_side(a: Answers) -> bool:
    """The Business App is used: channel is `business_app` or `coexistence`."""
    return not_internal(a) and a.get("channel") in APP_CHANNELS


@condition("platform_side", reads=("purpose", "channel"))
def platform_side(a: Answers) -> bool:
    """The Business Platform is used: `business_platform` or `coexistence`."""
    return not_internal(a) and a.get("channel") in PLATFORM_CHANNELS


@condition("business_platform", reads=("purpose", "channel"))
def business_platform(a: Answers) -> bool:
    """Only the Business Platform is used (no coexistence)."""
    return not_internal(a) and a.get("channel") == "business_platform"


@condition("coexistence", reads=("purpose", "channel"))
def coexistence(a: Answers) -> bool:
    """The same number runs in the App and on the Platform."""
    return not_internal(a) and a.get("channel") == "coexistence"


@condition("uses_bsp", reads=("purpose", "channel", "provider"))
def uses_bsp(a: Answers) -> bool:
    """The Platform is reached through a Business Solution Provider."""
    return platform_side(a) and a.get("provider") == "bsp"


@condition("asks_optin", reads=("purpose", "channel", "initiator"))
def asks_optin(a: Answers) -> bool:
    """The business writes first (service updates or marketing) on a channel."""
    return has_channel(a) and a.get("initiator") != "customers_only"


@condition("uses_bot", reads=("purpose", "channel", "integrations"))
def uses_bot(a: Answers) -> bool:
    """A chatbot or AI assistant answers on the chosen channel."""
    return has_channel(a) and "bot" in (a.get("integrations") or ())


@condition("dpia_required", reads=("purpose", "sensitive_data", "integrations", "initiator", "agents"))
def dpia_required(a: Answers) -> bool:
    """A DPIA is required: sensitive data, a bot, or marketing by many agents."""
    if not not_internal(a):
        return False
    return (
        a.get("sensitive_data") == "yes"
        or "bot" in (a.get("integrations") or ())
        or (a.get("initiator") == "marketing" and a.get("agents") == "many")
    )


@condition("dpo_required", reads=("purpose", "staff_processing", "sensitive_data", "integrations", "initiator", "agents"))
def dpo_required(a: Answers) -> bool:
    """A data protection officer is required (§ 38 BDSG): 20+ people or a DPIA."""
    return (not_internal(a) and a.get("staff_processing") == "20_or_more") or dpia_required(a)
