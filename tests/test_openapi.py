"""The OpenAPI document: valid, complete, and served."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from bot.engine.vocabulary import ExportFormat, ItemStatus, PromptKind, Surface, TurnAction
from bot.evidence_files import EXTENSIONS
from bot.exporters import formats
from bot.store.tracking import WORKFLOW_STATES
from bot.web.api import API_SURFACES
from bot.web.openapi import document
from tests.apiclient import openapi_path


def test_the_document_is_valid_openapi():
    validate(document())


def test_every_api_route_is_documented_and_nothing_else(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = openapi_path(rule.rule)
            routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in document()["paths"].items() for method in item if method in ("get", "post", "patch", "put", "delete")}
    assert routes == documented


def test_every_operation_documents_its_errors():
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            if path.startswith("/api/v1/orgs"):
                assert "401" in codes, (path, method)
            if path.startswith("/api/v1/assessments"):
                assert "404" in codes, (path, method)
            if method in ("post", "patch"):
                assert {"400", "413", "415"} <= codes, (path, method)
            if path.startswith("/api/v1/assessments") and method in ("post", "patch"):
                assert "429" in codes, (path, method)  # creation and turns are rate limited


def test_served_as_json(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == document()


def _schemas() -> dict:
    return document()["components"]["schemas"]


@pytest.mark.parametrize(
    ("where", "vocabulary"),
    [
        (lambda doc, s: s["Prompt"]["properties"]["kind"]["enum"], PromptKind),
        (lambda doc, s: s["ChecklistItem"]["properties"]["status"]["enum"], ItemStatus),
        (lambda doc, s: s["ItemView"]["properties"]["derivation"]["properties"]["status"]["enum"], ItemStatus),
        (lambda doc, s: s["History"]["properties"]["revisions"]["items"]["properties"]["action"]["enum"], TurnAction),
        (lambda doc, s: s["Surface"]["enum"], Surface),
        (lambda doc, s: next(p for p in doc["paths"]["/api/v1/orgs/{slug}/checklist.{fmt}"]["parameters"] if p.get("name") == "fmt")["schema"]["enum"],
         ExportFormat),
    ],
    ids=["prompt kind", "item status", "derivation status", "turn action", "surface", "export format"],
)
def test_the_documents_enums_are_the_codes_vocabularies(where, vocabulary):
    """Each fixed vocabulary is defined once (a StrEnum); the OpenAPI document lists exactly its values."""
    doc = document()
    assert where(doc, doc["components"]["schemas"]) == [member.value for member in vocabulary]


def test_the_workflow_states_are_the_stores():
    assert _schemas()["Workflow"]["enum"] == list(WORKFLOW_STATES)


def test_the_evidence_media_types_are_the_accepted_ones():
    """The download's documented types are exactly the types an upload is accepted as."""
    documented = set(document()["paths"]["/api/v1/orgs/{slug}/evidence/{evidence_id}"]["get"]["responses"]["200"]["content"]) - {"application/json"}
    assert documented == {media_type.split(";")[0] for media_type in EXTENSIONS}
    assert set(_schemas()["Evidence"]["properties"]["media_type"]["enum"]) == {*EXTENSIONS, None}


def test_the_chat_api_accepts_exactly_its_surfaces():
    assert _schemas()["Channel"]["enum"] == [str(s) for s in API_SURFACES]


def test_every_export_format_has_an_exporter():
    assert set(formats()) == set(ExportFormat)
