"""The /admin page and its actions in-process (no sockets): auth by header, ?token= then cookie; scopes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.api import create_app
from hub.api.admin_routes import router as admin_router
from hub.routing import paused_key
from hub.settings import Settings
from hub.store import Delivery, KeyValue, utcnow
from hub.wiring import build_hub


@pytest.fixture
def hub_client(tmp_path: Path):
    hub = build_hub(Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", key_file=str(tmp_path / "key.pem")))
    app = create_app(hub, run_worker=False)
    if not any(getattr(r, "path", "") == "/admin/api/summary" for r in app.routes):
        app.include_router(admin_router)
    with TestClient(app) as client:
        yield hub, client
    hub.store.engine.dispose()


def _dead(hub, sub_id: str = "sub-1") -> int:
    now = utcnow()
    with hub.store.transaction() as s:
        row = Delivery(subscription_id=sub_id, rtype="AllergyIntolerance", rid="a1", vid=1, patient_id="p1", status="dead",
                       attempts=1, next_attempt_at=now, created_at=now, finished_at=now,
                       last_error='PUT http://r/AllergyIntolerance/a1: HTTP 422\n{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","diagnostics":"no <b>thanks</b>"}]}')
        s.add(row)
        s.flush()
        return int(row.pk)


def test_needs_a_token_with_subscription_scope(hub_client):
    hub, client = hub_client
    assert client.get("/admin").status_code == 401
    assert client.get("/admin/api/summary").status_code == 401
    reader = hub.tokens.issue("ops", "system/Patient.rs")
    assert client.get("/admin/api/summary", headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    wildcard = hub.tokens.issue("ops", "system/*.cruds")  # the views reveal what exists for patients
    assert client.get("/admin/api/summary", headers={"Authorization": f"Bearer {wildcard}"}).status_code == 403
    ro = hub.tokens.issue("ops", "system/Subscription.rs")
    assert client.get("/admin/api/summary", headers={"Authorization": f"Bearer {ro}"}).status_code == 200
    assert client.post("/admin/api/dead-letters/replay", headers={"Authorization": f"Bearer {ro}"}).status_code == 403


def test_browser_flow_token_cookie_page_and_actions(hub_client):
    hub, client = hub_client
    pk = _dead(hub)
    token = hub.tokens.issue("ops", "system/Subscription.cruds")
    r = client.get(f"/admin?token={token}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin"
    assert "httponly" in r.headers["set-cookie"].lower()
    page = client.get("/admin")  # the cookie carries the token now
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "HTTP 422" in page.text and "no &lt;b&gt;thanks&lt;/b&gt;" in page.text  # escaped
    r = client.post("/admin/actions/pause", data={"subscription": "sub-1"}, follow_redirects=False)
    assert r.status_code == 303
    with hub.store.transaction() as s:
        assert s.get(KeyValue, paused_key("sub-1")) is not None
    client.post("/admin/actions/resume", data={"subscription": "sub-1"})
    with hub.store.transaction() as s:
        assert s.get(KeyValue, paused_key("sub-1")) is None
    client.post("/admin/actions/replay-one", data={"pk": str(pk)})
    with hub.store.transaction() as s:
        assert s.get(Delivery, pk).status == "replayed"
        fresh = s.execute(select(Delivery).where(Delivery.status == "pending", Delivery.reason == "replay")).scalars().all()
    assert [(d.rtype, d.rid, d.subscription_id) for d in fresh] == [("AllergyIntolerance", "a1", "sub-1")]


def test_json_api_lists_dead_letters_with_outcome(hub_client):
    hub, client = hub_client
    pk = _dead(hub)
    auth = {"Authorization": f"Bearer {hub.tokens.issue('ops', 'system/Subscription.cruds')}"}
    (d,) = client.get("/admin/api/dead-letters", headers=auth).json()
    assert d["pk"] == pk and d["outcome"]["issue"][0]["code"] == "invalid"
    assert client.get("/admin/api/summary", headers=auth).json()["dead_letters"] == 1
    assert client.get(f"/admin/api/dead-letters/{pk + 1}", headers=auth).status_code == 404
    assert client.post("/admin/api/subscribers/sub-1/replay", headers=auth).json() == {"replayed": 1}
    assert client.get("/admin/api/summary", headers=auth).json()["queue_depth"] == 1
