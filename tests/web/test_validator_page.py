"""The /validator web page: token gate, validation results rendered as a table, escaping."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.settings import Settings
from hub.wiring import build_hub


@pytest.fixture()
def page(tmp_path: Path):  # type: ignore[no-untyped-def]
    hub = build_hub(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}", key_file=str(tmp_path / "k.pem")))
    client = TestClient(create_app(hub, run_worker=False))
    return client, hub


def test_page_needs_a_token(page) -> None:  # type: ignore[no-untyped-def]
    client, _ = page
    r = client.get("/validator")
    assert r.status_code == 401
    assert "token" in r.text.lower()
    r = client.post("/validator", data={"resource": "{}"})
    assert r.status_code == 401


def test_token_form_sets_cookie_and_invalid_resource_lists_issues(page) -> None:  # type: ignore[no-untyped-def]
    client, hub = page
    r = client.post("/validator/token", data={"token": hub.tokens.issue("me", "system/*.rs")}, follow_redirects=False)
    assert r.status_code == 303
    client.cookies.set("knutpunkt_token", r.cookies.get("knutpunkt_token"))
    assert client.get("/validator").status_code == 200
    r = client.post("/validator", data={"resource": '{"resourceType":"AllergyIntolerance","criticality":"<b>bad</b>"}'})
    assert r.status_code == 200
    assert "Invalid" in r.text
    assert "patient" in r.text  # the missing required element is named
    assert "<b>bad</b>" not in r.text  # user input is escaped


def test_valid_resource_reports_valid(page) -> None:  # type: ignore[no-untyped-def]
    client, hub = page
    client.cookies.set("knutpunkt_token", hub.tokens.issue("me", "system/*.rs"))
    r = client.post("/validator", data={"resource": '<Patient xmlns="http://hl7.org/fhir"><gender value="female"/></Patient>'})
    assert r.status_code == 200
    assert "Invalid" not in r.text


def test_syntax_error_shows_line(page) -> None:  # type: ignore[no-untyped-def]
    client, hub = page
    client.cookies.set("knutpunkt_token", hub.tokens.issue("me", "system/*.rs"))
    r = client.post("/validator", data={"resource": '{"resourceType": "Patient",\n  "gender": }'})
    assert "line 2" in r.text
