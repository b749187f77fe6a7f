"""The manager area's rules on plain data: the review date, the attention order, the comparison of two assessments and of two flow versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from bot.engine import FlowCode, FlowEngine, parse_flow
from bot.review import (
    NEEDS_ANSWER,
    AnswerChange,
    AnsweredQuestion,
    Attention,
    ItemComparison,
    StatusChange,
    answer_changes,
    by_attention,
    compare_versions,
    item_reads,
    migrate_answers,
    open_steps,
    outdated,
    recommendation_reads,
    review_due,
    status_changes,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_a_review_is_due_twelve_months_after_the_last_confirmation():
    assert review_due(NOW - timedelta(days=365), NOW)
    assert not review_due(NOW - timedelta(days=365) + timedelta(seconds=1), NOW)
    assert not review_due(None, NOW)  # never completed: nothing to review
    assert review_due(NOW - timedelta(days=31), NOW, interval_days=30)  # REVIEW_INTERVAL_DAYS


def test_attention_orders_critical_items_then_due_reviews_then_never_completed_then_names():
    rows = [
        Attention("Zeta", critical=0, review_due=False, completed=True),
        Attention("alpha", critical=0, review_due=False, completed=True),
        Attention("Never", critical=0, review_due=False, completed=False),
        Attention("Due", critical=0, review_due=True, completed=True),
        Attention("One critical", critical=1, review_due=False, completed=True),
        Attention("Three critical", critical=3, review_due=True, completed=True),
    ]
    ordered = by_attention(rows, lambda row: row)
    assert [r.name for r in ordered] == ["Three critical", "One critical", "Due", "Never", "alpha", "Zeta"]


def test_by_attention_keeps_the_callers_rows():
    rows = [{"org": "b", "critical": 0}, {"org": "a", "critical": 2}]
    ordered = by_attention(rows, lambda row: Attention(row["org"], row["critical"], review_due=False, completed=True))
    assert ordered == [rows[1], rows[0]]


def test_answer_changes_in_flow_order_with_the_newer_wording():
    older = {
        "purpose": AnsweredQuestion("Why WhatsApp?", "Customers"),
        "device": AnsweredQuestion("Which device?", "Private phone"),
        "dropped": AnsweredQuestion("Old question", "Yes"),
    }
    newer = {
        "purpose": AnsweredQuestion("What do you use WhatsApp for?", "Customers"),
        "device": AnsweredQuestion("Which device? (new wording)", "Company phone"),
        "added": AnsweredQuestion("New question", "No"),
    }
    changes = answer_changes(["added", "purpose", "device", "dropped"], older, newer)
    assert changes == [
        AnswerChange("added", "New question", None, "No"),
        AnswerChange("device", "Which device? (new wording)", "Private phone", "Company phone"),
        AnswerChange("dropped", "Old question", "Yes", None),
    ]


def test_no_answer_changes_between_equal_assessments():
    same = {"purpose": AnsweredQuestion("Why?", "Customers")}
    assert answer_changes(["purpose", "unasked"], same, dict(same)) == []


def test_status_changes_follow_the_newer_checklist_and_name_new_items():
    older = {"dpa": "open", "imprint": "done", "retired": "critical"}
    newer = {"imprint": "critical", "dpa": "open", "new_item": "open"}
    assert status_changes(older, newer) == [StatusChange("imprint", "done", "critical"), StatusChange("new_item", None, "open")]
    assert status_changes(newer, newer) == []


# -- what a newer flow version changes -----------------------------------------------------------
# A small flow in two versions, shaped like whatsapp_gdpr's change: version 2 replaces a yes/no
# `regulated` with a `sector` that is asked again (its migration drops `regulated`), adds
# `safeguards` for one sector, and turns a missing imprint from critical into open.

SMALL_V1 = """
id: small
version: 1
source_locale: en
title: Small
sections: [{id: main, title: Main}]
steps:
  - {id: purpose, section: main, kind: choice, text: "Purpose?", options: [{value: customer, label: Customers}, {value: internal, label: Internal}]}
  - {id: regulated, section: main, kind: choice, text: "Regulated?", asked_when: [{step: purpose, in: [customer]}],
     options: [{value: "no", label: "No"}, {value: "yes", label: "Yes"}]}
  - {id: imprint, section: main, kind: choice, text: "Imprint?", asked_when: [{step: purpose, in: [customer]}],
     options: [{value: shown, label: Shown}, {value: missing, label: Missing}]}
  - {id: advice, section: main, kind: info, text: Advice, shows: recommendation, asked_when: [{step: purpose, in: [customer]}]}
recommendation:
  reasons: []
  values:
    - {value: restricted, title: Restricted, text: Restricted., when: [{step: regulated, in: ["yes"]}]}
    - {value: fine, title: Fine, text: Fine.}
status_actions: {done: Done., not_applicable: Does not apply.}
checklist:
  - {id: I-01, section: main, title: Imprint, legal_basis: x, action: x, evidence: x, applies_when: [{asked: imprint}],
     rules: [{status: critical, when: [{step: imprint, in: [missing]}]}], default: done}
  - {id: I-04, section: main, title: Internal, legal_basis: x, action: x, evidence: x,
     rules: [{status: open, when: [{step: purpose, in: [internal]}]}], default: done}
  - {id: I-05, section: main, title: Retired, legal_basis: x, action: x, evidence: x, rules: [], default: open}
finish: {text: Done., help: Done.}
"""

SMALL_V2 = """
id: small
version: 2
source_locale: en
title: Small
sections: [{id: main, title: Main}]
steps:
  - {id: purpose, section: main, kind: choice, text: "Purpose?", options: [{value: customer, label: Customers}, {value: internal, label: Internal}]}
  - {id: sector, section: main, kind: choice, text: "Sector?", asked_when: [{step: purpose, in: [customer]}],
     options: [{value: general, label: General}, {value: secret, label: Secrecy}]}
  - {id: imprint, section: main, kind: choice, text: "Imprint?", asked_when: [{step: purpose, in: [customer]}],
     options: [{value: shown, label: Shown}, {value: missing, label: Missing}]}
  - {id: safeguards, section: main, kind: choice, text: "Safeguards?", asked_when: [{step: sector, in: [secret]}],
     options: [{value: full, label: Full}, {value: none, label: None}]}
  - {id: advice, section: main, kind: info, text: Advice, shows: recommendation, asked_when: [{step: purpose, in: [customer]}]}
recommendation:
  reasons: []
  values:
    - {value: restricted, title: Restricted, text: Restricted., when: [{step: sector, in: [secret]}]}
    - {value: fine, title: Fine, text: Fine.}
status_actions: {done: Done., not_applicable: Does not apply.}
checklist:
  - {id: I-01, section: main, title: Imprint, legal_basis: x, action: x, evidence: x, applies_when: [{asked: imprint}],
     rules: [{status: open, when: [{step: imprint, in: [missing]}]}], default: done}
  - {id: I-02, section: main, title: Safeguards, legal_basis: x, action: x, evidence: x, applies_when: [{asked: safeguards}],
     rules: [{status: done, when: [{step: safeguards, in: [full]}]}], default: critical}
  - {id: I-03, section: main, title: Channel, legal_basis: x, action: x, evidence: x,
     rules: [{status: critical, when: [{recommendation: [restricted]}]}], default: done}
  - {id: I-04, section: main, title: Internal, legal_basis: x, action: x, evidence: x,
     rules: [{status: open, when: [{step: purpose, in: [internal]}]}], default: done}
finish: {text: Done., help: Done.}
"""

SMALL_V2_CODE = FlowCode()


@SMALL_V2_CODE.migration(from_version=1)
def _small_from_1(answers):
    """Everything but `regulated` carries over; `sector` is asked again."""
    return {step: value for step, value in answers.items() if step != "regulated"}


@pytest.fixture(scope="module")
def small():
    """The two versions of the small flow, each with its engine."""
    code = {("small", 2): SMALL_V2_CODE}
    return tuple(FlowEngine(parse_flow(yaml.safe_load(text), code=code)) for text in (SMALL_V1, SMALL_V2))


def test_an_item_read_by_a_question_the_migration_leaves_open_needs_an_answer(small):
    v1, v2 = small
    comparison = compare_versions(v1, v2, {"purpose": "customer", "regulated": "no", "imprint": "missing", "advice": "ok"})
    assert comparison.migrated == {"purpose": "customer", "imprint": "missing"}  # regulated dropped, the info step shown again
    assert comparison.open_steps == ("sector",)
    by_id = {item.id: item for item in comparison.items}
    assert by_id["I-01"] == ItemComparison("I-01", "critical", "open")  # decided by migrated answers alone: a status change
    # I-02 applies when safeguards is asked, which the open sector decides; I-03 reads the recommendation, which reads sector.
    assert by_id["I-02"] == ItemComparison("I-02", None, NEEDS_ANSWER, ("sector",))
    assert by_id["I-03"] == ItemComparison("I-03", None, NEEDS_ANSWER, ("sector",))
    assert by_id["I-04"] == ItemComparison("I-04", "done", "done") and not by_id["I-04"].changed
    assert by_id["I-05"] == ItemComparison("I-05", "open", None)  # no longer in version 2
    assert [item.id for item in comparison.items] == ["I-01", "I-02", "I-03", "I-04", "I-05"]
    assert [item.id for item in comparison.changed] == ["I-01", "I-02", "I-03", "I-05"]
    assert (comparison.recommendation_before, comparison.recommendation_after) == ("fine", NEEDS_ANSWER)
    assert (comparison.old_version, comparison.new_version) == (1, 2)


def test_nothing_needs_an_answer_when_the_open_question_is_off_the_path(small):
    v1, v2 = small
    comparison = compare_versions(v1, v2, {"purpose": "internal"})
    assert comparison.open_steps == ()
    after = {item.id: item.after for item in comparison.items}
    assert after == {"I-01": "not_applicable", "I-02": "not_applicable", "I-03": "done", "I-04": "open", "I-05": None}
    assert comparison.recommendation_after == "fine"


def test_the_rule_follows_asked_when_to_the_question_that_decides_a_step(small):
    _v1, v2 = small
    item = {i.id: i for i in v2.flow.checklist}
    assert item_reads(v2.flow, item["I-02"]) == {"safeguards", "sector", "purpose"}
    assert item_reads(v2.flow, item["I-03"]) == {"sector", "purpose"}  # through the recommendation
    assert item_reads(v2.flow, item["I-04"]) == {"purpose"}
    assert recommendation_reads(v2.flow) == {"sector", "purpose"}


def test_once_the_new_question_is_answered_the_item_has_a_status(small):
    _v1, v2 = small
    answers = {"purpose": "customer", "imprint": "shown", "sector": "secret"}
    assert open_steps(v2, answers) == ("safeguards",)  # the answer put a new step on the path
    assert compare_versions(v2, v2, {**answers, "safeguards": "none"}).items[1] == ItemComparison("I-02", "critical", "critical")


def test_migration_keeps_only_valid_answers_of_question_steps(small):
    v1, v2 = small
    assert migrate_answers(v2.flow, 1, {"purpose": "customer", "imprint": "gone", "advice": "ok", "regulated": "yes"}) == {"purpose": "customer"}
    assert migrate_answers(v2.flow, 2, {"purpose": "internal", "unknown": "x"}) == {"purpose": "internal"}
    assert migrate_answers(v1.flow, 2, {"purpose": "internal"}) is None  # nothing registered: no comparison
    assert compare_versions(v2, v1, {"purpose": "internal"}) is None


def test_an_older_version_comes_first_in_the_overview_with_its_reason():
    rows = [
        Attention("Critical", critical=5, review_due=True, completed=True),
        Attention("Old", critical=0, review_due=False, completed=True, outdated=True),
        Attention("Never", critical=0, review_due=False, completed=False),
    ]
    assert [r.name for r in by_attention(rows, lambda row: row)] == ["Old", "Critical", "Never"]
    assert [r.reasons() for r in rows] == [["critical", "review_due"], ["outdated"], ["never_completed"]]
    assert outdated(1, 2) and not outdated(2, 2) and not outdated(1, None)
