"""One line per measured figure: the value, its target and PASS or FAIL, the same way in every benchmark."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    """A measured value against its target: `value <= target` (at_most) or `value >= target`."""

    name: str
    value: float
    unit: str
    target: float
    at_most: bool = True
    detail: str = ""

    @property
    def passed(self) -> bool:
        """Whether the value meets its target."""
        return self.value <= self.target if self.at_most else self.value >= self.target

    def line(self) -> str:
        """`PASS  name  value unit  (target <= x unit)  detail`."""
        sign = "<=" if self.at_most else ">="
        value = f"{_number(self.value)} {self.unit}".strip()
        target = f"{sign} {_number(self.target)} {self.unit}".strip()
        detail = f"  {self.detail}" if self.detail else ""
        return f"  {'PASS' if self.passed else 'FAIL'}  {self.name:<58} {value:>12}  (target {target}){detail}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the verdict."""
        return {**asdict(self), "passed": self.passed}


def _number(value: float) -> str:
    if value == int(value) and abs(value) >= 10:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def timings_ms(action: Callable[[], Any], rounds: int) -> list[float]:
    """Run `action` `rounds` times; the durations in milliseconds."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def median(samples: list[float]) -> float:
    """The median (0 for none)."""
    return statistics.median(samples) if samples else 0.0


def p95(samples: list[float]) -> float:
    """The 95th percentile (nearest rank: with 20 samples the second largest, with fewer the largest)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def summary(figures: list[Figure]) -> str:
    """`N figures: P pass, F fail` and the failing names."""
    failed = [f.name for f in figures if not f.passed]
    head = f"{len(figures)} figures: {len(figures) - len(failed)} PASS, {len(failed)} FAIL"
    return head + ("" if not failed else "\n  failing: " + "; ".join(failed))
