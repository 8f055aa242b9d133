"""Small assertions shared by the API tests."""

from __future__ import annotations

from typing import Any


def assert_outcome(r: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response has `status` and an OperationOutcome body with an error-level issue (of `code`)."""
    assert r.status_code == status, (r.status_code, r.text[:800])
    body = r.json()
    assert body["resourceType"] == "OperationOutcome", body
    assert body["issue"], body
    if code is not None:
        assert code in [i["code"] for i in body["issue"]], body
    return body


def entries(bundle: dict[str, Any], mode: str | None = "match") -> list[dict[str, Any]]:
    """The resources of a Bundle (only search mode `mode` for a searchset; None = all)."""
    return [e["resource"] for e in bundle.get("entry", []) if mode is None or e.get("search", {}).get("mode") == mode]


def ids(bundle: dict[str, Any], mode: str | None = "match") -> set[str]:
    return {r["id"] for r in entries(bundle, mode)}
