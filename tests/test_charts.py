"""The SVG progress chart and sparkline (bot/charts.py): well-formed, labelled, readable without colour, and drawn from the data."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from bot import charts

NS = "{http://www.w3.org/2000/svg}"
LABELS = {"critical": "Critical", "open": "To do", "done": "Done", "closed": "Closed (workflow)", "risk_accepted": "Risks accepted"}


def counts(critical: int, open_: int, done: int, closed: int = 0, risks: int = 0) -> dict:
    """A snapshot's counts."""
    return {
        "status": {"critical": critical, "open": open_, "done": done, "not_applicable": 2},
        "workflow": {"todo": 0, "in_progress": 0, "in_review": 0, "closed": closed},
        "risk_accepted": risks,
    }


def entries(values: list[dict | None], start: date = date(2026, 3, 1)) -> list[dict]:
    """Progress entries, one per day from `start`."""
    return [{"day": (start + timedelta(days=n)).isoformat(), "counts": c} for n, c in enumerate(values)]


def draw(values: list[dict | None], title: str = "Progress of ACME", desc: str = "What changed") -> ET.Element:
    """The chart of the entries, parsed (it must be well-formed XML)."""
    return ET.fromstring(charts.progress_chart(entries(values), LABELS, title, desc, lambda d: d.isoformat()))


def series(svg: ET.Element, key: str) -> ET.Element:
    """One line's group."""
    found = [g for g in svg.iter(f"{NS}g") if g.get("data-series") == key]
    assert len(found) == 1
    return found[0]


def label(svg: ET.Element, key: str) -> ET.Element:
    """One line's direct label."""
    found = [g for g in svg.iter(f"{NS}g") if g.get("data-label") == key]
    assert len(found) == 1
    return found[0]


def test_the_chart_is_well_formed_svg_with_a_title_and_a_description():
    svg = draw([counts(5, 3, 1), counts(4, 3, 2), counts(2, 3, 4, closed=2, risks=1)])
    assert svg.tag == f"{NS}svg" and svg.get("role") == "img"
    title, desc = svg.find(f"{NS}title"), svg.find(f"{NS}desc")
    assert (title.text, desc.text) == ("Progress of ACME", "What changed")
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert list(svg)[:2] == [title, desc]  # first, as assistive technology expects


def said(group: ET.Element) -> str:
    """A label's text, its lines joined."""
    return " ".join(group.find(f"{NS}text").itertext())


def test_each_line_differs_by_its_dash_pattern_and_carries_a_direct_label():
    svg = draw([counts(5, 3, 1), counts(4, 3, 2), counts(2, 3, 4, closed=2, risks=1)])
    patterns = [series(svg, key).find(f"{NS}polyline").get("stroke-dasharray") for key in LABELS]
    assert len(set(patterns)) == len(LABELS)  # readable without colour
    for key, name in LABELS.items():
        group = label(svg, key)
        sample = group.find(f"{NS}line")
        assert sample.get("stroke-dasharray") == series(svg, key).find(f"{NS}polyline").get("stroke-dasharray")  # the label shows its line's pattern
        assert said(group).startswith(f"{name}: ")
    assert said(label(svg, "critical")) == "Critical: 2" and said(label(svg, "closed")) == "Closed (workflow): 2"
    assert len(label(svg, "closed").findall(f".//{NS}tspan")) == 2  # a long label takes two lines rather than widening the chart


def test_the_chart_changes_with_the_data():
    first = draw([counts(5, 3, 1), counts(4, 3, 2)])
    second = draw([counts(5, 3, 1), counts(1, 3, 2)])
    assert ET.tostring(first) != ET.tostring(second)
    falling = [tuple(map(float, p.split(","))) for p in series(second, "critical").find(f"{NS}polyline").get("points").split()]
    assert falling[1][1] > falling[0][1]  # fewer critical items: the line goes down (SVG's y grows downwards)
    assert falling[1][0] > falling[0][0]  # later days to the right


def test_a_stretch_without_change_is_drawn_by_its_ends():
    svg = draw([counts(5, 3, 1)] * 30 + [counts(4, 3, 1)] * 30)
    critical = [tuple(map(float, p.split(","))) for p in series(svg, "critical").find(f"{NS}polyline").get("points").split()]
    assert len(critical) == 4 and critical[0][1] == critical[1][1] and critical[2][1] == critical[3][1] > critical[1][1]
    assert len(series(svg, "open").find(f"{NS}polyline").get("points").split()) == 2  # a flat line: its two ends


def test_days_before_the_first_snapshot_are_left_out_and_a_single_day_is_a_dot():
    svg = draw([None, None, counts(3, 2, 1), counts(2, 2, 2)])
    points = series(svg, "critical").find(f"{NS}polyline").get("points").split()
    assert len(points) == 2
    dot = draw([None, None, counts(3, 2, 1)])
    assert series(dot, "critical").find(f"{NS}polyline") is None and series(dot, "critical").find(f"{NS}circle") is not None


def test_a_chart_without_any_data_is_still_well_formed():
    svg = draw([None, None, None])
    assert svg.find(f"{NS}title").text == "Progress of ACME"
    assert not [g for g in svg.iter(f"{NS}g") if g.get("data-label")]


def test_labels_of_equal_lines_do_not_overlap_and_stay_inside():
    svg = draw([counts(3, 3, 3, closed=3, risks=3)] * 5)
    lines = sorted(float(t.get("y")) + float(span.get("dy")) * i for key in LABELS for t in label(svg, key).iter(f"{NS}text") for i, span in enumerate(t))
    assert len(lines) == 6  # "Closed (workflow): 3" takes two lines
    assert all(b - a >= 18 for a, b in itertools.pairwise(lines))
    width, height = (float(v) for v in svg.get("viewBox").split()[2:])
    assert all(0 <= y <= height for y in lines)
    longest = max(len(span.text) for key in LABELS for span in label(svg, key).iter(f"{NS}tspan"))
    assert float(label(svg, "closed").find(f".//{NS}tspan").get("x")) + 9 * longest <= width  # room for the longest line


def test_wrap_breaks_at_spaces():
    assert charts.wrap("Closed (work finished)") == ["Closed (work", "finished)"]
    assert charts.wrap("Kritisch") == ["Kritisch"]
    assert charts.wrap("Datenschutzfolgenabschätzung nötig") == ["Datenschutzfolgenabschätzung", "nötig"]


def test_the_value_axis_has_round_steps_above_the_highest_count():
    svg = draw([counts(0, 23, 0)])
    ticks = [int(t.text) for t in svg.iter(f"{NS}text") if t.text and t.text.isdigit()]
    assert ticks[0] == 0 and ticks[-1] >= 23 and len(set(b - a for a, b in itertools.pairwise(ticks))) == 1
    assert charts.nice_ceiling(0) == (1, 1) and charts.nice_ceiling(7) == (8, 2) and charts.nice_ceiling(26) == (30, 10)


def test_text_in_the_chart_is_escaped():
    raw = charts.progress_chart(entries([counts(1, 1, 1)]), {**LABELS, "critical": "<b>Kritisch</b>"}, "<script>alert(1)</script> & Co", "x", str)
    assert "<script>" not in raw and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in raw and "<b>" not in raw
    assert ET.fromstring(raw).find(f"{NS}title").text == "<script>alert(1)</script> & Co"


def test_only_the_lines_asked_for_are_drawn_and_dates_come_from_the_formatter():
    raw = charts.progress_chart(entries([counts(1, 2, 3)] * 10), {"critical": "Kritisch", "done": "Erledigt"}, "t", "d", lambda d: f"day {d.day}")
    svg = ET.fromstring(raw)
    assert {g.get("data-series") for g in svg.iter(f"{NS}g") if g.get("data-series")} == {"critical", "done"}
    assert "day 1" in raw and "day 10" in raw
    assert not re.search(r"<script|javascript:|href=", raw)  # nothing to run and nothing fetched


@pytest.mark.parametrize("values", [[3, 2, 1], [None, 4, 4], [5], [None, None]])
def test_the_sparkline_is_well_formed_and_titled(values):
    svg = ET.fromstring(charts.sparkline({"critical": values, "open": [1] * len(values)}, "Trend of <ACME>", "trend-1"))
    assert svg.find(f"{NS}title").text == "Trend of <ACME>" and svg.get("aria-labelledby") == "trend-1-title"
    assert {g.get("data-series") for g in svg.iter(f"{NS}g")} == {"critical", "open"}
    dashes = [p.get("stroke-dasharray") for p in svg.iter(f"{NS}polyline")]
    assert len(set(dashes)) == len(dashes)  # the two lines differ without colour


def test_change_is_the_first_and_last_known_value():
    assert charts.change([None, 5, 4, None, 2]) == (5, 2)
    assert charts.change([None, None]) is None
