"""The manager area's rules on plain data: the review date, the attention order and the comparison of two assessments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.review import AnswerChange, AnsweredQuestion, Attention, StatusChange, answer_changes, by_attention, review_due, status_changes

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_a_review_is_due_twelve_months_after_completion():
    assert review_due(NOW - timedelta(days=365), NOW)
    assert not review_due(NOW - timedelta(days=365) + timedelta(seconds=1), NOW)
    assert not review_due(None, NOW)  # never completed: nothing to review
    assert review_due(NOW - timedelta(days=31), NOW, review_after=timedelta(days=30))


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
