"""The engine's amendments of a completed assessment, item derivations and the answers that make an item done (pure, no database)."""

from __future__ import annotations

import pytest

from bot.engine import TurnError
from bot.engine.amendment import amend, asked_steps, derivation, fixes
from bot.engine.lint import answer_sets, play
from bot.engine.vocabulary import ItemStatus


def completed_answer_sets(engine, limit: int = 60):
    """Effective answers of finished walks through the flow."""
    out = []
    for answers in answer_sets(engine.flow):
        walker, _path = play(engine, dict(answers))
        if walker.state == "done":
            out.append(engine.effective_answers(walker.answers))
        if len(out) >= limit:
            break
    return out


@pytest.fixture(params=[1, 2], ids=["v1", "v2"])
def engine(request, app):
    """The engine of each flow version."""
    return app.extensions["engines"].get("whatsapp_gdpr", request.param)


def test_every_fix_really_makes_its_item_done_and_amend_agrees(engine):
    """An independent check: apply each offered fix and derive the checklist again."""
    checked = 0
    for answers in completed_answer_sets(engine, 25):
        for item in engine.checklist(answers).items:
            if item.status is ItemStatus.DONE:
                continue
            for fix in fixes(engine.flow, answers, item.id):
                changed = amend(engine.flow, answers, fix.step, fix.value)
                assert changed[fix.step] == fix.value
                assert next(i for i in engine.checklist(changed).items if i.id == item.id).status is ItemStatus.DONE
                # an amendment never leaves a required question on the path unanswered
                assert all(s.optional or s.kind == "info" or s.id in changed for s in asked_steps(engine.flow, changed))
                checked += 1
    assert checked > 20


def test_a_derivation_names_the_answers_the_status_rests_on(engine):
    for answers in completed_answer_sets(engine, 25):
        for item in engine.checklist(answers).items:
            why = derivation(engine.flow, answers, item.id)
            assert why.status is item.status
            for condition in why.conditions:
                if condition.kind == "step":
                    assert condition.actual == answers.get(condition.target)


def test_an_amendment_that_opens_unanswered_steps_is_refused(app):
    engine = app.extensions["engines"].get("whatsapp_gdpr", 2)
    for answers in completed_answer_sets(engine):
        if answers.get("channel") == "business_app":
            break
    else:
        pytest.fail("no walk with the Business App")
    with pytest.raises(TurnError) as refused:
        amend(engine.flow, answers, "channel", "business_platform")
    assert refused.value.code == "amendment_opens_steps"
    assert refused.value.params["steps"]  # the questions a re-assessment would ask


@pytest.mark.parametrize(
    ("step", "value", "code"),
    [
        ("no_such_step", "x", "step_not_asked"),
        ("channel", "carrier_pigeon", "invalid_value"),
        ("channel", 7, "wrong_type"),
        ("channel", None, "not_optional"),
    ],
)
def test_a_wrong_amendment_is_refused_like_a_turn(app, step, value, code):
    engine = app.extensions["engines"].get("whatsapp_gdpr", 2)
    answers = completed_answer_sets(engine, 1)[0]
    with pytest.raises(TurnError) as refused:
        amend(engine.flow, answers, step, value)
    assert refused.value.code == code


def test_a_step_off_the_path_cannot_be_amended(app):
    engine = app.extensions["engines"].get("whatsapp_gdpr", 2)
    for answers in completed_answer_sets(engine):
        off_path = [s for s in engine.flow.steps if s.kind != "info" and s not in asked_steps(engine.flow, answers)]
        if off_path:
            with pytest.raises(TurnError) as refused:
                amend(engine.flow, answers, off_path[0].id, off_path[0].options[0].value if off_path[0].options else "x")
            assert refused.value.code == "step_not_asked"
            return
    pytest.fail("every walk asks every step")
