"""Markdown export: the recommendation and the checklist, critical items first (a manager's with each item's tracking)."""

from __future__ import annotations

import re
from typing import Any

from ..i18n import N_
from . import NEXT_REVIEW, RISK_ACCEPTED_COUNT, STATUS_ORDER, Report

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


def tracking_lines(report: Report, tracking: dict[str, Any]) -> list[str]:
    """An item's tracking as list lines (owner and due only when set; a risk acceptance in bold), people's text escaped."""
    out = []
    if tracking.get("owner"):
        out.append(f"- {report.label('owner')}: {escape(tracking['owner'])}")
    if tracking.get("due"):
        out.append(f"- {report.label('due')}: {escape(tracking['due'])}")
    out.append(f"- {report.label('workflow')}: {escape(report.workflow_label(tracking.get('workflow') or 'todo'))}")
    risk = tracking.get("risk_acceptance")
    if risk:
        out.append(f"- **{escape(report.risk_text(risk))}**")
    evidence = report.evidence_texts(tracking)
    if evidence:
        out.append(f"- {report.label('evidence_on_file')}: {'; '.join(escape(e) for e in evidence)}")
    if tracking.get("needs_review"):
        out.append(f"- **{report.label('needs_review')}**")
    return out


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
    review = report.review_due()
    if review:
        out += [f"{say(NEXT_REVIEW)}: {escape(review)}", ""]
    out += [f"## {say(LABELS['recommendation'])}: {escape(rec['title'])}", "", escape(rec["text"]), ""]
    if rec["reasons"]:
        out += [f"**{say(LABELS['reasons'])}**", ""]
        out += [f"- {escape(r['id'])}: {escape(r['text'])}" for r in rec["reasons"]]
        out.append("")
    summary = data["summary"]
    counts = ", ".join(f"{report.status_labels[s]}: {summary[s]}" for s in STATUS_ORDER)
    if report.tracked:
        counts += f", {say(RISK_ACCEPTED_COUNT)}: {summary.get('risk_accepted', 0)}"
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
                *(tracking_lines(report, item["tracking"]) if "tracking" in item else []),
                "",
            ]
    if report.answers:
        out += [f"## {say(LABELS['answers'])}", ""]
        for answer in report.answers:
            shown = answer["answer"] if answer["answer"] is not None else say(LABELS["no_answer"])
            out.append(f"- {escape(answer['question'])}: {escape(shown)}")
    return "\n".join(out).rstrip() + "\n"
