"""Markdown export: the recommendation and the checklist, critical items first."""

from __future__ import annotations

import re

from ..i18n import N_
from . import STATUS_ORDER, Report

MEDIA_TYPE = "text/markdown; charset=utf-8"
# Text never starts a line here (it follows "- label: " or "### "), so only
# inline syntax needs escaping: emphasis, code, links, HTML, tables, entities.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")

LABELS = {
    "recommendation": N_("Recommendation"),
    "reasons": N_("Reasons"),
    "summary": N_("Summary"),
    "legal_basis": N_("Legal basis"),
    "action": N_("What to do"),
    "evidence": N_("Evidence to file"),
    "answers": N_("Your answers"),
    "no_answer": N_("(no answer)"),
}


def escape(value: str) -> str:
    """Neutralise Markdown and HTML syntax in text so that it shows literally."""
    return _SPECIAL.sub(r"\\\1", value).replace("\n", " ")


def render(report: Report) -> str:
    """Render the report as Markdown."""
    say = report.tr.gettext  # not named gettext: the keys below are not messages to extract
    data, rec = report.data, report.recommendation
    out = [f"# {escape(report.flow_title)}", ""]
    org = data.get("org")
    if org:
        out += [f"**{escape(org['name'])}**", ""]
    notice = report.version_notice()
    if notice:
        out += [f"> **{escape(notice)}**", ""]
    out += [f"## {say(LABELS['recommendation'])}: {escape(rec['title'])}", "", escape(rec["text"]), ""]
    if rec["reasons"]:
        out += [f"**{say(LABELS['reasons'])}**", ""]
        out += [f"- {escape(r['id'])}: {escape(r['text'])}" for r in rec["reasons"]]
        out.append("")
    summary = data["summary"]
    counts = ", ".join(f"{report.status_labels[s]}: {summary[s]}" for s in STATUS_ORDER)
    out += [f"**{say(LABELS['summary'])}:** {counts}", ""]
    for status in STATUS_ORDER:
        items = [i for i in data["items"] if i["status"] == status]
        if not items:
            continue
        out += [f"## {report.status_labels[status]} ({len(items)})", ""]
        for item in items:
            out += [
                f"### {item['id']} {escape(item['title'])}",
                "",
                f"- {say(LABELS['legal_basis'])}: {escape(item['legal_basis'])}",
                f"- {say(LABELS['action'])}: {escape(item['action'])}",
                f"- {say(LABELS['evidence'])}: {escape(item['evidence'])}",
                "",
            ]
    if report.answers:
        out += [f"## {say(LABELS['answers'])}", ""]
        for answer in report.answers:
            shown = answer["answer"] if answer["answer"] is not None else say(LABELS["no_answer"])
            out.append(f"- {escape(answer['question'])}: {escape(shown)}")
    return "\n".join(out).rstrip() + "\n"
