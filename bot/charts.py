"""Server-rendered SVG charts of an organisation's progress: a line chart per organisation and a sparkline per portfolio row.

Pure functions from the progress entries (`tracking.progress`: one entry per day,
`{"day", "counts"}`, counts None before the first snapshot) to an SVG string. The
charts read without colour: each line has its own dash pattern and a direct label
at its end (with a sample of its pattern), and the SVG carries a `<title>` and a
`<desc>`; the page shows the same numbers in a table. No script, no fonts, no
requests: the markup is built with ElementTree, so every text in it is escaped.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

SVG_NS = "http://www.w3.org/2000/svg"


@dataclass(frozen=True)
class Style:
    """How one line is drawn: its dash pattern (the difference without colour), colour and width."""

    dash: str
    colour: str
    width: float


# The five lines of the progress chart, in the order they are drawn and tabled.
# Colours have at least 4.5:1 contrast on white (their labels are text); the dash patterns differ from each other.
SERIES: dict[str, Style] = {
    "critical": Style("", "#b3261e", 3.0),
    "open": Style("9 5", "#8a4b00", 2.5),
    "done": Style("2 4", "#0b6e4f", 2.5),
    "closed": Style("12 4 3 4", "#1f4e8c", 2.5),
    "risk_accepted": Style("5 3 1 3 1 3", "#6a3d8f", 2.0),
}

# The sparkline's shorter dash patterns (its lines are short).
SPARK_DASH = {"critical": "", "open": "4 2", "done": "1 2", "closed": "6 2 1 2", "risk_accepted": "2 1"}


def value_of(counts: Mapping[str, Any] | None, key: str) -> int | None:
    """One series' value in a snapshot's counts (None before the first snapshot)."""
    if counts is None:
        return None
    if key == "risk_accepted":
        return int(counts.get("risk_accepted", 0))
    if key == "closed":
        return int(counts.get("workflow", {}).get("closed", 0))
    return int(counts.get("status", {}).get(key, 0))


def series_of(entries: Sequence[Mapping[str, Any]], keys: Sequence[str] = tuple(SERIES)) -> dict[str, list[int | None]]:
    """The values of each series, one per entry (day)."""
    return {key: [value_of(e["counts"], key) for e in entries] for key in keys}


def nice_ceiling(value: int, ticks: int = 4) -> tuple[int, int]:
    """A round top of the value axis and its step (1, 2 or 5 times a power of ten), so that about `ticks` steps cover `value`."""
    raw = max(value, 1) / ticks
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(int(step), 1)
    return step * max(math.ceil(value / step), 1), step


def _fmt(number: float) -> str:
    """A coordinate with at most one decimal (keeps the markup short)."""
    return f"{number:.1f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, title: str, desc: str, chart_id: str, css_class: str) -> ET.Element:
    """The outer element, labelled by its title and description."""
    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "viewBox": f"0 0 {width} {height}",
            "width": str(width),
            "height": str(height),
            "class": css_class,
            "role": "img",
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
            "focusable": "false",
        },
    )
    ET.SubElement(root, "title", {"id": f"{chart_id}-title"}).text = title
    ET.SubElement(root, "desc", {"id": f"{chart_id}-desc"}).text = desc
    return root


def _runs(values: Sequence[int | None]) -> list[list[tuple[int, int]]]:
    """The stretches of days with a value (a line breaks where there is none)."""
    runs: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for index, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((index, value))
    if current:
        runs.append(current)
    return runs


LINE_HEIGHT = 18  # of the direct labels' lines, at the chart's font size
LABEL_WRAP = 15  # characters per label line: a long label takes two lines instead of widening the chart
CHAR_WIDTH = 9  # a generous average width of a character at the chart's font size


def wrap(label: str, width: int = LABEL_WRAP) -> list[str]:
    """A label broken into lines of about `width` characters at spaces (a longer word keeps its own line)."""
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _corners(run: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The points where a line bends: a stretch of equal values is straight, so only its ends are drawn (the same line, far less markup)."""
    return [p for i, p in enumerate(run) if i in (0, len(run) - 1) or run[i - 1][1] != p[1] or run[i + 1][1] != p[1]]


def _spread(wanted: Sequence[float], heights: Sequence[float], low: float, high: float) -> list[float]:
    """Label positions as close as possible to `wanted` (sorted ascending) without overlapping (each takes its height), within [low, high]."""
    placed: list[float] = []
    for index, y in enumerate(wanted):
        placed.append(max(y, placed[-1] + heights[index - 1]) if placed else max(y, low))
    # Pushed past the bottom: move the stack back up, keeping the labels apart.
    overflow = placed[-1] + heights[-1] - LINE_HEIGHT - high if placed else 0
    if overflow > 0:
        placed[-1] -= overflow
        for i in range(len(placed) - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - heights[i])
    return placed


def progress_chart(
    entries: Sequence[Mapping[str, Any]],
    labels: Mapping[str, str],
    title: str,
    desc: str,
    format_day: Callable[[date], str],
    chart_id: str = "progress-chart",
) -> str:
    """The progress line chart: one line per series in `labels` (keys of SERIES), days along the bottom, counts up the side."""
    keys = [key for key in SERIES if key in labels]
    values = series_of(entries, keys)
    lasts = {key: next((v for v in reversed(values[key]) if v is not None), None) for key in keys}
    texts = {key: wrap(labels[key]) for key in keys if lasts[key] is not None}
    for key, lines in texts.items():
        lines[-1] += f": {lasts[key]}"  # the number stays beside the name's last word
    longest = max((len(line) for lines in texts.values() for line in lines), default=0)
    # The plot keeps its size; the room on the right fits the longest label line, so no label is cut off.
    left, top, bottom, plot_w, plot_h = 34, 14, 36, 300, 230
    label_x = left + plot_w + 12
    width, height = label_x + 31 + CHAR_WIDTH * longest + 4, top + plot_h + bottom
    days = [date.fromisoformat(e["day"]) for e in entries]
    highest = max((v for vs in values.values() for v in vs if v is not None), default=0)
    top_value, step = nice_ceiling(highest)

    def x(index: int) -> float:
        return left + (plot_w * index / (len(days) - 1) if len(days) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / top_value

    root = _svg(width, height, title, desc, chart_id, "chart")
    root.set("font-size", "16")
    root.set("font-family", "system-ui, sans-serif")
    axis = ET.SubElement(root, "g", {"class": "axis", "fill": "#4a5663"})
    for tick in range(0, top_value + 1, step):
        ET.SubElement(axis, "line", {"x1": _fmt(left), "x2": _fmt(left + plot_w), "y1": _fmt(y(tick)), "y2": _fmt(y(tick)), "stroke": "#d9dde1"})
        ET.SubElement(axis, "text", {"x": _fmt(left - 6), "y": _fmt(y(tick) + 5), "text-anchor": "end"}).text = str(tick)
    if days:
        # Three dates at most: the first, the middle and the last day (more would collide on a phone).
        ticks = sorted({0, (len(days) - 1) // 2, len(days) - 1})
        for position, index in enumerate(ticks):
            anchor = "start" if position == 0 and len(ticks) > 1 else "end" if position == len(ticks) - 1 and len(ticks) > 1 else "middle"
            tick_line = {"x1": _fmt(x(index)), "x2": _fmt(x(index)), "y1": _fmt(top + plot_h), "y2": _fmt(top + plot_h + 5), "stroke": "#4a5663"}
            ET.SubElement(axis, "line", tick_line)
            ET.SubElement(axis, "text", {"x": _fmt(x(index)), "y": _fmt(height - 10), "text-anchor": anchor}).text = format_day(days[index])
    ET.SubElement(axis, "line", {"x1": _fmt(left), "x2": _fmt(left + plot_w), "y1": _fmt(top + plot_h), "y2": _fmt(top + plot_h), "stroke": "#4a5663"})

    for key in keys:
        style = SERIES[key]
        group = ET.SubElement(root, "g", {"class": f"series series-{key}", "data-series": key})
        for run in _runs(values[key]):
            if len(run) == 1:  # a single day: a dot, since a line of one point draws nothing
                index, value = run[0]
                ET.SubElement(group, "circle", {"cx": _fmt(x(index)), "cy": _fmt(y(value)), "r": "3.5", "fill": style.colour})
                continue
            points = " ".join(f"{_fmt(x(i))},{_fmt(y(v))}" for i, v in _corners(run))
            attributes = {"points": points, "fill": "none", "stroke": style.colour, "stroke-width": _fmt(style.width), "stroke-linejoin": "round"}
            if style.dash:
                attributes["stroke-dasharray"] = style.dash
            ET.SubElement(group, "polyline", attributes)

    # Direct labels at the right end of the lines, each with a sample of its line's dash pattern, spread so they never overlap.
    ends = sorted((y(last), key) for key, last in lasts.items() if last is not None)
    heights = [LINE_HEIGHT * len(texts[key]) for _end, key in ends]
    placed = _spread([end for end, _ in ends], heights, top + 6, top + plot_h)
    for (end, key), label_y in zip(ends, placed, strict=True):
        style = SERIES[key]
        group = ET.SubElement(root, "g", {"class": "label", "data-label": key})
        sample = {"x1": _fmt(label_x), "x2": _fmt(label_x + 26), "y1": _fmt(label_y), "y2": _fmt(label_y), "stroke": style.colour}
        sample["stroke-width"] = _fmt(style.width)
        if style.dash:
            sample["stroke-dasharray"] = style.dash
        ET.SubElement(group, "line", sample)
        if abs(label_y - end) > 1:  # a thin leader from the line's end to its moved label
            ET.SubElement(group, "line", {"x1": _fmt(left + plot_w), "x2": _fmt(label_x - 2), "y1": _fmt(end), "y2": _fmt(label_y), "stroke": "#6b7784"})
        text = ET.SubElement(group, "text", {"y": _fmt(label_y + 5), "fill": style.colour})
        for number, line in enumerate(texts[key]):
            ET.SubElement(text, "tspan", {"x": _fmt(label_x + 31), "dy": "0" if number == 0 else str(LINE_HEIGHT)}).text = line
    return ET.tostring(root, encoding="unicode")


def sparkline(values: Mapping[str, Sequence[int | None]], title: str, chart_id: str, width: int = 120, height: int = 32) -> str:
    """A small trend line per series (keys of SERIES; their dash patterns tell them apart), without axes; the text beside it gives the numbers."""
    root = _svg(width, height, title, title, chart_id, "sparkline")
    root.set("aria-labelledby", f"{chart_id}-title")
    highest = max((v for vs in values.values() for v in vs if v is not None), default=0) or 1
    pad = 3

    def point(index: int, count: int, value: int) -> tuple[float, float]:
        px = pad + ((width - 2 * pad) * index / (count - 1) if count > 1 else (width - 2 * pad) / 2)
        return px, height - pad - (height - 2 * pad) * value / highest

    for key, series in values.items():
        style = SERIES[key]
        group = ET.SubElement(root, "g", {"data-series": key})
        for run in _runs(series):
            coords = [point(i, len(series), v) for i, v in _corners(run)]
            if len(coords) == 1:
                ET.SubElement(group, "circle", {"cx": _fmt(coords[0][0]), "cy": _fmt(coords[0][1]), "r": "2", "fill": style.colour})
                continue
            attributes = {"points": " ".join(f"{_fmt(a)},{_fmt(b)}" for a, b in coords), "fill": "none", "stroke": style.colour, "stroke-width": "1.6"}
            if SPARK_DASH.get(key):
                attributes["stroke-dasharray"] = SPARK_DASH[key]
            ET.SubElement(group, "polyline", attributes)
    return ET.tostring(root, encoding="unicode")


def change(values: Sequence[int | None]) -> tuple[int, int] | None:
    """The first and the last known value of a series in the window (None without any)."""
    known = [v for v in values if v is not None]
    return (known[0], known[-1]) if known else None
