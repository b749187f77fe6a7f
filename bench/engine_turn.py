"""Benchmark: one engine turn in-process (restore state, trigger, derive prompt).

Target (DESIGN.md): median <= 50 us. Not a test: run `python bench/engine_turn.py`.
Each sample restores an assessment from stored data (state + answers, as a row
would give them), answers its current step and builds the next prompt, over
every turn of several complete conversations.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Figure
from bot.engine import DONE, EngineRegistry, FlowEngine, load_flows
from bot.engine.lint import answer_sets, play
from bot.flowcode import FLOW_CODE

TARGET_US = 50.0


def conversations(engine: FlowEngine, count: int) -> list[list[tuple[str, dict, object]]]:
    """Recorded turns (state, answers before, value) of `count` complete conversations."""
    out = []
    for answers in list(answer_sets(engine.flow))[:count]:
        _, path = play(engine, answers)
        turns, given = [], {}
        for step in path:
            value = answers.get(step, "ok")
            turns.append((step, dict(given), value))
            if value is not None:
                given[step] = value
        out.append(turns)
    return out


def main(rounds: int = 30) -> float:
    """Print the median (of the fastest round) and p95 (of all) of one turn, and return the median in microseconds."""
    engine = EngineRegistry(load_flows(Path(__file__).resolve().parent.parent / "flows", code=FLOW_CODE)).get("whatsapp_gdpr")  # the latest version
    recorded = conversations(engine, 24)
    clock = time.perf_counter_ns
    rounds_ns: list[list[int]] = []
    for _ in range(rounds):
        samples = []
        for turns in recorded:
            for state, answers, value in turns:
                started = clock()
                model = SimpleNamespace(state=state, answers=dict(answers))  # restore
                if value is None:
                    engine.skip(model, state)
                else:
                    engine.answer(model, state, value)
                prompt = engine.prompt(model)
                samples.append(clock() - started)
                assert prompt.step == model.state or model.state == DONE
        rounds_ns.append(samples)
    # The fastest round's median, as timeit advises: the slower rounds measure the other tenants of a shared machine.
    median = min(statistics.median(samples) for samples in rounds_ns) / 1000
    p95 = statistics.quantiles([x for samples in rounds_ns for x in samples], n=20)[-1] / 1000
    samples = [x for samples in rounds_ns for x in samples]
    print(f"engine turn: {len(samples)} turns, median {median:.1f} us, p95 {p95:.1f} us")
    print(figure(median).line())
    return median


def figure(median_us: float) -> Figure:
    """The median engine turn against its target."""
    return Figure("engine turn in-process, median", median_us, "us", TARGET_US)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
