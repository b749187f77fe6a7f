"""A test client for the JSON API that checks every response against the OpenAPI document."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from bot.store.models import LINK_TOKEN_PREFIX
from bot.web.openapi import document

SPEC_URI = "urn:wa-onboarding:openapi"


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: <token> and <any(a, b):fmt> become {token} and {fmt}."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema validator whose refs resolve against the OpenAPI document."""
    registry: Registry = Registry().with_resource(SPEC_URI, Resource.opaque(document()))
    return Draft202012Validator(schema, registry=registry)


def _resolve(obj: dict[str, Any]) -> dict[str, Any]:
    """Follow one local `$ref` of the OpenAPI document."""
    while "$ref" in obj:
        node: Any = document()
        for part in obj["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def response_schema(rule: str, method: str, status: int) -> dict[str, Any] | None:
    """The JSON schema the OpenAPI document gives for a response, or None if none is documented."""
    path = openapi_path(rule)
    operation = document()["paths"][path][method.lower()]
    response = operation["responses"].get(str(status))
    assert response is not None, f"{method} {path}: status {status} is not documented"
    content = _resolve(response).get("content", {}).get("application/json")
    if content is None:
        return None
    return {"$ref": SPEC_URI + "#" + _pointer(content["schema"])} if "$ref" in content["schema"] else _inline(content["schema"])


def _pointer(schema: dict[str, Any]) -> str:
    return schema["$ref"].removeprefix("#")


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite local refs of an inline schema so they resolve against the document."""
    text = json.dumps(schema).replace('"$ref": "#/', f'"$ref": "{SPEC_URI}#/')
    return json.loads(text)


@dataclass
class Api:
    """Calls the app like a client would; every JSON response is checked against the OpenAPI document."""

    app: Any
    client: Any = None
    checked: list[tuple[str, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Use a fresh test client unless one is given."""
        if self.client is None:
            self.client = self.app.test_client()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Send a request (JSON `body`, or `raw` data) and validate the response."""
        kwargs: dict[str, Any] = {"headers": headers or {}}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = content_type
        elif raw is not None:
            kwargs["data"] = raw
            kwargs["content_type"] = content_type
        response = self.client.open(path, method=method, **kwargs)
        self.check(method, path, response)
        return response

    def check(self, method: str, path: str, response: Any) -> None:
        """Assert that the response is JSON matching the documented schema for its status (a 204: documented and empty)."""
        if response.status_code == 204:
            adapter = self.app.url_map.bind("localhost")
            rule, _args = adapter.match(path.split("?")[0], method=method, return_rule=True)
            assert response_schema(rule.rule, method, 204) is None and not response.data, path
            self.checked.append((rule.rule, method, 204))
            return
        assert response.mimetype == "application/json", (path, response.status_code, response.data[:200])
        if response.status_code == 405:  # no operation to look up: it is the generic error object
            rule_text = "-"
            schema: dict[str, Any] | None = {"$ref": SPEC_URI + "#/components/schemas/Error"}
        else:
            adapter = self.app.url_map.bind("localhost")
            rule, _args = adapter.match(path.split("?")[0], method=method, return_rule=True)
            rule_text = rule.rule
            schema = response_schema(rule_text, method, response.status_code)
        if schema is not None:
            errors = sorted(_validator(schema).iter_errors(response.get_json()), key=str)
            assert not errors, f"{method} {path} {response.status_code}: {errors[0].message} at {list(errors[0].absolute_path)}"
        self.checked.append((rule_text, method, response.status_code))

    # -- the chat API ----------------------------------------------------------------

    def start(self, key: str, locale: str | None = "en", **extra: Any) -> tuple[str, dict[str, Any]]:
        """Create an assessment from a respondent link (a `war_` token: trusted) or an embed key (a self-assessment); return its token and first prompt."""
        field = "respondent_link" if key.startswith(LINK_TOKEN_PREFIX) else "embed_key"
        body = {field: key, **({"locale": locale} if locale else {}), **extra}
        response = self.call("POST", "/api/v1/assessments", body)
        assert response.status_code == 201, response.get_json()
        data = response.get_json()
        return data["token"], data["prompt"]

    def answer(self, token: str, step: str, value: Any, **extra: Any) -> Any:
        """Answer a step; return the response."""
        return self.call("POST", f"/api/v1/assessments/{token}/answers", {"step": step, "value": value, **extra})

    def back(self, token: str, body: dict[str, Any] | None = None) -> Any:
        """Go back; return the response."""
        return self.call("POST", f"/api/v1/assessments/{token}/back", body)

    def get(self, token: str, lang: str | None = None) -> dict[str, Any]:
        """Resume an assessment."""
        response = self.call("GET", f"/api/v1/assessments/{token}" + (f"?lang={lang}" if lang else ""))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def finish(self, token: str, answers: dict[str, Any], prompt: dict[str, Any] | None = None) -> list[str]:
        """Answer prompts from `answers` (info: "ok"; optional steps not in `answers`: skipped) until done."""
        prompt = prompt or self.get(token)["prompt"]
        steps = []
        while prompt["kind"] != "done":
            step = prompt["step"]
            steps.append(step)
            if step in answers:
                value = answers[step]
            elif prompt["kind"] == "info":
                value = "ok"
            else:
                assert prompt["optional"], f"no answer for required step {step}"
                value = None
            response = self.answer(token, step, value)
            assert response.status_code == 200, response.get_json()
            prompt = response.get_json()["prompt"]
            assert len(steps) < 100, "the flow does not end"
        return steps

    # -- the manager API -------------------------------------------------------------

    def manager(self, path: str, token: str | None) -> Any:
        """GET a manager endpoint with a Bearer token (or none)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.call("GET", path, headers=headers)
