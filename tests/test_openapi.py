"""The OpenAPI document: valid, complete, and served."""

from __future__ import annotations

from openapi_spec_validator import validate

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
