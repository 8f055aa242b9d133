"""Routes are cached per process behind a generation marker that every Subscription write moves in its
own transaction: a Subscription created or stopped through one process routes the next change in another."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from hub.settings import Settings
from hub.store import Delivery
from hub.wiring import build_hub


def _subscription(sid: str, status: str = "active") -> dict:
    return {"resourceType": "Subscription", "id": sid, "status": status, "reason": "test", "criteria": "AllergyIntolerance",
            "channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1:9/fhir"}}


def _allergy(i: int) -> dict:
    return {"resourceType": "AllergyIntolerance", "id": f"a{i}", "patient": {"reference": "Patient/p"}, "code": {"text": "x"}}


def _routed(hub, rid: str) -> set[str]:  # type: ignore[no-untyped-def]
    with hub.store.transaction() as s:
        return set(s.execute(select(Delivery.subscription_id).where(Delivery.rid == rid)).scalars())


def test_subscription_changes_in_one_process_route_the_next_write_in_another(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}", key_file=str(tmp_path / "k.pem"), validate_on_write=False)
    api, other = build_hub(settings), build_hub(settings, migrate_schema=False)
    with api.store.transaction() as s:
        api.store.update(s, _allergy(0))  # loads (empty) routes into api's cache
    assert _routed(api, "a0") == set()
    with other.store.transaction() as s:
        other.store.update(s, _subscription("s1"))
    with api.store.transaction() as s:
        api.store.update(s, _allergy(1))
    assert _routed(api, "a1") == {"s1"}
    with other.store.transaction() as s:
        other.store.update(s, _subscription("s2"))
        other.store.update(s, _subscription("s1", status="off"))
    with api.store.transaction() as s:
        api.store.update(s, _allergy(2))
    assert _routed(api, "a2") == {"s2"}


def test_a_subscription_written_earlier_in_the_same_transaction_routes_later_entries(tmp_path: Path) -> None:
    hub = build_hub(Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}", key_file=str(tmp_path / "k.pem"), validate_on_write=False))
    with hub.store.transaction() as s:
        hub.store.update(s, _allergy(0))
        hub.store.update(s, _subscription("s1"))
        hub.store.update(s, _allergy(1))
    assert _routed(hub, "a0") == set() and _routed(hub, "a1") == {"s1"}
