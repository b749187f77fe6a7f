"""A person using the wizard through HTTP only: reads the page, fills the form, presses a button."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup
from werkzeug.datastructures import MultiDict


@dataclass
class WizardUser:
    """Follows redirects like a browser without JavaScript and keeps the current page."""

    client: Any
    page: BeautifulSoup | None = None
    status: int = 0
    url: str = ""
    posts: list[tuple[str, int]] = field(default_factory=list)  # (form action, status) of every post

    def open(self, url: str, headers: dict[str, str] | None = None) -> WizardUser:
        """GET a page, following 303s."""
        response = self.client.get(url, headers=headers or {})
        return self._take(url, response)

    def start(self, url: str, headers: dict[str, str] | None = None) -> WizardUser:
        """Open a wizard link (its start page) and press Start, as a person would."""
        self.open(url, headers=headers)
        form = self.page.find("form", class_="start")
        assert form is not None, f"no start form at {url} ({self.status})"
        data = [(i["name"], i.get("value", "")) for i in form.find_all("input", type="hidden")] + [("action", "start")]
        response = self.client.post(form["action"], data=MultiDict(data), headers=headers or {})
        self.posts.append((form["action"], response.status_code))
        return self._take(form["action"], response)

    def _take(self, url: str, response: Any) -> WizardUser:
        while response.status_code in (302, 303):
            url = response.headers["Location"]
            response = self.client.get(url)
        self.url, self.status = url, response.status_code
        self.page = BeautifulSoup(response.data.decode("utf-8"), "html.parser")
        return self

    @property
    def step(self) -> str:
        """The step id the page shows (`done` for the summary)."""
        return self.page.find("main")["data-step"]

    @property
    def token(self) -> str:
        """The assessment token from the page's address."""
        return self.url.split("/w/a/", 1)[1].split("?")[0]

    def form(self) -> Any:
        """The step form."""
        return self.page.find("form", class_="step")

    def fields(self, form: Any | None = None) -> list[tuple[str, str]]:
        """The hidden fields of a form (CSRF token, step, from)."""
        form = form or self.form()
        return [(i["name"], i.get("value", "")) for i in form.find_all("input", type="hidden")]

    def options(self) -> list[str]:
        """The option values offered (radio buttons or checkboxes named `value`)."""
        return [i["value"] for i in self.form().find_all("input", attrs={"name": "value"}) if i.get("type") in ("radio", "checkbox")]

    def checked(self) -> list[str]:
        """The options pre-selected on the page."""
        return [i["value"] for i in self.form().find_all("input", attrs={"name": "value"}) if i.has_attr("checked")]

    def buttons(self) -> list[str]:
        """The actions offered by the step form."""
        return [b["value"] for b in self.form().find_all("button", attrs={"name": "action"})]

    def press(self, action: str = "next", value: Any = None, fields: list[tuple[str, str]] | None = None) -> WizardUser:
        """Fill in `value` (a string, a list for checkboxes, or None) and press the button `action`."""
        form = self.form()
        assert action in self.buttons(), f"no {action!r} button on {self.step}: {self.buttons()}"
        data = list(fields if fields is not None else self.fields(form))
        if isinstance(value, list):
            data += [("value", v) for v in value]
        elif value is not None:
            data.append(("value", value))
        data.append(("action", action))
        response = self.client.post(form["action"], data=MultiDict(data))
        self.posts.append((form["action"], response.status_code))
        return self._take(form["action"], response)

    def change(self, step: str) -> WizardUser:
        """Press "Change" next to an answer on the summary."""
        row = self.page.find(attrs={"data-answer": step})
        assert row is not None, f"no answer row for {step}"
        form = row.find("form")
        response = self.client.post(form["action"], data=MultiDict(self.fields(form)))
        return self._take(form["action"], response)

    def finish(self, answers: dict[str, Any]) -> list[str]:
        """Answer each page from `answers` (info: continue; optional without an answer: skip) until the summary."""
        steps = []
        while self.step != "done":
            steps.append(self.step)
            kind = self.form()["class"][1].removeprefix("step-")
            if self.step in answers:
                self.press("next", answers[self.step])
            elif kind == "info":
                self.press("next")
            else:
                self.press("skip")
            assert self.status == 200, (steps[-1], self.status, self.error())
            assert len(steps) < 100
        return steps

    def error(self) -> str | None:
        """The text of the error summary, if the page shows one."""
        summary = self.page.find(id="error-summary")
        return summary.get_text(" ", strip=True) if summary else None

    def statuses(self) -> dict[str, str]:
        """The checklist item statuses on the summary page."""
        return {li["data-item"]: li["data-status"] for li in self.page.find_all("li", attrs={"data-item": True})}
