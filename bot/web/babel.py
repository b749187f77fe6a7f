"""Flask-Babel wiring: locale selection and the catalogs in locales/."""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import Babel

from ..i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, normalise_locale

babel = Babel()


def select_locale() -> str:
    """`?lang=` first, then the language of the assessment being shown, then the browser's, then German."""
    chosen = normalise_locale(request.args.get("lang")) or g.get("assessment_locale")
    if chosen:
        return chosen
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    """Attach Flask-Babel to the app, reading catalogs from LOCALES_DIR."""
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=app.config["LOCALES_DIR"])
