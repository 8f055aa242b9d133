"""read, vread, create, update, delete and history (http://hl7.org/fhir/R4/http.html).

Reads of patient data pass the consent filter; a withheld resource answers 404 exactly like an unknown one.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from hub.enforcement import NON_CLINICAL_TYPES
from hub.fhir.errors import FhirError, Gone, NotFound, PreconditionFailed
from hub.interactions._context import EXPLICIT_READ_TYPES, Caller, Result
from hub.interactions._writes import check_id, check_resource
from hub.store import Stored, fhir_instant, parse_query
from hub.wiring import Hub


def headers_for(st: Stored, base: str = "") -> dict[str, str]:
    return {
        "ETag": st.etag,
        "Last-Modified": st.last_updated.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Location": f"{base}/{st.rtype}/{st.rid}/_history/{st.vid}",
    }


def released(hub: Hub, s: Session, caller: Caller, st: Stored) -> dict[str, Any] | None:
    """The resource as the caller may see it, or None when the consent filter withholds it.

    The caller raises 404 only after the transaction committed, so the denial's AuditEvent is kept.
    """
    out = hub.enforcer.filter(s, [st], caller.requester)
    return out[0].resource if out else None


def _withheld(st: Stored) -> NotFound:
    return NotFound(f"{st.rtype}/{st.rid} is not known")


def _deletion_visible(hub: Hub, s: Session, caller: Caller, rtype: str, rid: str, deleted_vid: int | None = None) -> FhirError:
    """410 for a deletion only when the caller could see what was deleted; otherwise the same 404 as an
    unknown id, so a withheld resource's existence never shows through its deletion."""
    if rtype in NON_CLINICAL_TYPES:
        return Gone(f"{rtype}/{rid} was deleted")
    versions = [v for v in hub.store.history(s, rtype, rid, count=1000) if not v.deleted and (deleted_vid is None or v.vid < deleted_vid)]
    if versions and released(hub, s, caller, versions[0]) is not None:
        return Gone(f"{rtype}/{rid} was deleted")
    return NotFound(f"{rtype}/{rid} is not known")


def _read_version(hub: Hub, s: Session, caller: Caller, rtype: str, rid: str, vid: int | None, base: str) -> Result | FhirError:
    """The current (or a given) version as the caller may see it, or the error to answer with. The error is
    returned, not raised, so callers can raise it after commit and keep the denial's AuditEvent."""
    try:
        st = hub.store.read(s, rtype, rid) if vid is None else hub.store.vread(s, rtype, rid, vid)
    except Gone:
        return _deletion_visible(hub, s, caller, rtype, rid, vid)
    body = released(hub, s, caller, st)
    if body is None:
        return _withheld(st)
    h = headers_for(st, base)
    h.pop("Location")
    return Result(200, body, h)


def read(hub: Hub, caller: Caller, rtype: str, rid: str, base: str = "") -> Result:
    caller.require(rtype, "r")
    with hub.store.transaction() as s:
        result = _read_version(hub, s, caller, rtype, rid, None, base)
    if isinstance(result, FhirError):
        raise result
    return result


def read_in(hub: Hub, s: Session, caller: Caller, rtype: str, rid: str, base: str = "") -> Result:
    """`read` inside an open store transaction (a transaction Bundle's GET entries: a failure rolls back
    the whole Bundle, including the AuditEvent of a withheld read)."""
    caller.require(rtype, "r")
    result = _read_version(hub, s, caller, rtype, rid, None, base)
    if isinstance(result, FhirError):
        raise result
    return result


def vread(hub: Hub, caller: Caller, rtype: str, rid: str, vid: str, base: str = "") -> Result:
    caller.require(rtype, "r")
    if not vid.isdigit():
        raise NotFound(f"{rtype}/{rid}/_history/{vid} is not known")
    with hub.store.transaction() as s:
        result = _read_version(hub, s, caller, rtype, rid, int(vid), base)
    if isinstance(result, FhirError):
        raise result
    return result


def _parse_if_match(value: str | None) -> int | None:
    if not value:
        return None
    v = value.strip()
    if v.startswith("W/"):
        v = v[2:]
    v = v.strip('"')
    if not v.isdigit():
        raise PreconditionFailed(f"If-Match {value!r} is not a version ETag")
    return int(v)


def create(hub: Hub, caller: Caller, rtype: str, resource: dict[str, Any], *, if_none_exist: str | None = None, base: str = "") -> Result:
    caller.require(rtype, "c")
    check_resource(resource, rtype, validate=hub.settings.validate_on_write)
    with hub.store.transaction() as s:
        if if_none_exist:
            existing = conditional_matches(hub, s, rtype, if_none_exist)
            if len(existing) > 1:
                raise PreconditionFailed(f"If-None-Exist matched {len(existing)} resources")
            if existing:
                st = existing[0]
                visible = hub.enforcer.filter(s, [st], caller.requester)
                if not visible:  # a match the caller may not see: say nothing about it
                    return Result(200, _exists_outcome())
                return Result(200, visible[0].resource, headers_for(st, base))
        st = hub.store.create(s, {k: v for k, v in resource.items() if k != "id"})
    after_write(hub, st)
    return Result(201, st.resource, headers_for(st, base))


def update(hub: Hub, caller: Caller, rtype: str, rid: str, resource: dict[str, Any], *, if_match: str | None = None, base: str = "") -> Result:
    caller.require(rtype, "u")
    check_id(rid)
    if resource.get("id") != rid:
        from hub.fhir.errors import InvalidInput, Issue

        raise InvalidInput("id mismatch", [Issue("error", "invalid", f"resource id {resource.get('id')!r} does not match URL id {rid!r}", (f"{rtype}.id",))])
    check_resource(resource, rtype, validate=hub.settings.validate_on_write)
    with hub.store.transaction() as s:
        st, created = hub.store.update(s, resource, if_match=_parse_if_match(if_match))
    after_write(hub, st)
    return Result(201 if created else 200, st.resource, headers_for(st, base))


def delete(hub: Hub, caller: Caller, rtype: str, rid: str) -> Result:
    caller.require(rtype, "d")
    with hub.store.transaction() as s:
        before = hub.store.read_optional(s, rtype, rid)
        st = hub.store.delete(s, rtype, rid)
    if st is not None:
        after_write(hub, st, before)
    return Result(204 if st is None else 200, None if st is None else _deleted_outcome(rtype, rid), {} if st is None else {"ETag": st.etag})


def _exists_outcome() -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "duplicate", "diagnostics": "a matching resource exists; nothing was created"}]}


def _deleted_outcome(rtype: str, rid: str) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational", "diagnostics": f"{rtype}/{rid} deleted"}]}


def history(hub: Hub, caller: Caller, rtype: str | None, rid: str | None, count: int = 100, base: str = "") -> Result:
    caller.require(rtype or "*", "r")
    with hub.store.transaction() as s:
        versions = hub.store.history(s, rtype, rid, count=count)
        if rtype is None:  # system history: types that need a scope naming them stay out without one
            versions = [v for v in versions if v.rtype not in EXPLICIT_READ_TYPES or _may_read_explicitly(caller, v.rtype)]
        live = [v for v in versions if not v.deleted]
        shown = {(r.stored.rtype, r.stored.rid, r.stored.vid): r.resource for r in hub.enforcer.filter(s, live, caller.requester)}
        # a deletion is listed only when the caller could see the version it deleted (never reveal existence)
        deletions = {
            (v.rtype, v.rid, v.vid) for v in versions
            if v.deleted and isinstance(_deletion_visible(hub, s, caller, v.rtype, v.rid, v.vid), Gone)
        }
    entries = []
    for v in versions:
        key = (v.rtype, v.rid, v.vid)
        if v.deleted and key in deletions:
            entries.append({"fullUrl": f"{base}/{v.rtype}/{v.rid}", "request": {"method": "DELETE", "url": f"{v.rtype}/{v.rid}"},
                            "response": {"status": "204", "lastModified": fhir_instant(v.last_updated)}})
        elif key in shown:
            entries.append({"fullUrl": f"{base}/{v.rtype}/{v.rid}", "resource": shown[key],
                            "request": {"method": "POST" if v.vid == 1 else "PUT", "url": f"{v.rtype}/{v.rid}" if v.vid > 1 else v.rtype},
                            "response": {"status": "201" if v.vid == 1 else "200", "etag": v.etag, "lastModified": fhir_instant(v.last_updated)}})
    if rid and not entries:
        raise NotFound(f"{rtype}/{rid} is not known")
    return Result(200, {"resourceType": "Bundle", "type": "history", "entry": entries})


def _may_read_explicitly(caller: Caller, rtype: str) -> bool:
    from hub.auth import allows

    return allows(caller.claims.scopes, rtype, "r", allow_wildcard=False)


def conditional_matches(hub: Hub, s: Session, rtype: str, query_string: str) -> list[Stored]:
    from urllib.parse import parse_qsl

    pairs = parse_qsl(query_string.split("?", 1)[-1], keep_blank_values=True)
    q = parse_query(rtype, pairs)
    q.count = 2
    hub.store.lock_keys(s, [condition_key(rtype, pairs)])  # a concurrent identical condition waits for this commit
    return hub.store.search(s, q)


def condition_key(rtype: str, pairs: list[tuple[str, str]]) -> str:
    """The lock name of a conditional interaction's search (same criteria, same name)."""
    return f"condition:{rtype}?" + "&".join(f"{k}={v}" for k, v in sorted(pairs))


def after_write(hub: Hub, st: Stored, before: Stored | None = None) -> None:
    """Effects outside the database once a write committed: terminology registration, delivery wake-up."""
    _register_terminology(st, before)
    hub.wake()


def after_writes(hub: Hub, written: list[Stored]) -> None:
    """`after_write` for many committed writes: one delivery wake-up."""
    for st in written:
        _register_terminology(st, None)
    if written:
        hub.wake()


def _register_terminology(st: Stored, before: Stored | None) -> None:
    if st.rtype in ("CodeSystem", "ValueSet", "ConceptMap", "NamingSystem"):
        try:
            from hub.terminology import default_service

            svc = default_service()
            if st.deleted:
                if before is not None:
                    svc.unregister(st.rtype, before.resource.get("url") or before.resource.get("name") or st.rid)
            else:
                svc.register(st.resource)
        except Exception:  # terminology registration must never undo a committed write
            import logging

            logging.getLogger("knutpunkt").exception("terminology registration failed for %s", st.ref)
