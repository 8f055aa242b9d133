"""batch and transaction (http://hl7.org/fhir/R4/http.html#transaction).

A transaction is all-or-nothing in one database transaction: entries are processed DELETE, POST, PUT,
GET; `fullUrl`s (incl. `urn:uuid:`) are resolved to the ids the hub assigns and references rewritten.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl

from hub.fhir.errors import FhirError, InvalidInput, Issue, PreconditionFailed
from hub.interactions import _crud
from hub.interactions._context import Caller, Result
from hub.interactions._writes import check_id, check_resource
from hub.store import Stored, fhir_instant, parse_query
from hub.wiring import Hub

_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


def _bad(i: int, msg: str, where: str = "request") -> InvalidInput:
    return InvalidInput(msg, [Issue("error", "invalid", msg, (f"Bundle.entry[{i}].{where}",))])


def _rewrite(node: dict[str, Any], mapping: dict[str, str], unresolved: list[str]) -> dict[str, Any]:
    """A copy of `node` with every `reference` in `mapping` replaced (unresolved `urn:` ones collected)."""
    out: dict[str, Any] = {}
    for k, v in node.items():
        t = type(v)
        if t is dict:
            v = _rewrite(v, mapping, unresolved)
        elif t is list:
            v = [_rewrite(x, mapping, unresolved) if type(x) is dict else x for x in v]
        elif k == "reference" and t is str:
            if v in mapping:
                v = mapping[v]
            elif v.startswith(("urn:uuid:", "urn:oid:")):
                unresolved.append(v)
        out[k] = v
    return out


def in_entry(exc: FhirError, i: int) -> FhirError:
    """Re-locate a resource's issues (`AllergyIntolerance.code`) to its Bundle entry."""
    where = f"Bundle.entry[{i}].resource"
    exc.issues = [Issue(x.severity, x.code, x.diagnostics, tuple(f"{where}.{e.split('.', 1)[-1]}" if "." in e else where for e in x.expression) or (where,))
                  for x in exc.issues]
    return exc


def _split_url(url: str) -> tuple[str, str | None, str | None]:
    """`Patient/1` → (Patient, 1, None); `Patient?identifier=x` → (Patient, None, 'identifier=x')."""
    path, _, qs = url.lstrip("/").partition("?")
    parts = [p for p in path.split("/") if p]
    if not parts:
        return "", None, None
    return parts[0], parts[1] if len(parts) > 1 else None, qs or None


def process_bundle(hub: Hub, caller: Caller, bundle: dict[str, Any], base: str = "") -> Result:
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") not in ("batch", "transaction"):
        raise InvalidInput("expected a batch or transaction Bundle", [Issue("error", "invalid", "Bundle.type must be batch or transaction", ("Bundle.type",))])
    entries = bundle.get("entry") or []
    if bundle["type"] == "batch":
        return _batch(hub, caller, entries, base)
    return _transaction(hub, caller, entries, base)


def _batch(hub: Hub, caller: Caller, entries: list[dict[str, Any]], base: str) -> Result:
    out = []
    for i, entry in enumerate(entries):
        try:
            res = _transaction(hub, caller, [entry], base)
            out.append(res.body["entry"][0])  # type: ignore[index]
        except FhirError as exc:
            issues = [Issue(x.severity, x.code, x.diagnostics, tuple(e.replace("Bundle.entry[0]", f"Bundle.entry[{i}]") for e in x.expression)) for x in exc.issues]
            from hub.fhir.errors import operation_outcome

            out.append({"response": {"status": str(exc.status), "outcome": operation_outcome(issues)}})
    return Result(200, {"resourceType": "Bundle", "type": "batch-response", "entry": out})


def _transaction(hub: Hub, caller: Caller, entries: list[dict[str, Any]], base: str) -> Result:
    plans: list[dict[str, Any]] = []
    mapping: dict[str, str] = {}
    with hub.store.transaction() as s:
        # 1. shape, scopes and identities
        for i, entry in enumerate(entries):
            req = entry.get("request") or {}
            method, url = req.get("method"), req.get("url")
            if method not in _ORDER or not isinstance(url, str):
                raise _bad(i, "entry.request needs a method (GET, POST, PUT, DELETE) and a url")
            rtype, rid, qs = _split_url(url)
            resource = entry.get("resource")
            plan = {"i": i, "method": method, "rtype": rtype, "rid": rid, "qs": qs, "resource": resource, "entry": entry, "existing": None}
            if method in ("POST", "PUT"):
                if not isinstance(resource, dict) or resource.get("resourceType") != rtype:
                    raise _bad(i, f"entry.resource must be a {rtype}", "resource")
                caller.require(rtype, "c" if method == "POST" else "u")
                if method == "POST":
                    if req.get("ifNoneExist"):
                        found = _crud.conditional_matches(hub, s, rtype, req["ifNoneExist"])
                        if len(found) > 1:
                            raise PreconditionFailed(f"entry {i}: ifNoneExist matched {len(found)} resources")
                        plan["existing"] = found[0] if found else None
                    plan["rid"] = plan["existing"].rid if plan["existing"] else str(uuid.uuid4())
                elif qs is not None:
                    found = _crud.conditional_matches(hub, s, rtype, qs)
                    if len(found) > 1:
                        raise PreconditionFailed(f"entry {i}: conditional update matched {len(found)} resources")
                    plan["rid"] = found[0].rid if found else (resource.get("id") or str(uuid.uuid4()))
                elif not rid:
                    raise _bad(i, "PUT needs Type/id or a conditional URL")
                if method == "PUT" and resource.get("id") not in (None, plan["rid"]):
                    raise _bad(i, f"resource id {resource.get('id')!r} does not match {rtype}/{plan['rid']}", "resource.id")
                check_id(plan["rid"], f"Bundle.entry[{i}].request.url")
                if entry.get("fullUrl"):
                    mapping[entry["fullUrl"]] = f"{rtype}/{plan['rid']}"
            elif method == "DELETE":
                caller.require(rtype, "d")
                if not rid:
                    if qs is None:
                        raise _bad(i, "DELETE needs Type/id or a conditional URL")
                    found = _crud.conditional_matches(hub, s, rtype, qs)
                    if len(found) > 1:
                        raise PreconditionFailed(f"entry {i}: conditional delete matched {len(found)} resources")
                    plan["rid"] = found[0].rid if found else None
            plans.append(plan)
        # 2. rewrite references and validate everything before writing anything
        for plan in plans:
            if plan["method"] in ("POST", "PUT"):
                unresolved: list[str] = []
                res = _rewrite(plan["resource"], mapping, unresolved)  # a copy: the client's Bundle stays as it was
                if unresolved:
                    raise _bad(plan["i"], f"unresolved reference(s) {sorted(set(unresolved))}", "resource")
                res["id"] = plan["rid"]
                try:
                    check_resource(res, plan["rtype"], validate=hub.settings.validate_on_write)
                except FhirError as exc:
                    raise in_entry(exc, plan["i"]) from None
                plan["resource"] = res
        # 3. write, in the order the specification gives
        written: list[Stored] = []
        responses: dict[int, dict[str, Any]] = {}
        for plan in sorted(plans, key=lambda p: _ORDER[p["method"]]):
            i, method = plan["i"], plan["method"]
            if method == "DELETE":
                st = hub.store.delete(s, plan["rtype"], plan["rid"]) if plan["rid"] else None
                if st is not None:
                    written.append(st)
                responses[i] = {"response": {"status": "204" if st is None else "200"}}
            elif method == "POST" and plan["existing"] is not None and not hub.enforcer.filter(s, [plan["existing"]], caller.requester):
                # the match is withheld from this caller: it is linked to, but nothing about it is shown
                responses[i] = {"response": {"status": "200", "outcome": _crud._exists_outcome()}}
            elif method == "POST" and plan["existing"] is not None:
                st = plan["existing"]
                responses[i] = {"fullUrl": f"{base}/{st.rtype}/{st.rid}", "response": {"status": "200", "location": f"{st.rtype}/{st.rid}/_history/{st.vid}", "etag": st.etag}}
            elif method in ("POST", "PUT"):
                if_match = plan["entry"].get("request", {}).get("ifMatch")
                st, created = hub.store.update(s, plan["resource"], if_match=_crud._parse_if_match(if_match))
                written.append(st)
                responses[i] = {
                    "fullUrl": f"{base}/{st.rtype}/{st.rid}",
                    "response": {"status": "201" if created else "200", "location": f"{st.rtype}/{st.rid}/_history/{st.vid}", "etag": st.etag, "lastModified": fhir_instant(st.last_updated)},
                }
        # GETs run last, inside the same database transaction (a failing one rolls back every write),
        # each through the normal (consent-filtered) read/search path.
        for plan in plans:
            if plan["method"] in ("GET", "HEAD"):
                if plan["rid"]:
                    r = _crud.read_in(hub, s, caller, plan["rtype"], plan["rid"], base)
                else:
                    from hub.interactions._search import search_in

                    r = search_in(hub, s, caller, plan["rtype"], parse_qsl(plan["qs"] or "", keep_blank_values=True), base)
                responses[plan["i"]] = {"resource": r.body, "response": {"status": str(r.status)}}
    _crud.after_writes(hub, written)
    return Result(200, {"resourceType": "Bundle", "type": "transaction-response", "entry": [responses[p["i"]] for p in plans]})


__all__ = ["process_bundle", "parse_query"]
