"""What the manager API and the manager area both show: checklist reports, file downloads, documents.

One place builds the localised report of a completed assessment, so the JSON
endpoint, every export format and the manager's pages can never disagree.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Response, current_app

from ..documents import Document
from ..engine.vocabulary import ExportFormat
from ..exporters import Report, build_report, formats
from ..i18n import catalog
from ..results import respondent_result
from ..store.db import session
from ..store.models import Assessment, Organisation, utcnow
from ..store.profiles import empty_profile, profile_fields
from . import turn_service
from .versions import latest_version


def iso(value: datetime | None) -> str | None:
    """A timestamp in ISO 8601 (UTC), or None."""
    return value.isoformat() if value is not None else None


def org_ref(organisation: Organisation) -> dict[str, str]:
    """The short form of an organisation in responses."""
    return {"slug": organisation.slug, "name": organisation.name}


def checklist_report(organisation: Organisation, assessment: Assessment, locale: str) -> Report:
    """The localised report of a completed assessment (raises FlowUnavailableError).

    A public self-assessment's report is its respondent's: it names the business from
    their answers, not the organisation whose self-check they used.
    """
    engine = turn_service().engine_for(assessment)
    tr = catalog(locale, current_app.config["LOCALES_DIR"])
    answers = assessment.completed_answers or {}
    org = org_ref(organisation)
    if assessment.is_self_assessment and assessment.adopted_at is None:
        org = {"slug": "", "name": str(answers.get("company_name") or "")}
    context = {
        "org": org,
        "assessment": {
            "id": assessment.id,
            "started_at": iso(assessment.created_at),
            "completed_at": iso(assessment.completed_at),
            "flow": assessment.flow_id,
            "version": assessment.flow_version,
            # Higher than `version`: the checklist was made with an older version; exports and pages offer a re-assessment.
            "latest_version": latest_version(assessment.flow_id),
            "locale": assessment.locale,
        },
    }
    checklist = engine.checklist(answers)
    report = build_report(engine.flow, checklist, tr, locale, answers=answers, generated_at=utcnow(), **context)
    # What to do first and the chosen channel beside the recommendation: the same facts the respondent's end shows.
    report.data["result"] = respondent_result(engine, answers, tr, checklist).as_dict()
    return report


def export_response(organisation: Organisation, report: Report, fmt: str) -> Response:
    """A download of `report` in format `fmt`, named after the organisation and the day."""
    module = formats()[ExportFormat(fmt)]
    response = Response(module.render(report))
    response.headers["Content-Type"] = module.MEDIA_TYPE
    day = (report.generated_at or utcnow()).strftime("%Y-%m-%d")
    response.headers["Content-Disposition"] = attachment(f"wa-checklist-{organisation.slug}-{day}.{fmt}")
    response.headers["Cache-Control"] = "no-store"
    return response


def attachment(filename: str) -> str:
    """A `Content-Disposition: attachment` value for any file name (RFC 6266 with RFC 5987's `filename*`).

    Browsers that read `filename*` get the exact UTF-8 name; the plain `filename` is
    an ASCII fallback (accents dropped, anything else replaced by "_").
    """
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in ascii_name) or "download"
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        value += "; filename*=UTF-8''" + quote(filename, safe="")
    return value


def assessment_documents(organisation: Organisation, assessment: Assessment, tr: Any, only: tuple[str, ...] | None = None) -> list[Document]:
    """The ready-to-paste documents of a completed assessment, in `tr`'s language (raises FlowUnavailableError).

    Built by the document builders of the assessment's own flow version (a version-1
    assessment keeps version 1's texts), with the organisation's profile as it is now,
    except for a public self-assessment: its respondent is another business, so the
    organisation's profile is not theirs (its details stay visible placeholders).
    `only` limits the documents to these ids.
    """
    engine = turn_service().engine_for(assessment)
    profile = empty_profile() if assessment.is_self_assessment and assessment.adopted_at is None else profile_fields(session(), organisation)
    answers = assessment.completed_answers or {}
    return [builder.build(answers, tr, profile=profile) for builder in engine.flow.documents if only is None or builder.id in only]


def documents_data(report: Report, documents: list[Document]) -> dict[str, Any]:
    """The documents endpoint's body: the report's organisation, assessment and language, and the documents."""
    return {
        "org": report.data["org"],
        "assessment": report.data["assessment"],
        "locale": report.locale,
        "documents": [d.as_dict() for d in documents],
    }
