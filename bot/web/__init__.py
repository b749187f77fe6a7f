"""Thin Flask adapters: each blueprint localises and renders what the engine returns."""

from __future__ import annotations

from flask import current_app, g

from ..turns import TurnService


def turn_service() -> TurnService:
    """The turn service of the current request (on the request's database session)."""
    if "turn_service" not in g:
        from ..store.db import session

        idle_days = int(current_app.config.get("ASSESSMENT_IDLE_DAYS") or 30)
        review_days = int(current_app.config.get("REVIEW_INTERVAL_DAYS") or 365)
        g.turn_service = TurnService(session(), current_app.extensions["engines"], idle_days, review_days)
    return g.turn_service
