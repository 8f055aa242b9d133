"""search (http://hl7.org/fhir/R4/search.html): SQL search, consent filter, _include, paging links.

Withheld resources are silently absent; for patient data no `total` is given, so counts reveal nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session

from hub.enforcement import NON_CLINICAL_TYPES
from hub.interactions._context import Caller, Result
from hub.store import Stored, normalise_reference, parse_query, search_params
from hub.store._search_params import extract
from hub.wiring import Hub


def search(hub: Hub, caller: Caller, rtype: str, pairs: list[tuple[str, str]], base: str = "") -> Result:
    with hub.store.transaction() as s:
        return search_in(hub, s, caller, rtype, pairs, base)


def search_in(hub: Hub, s: Session, caller: Caller, rtype: str, pairs: list[tuple[str, str]], base: str = "") -> Result:
    """`search` inside an open store transaction (also a transaction Bundle's GET entries)."""
    caller.require(rtype, "s")
    query = parse_query(rtype, pairs)
    clinical = rtype not in NON_CLINICAL_TYPES
    if query.summary_count:
        if clinical:
            from hub.fhir.errors import Forbidden

            raise Forbidden("_summary=count is not available for patient data")
        return Result(200, {"resourceType": "Bundle", "type": "searchset", "total": hub.store.count(s, query)})
    query.count = query.count or 0
    page = hub.store.search(s, query) if query.count else []
    shown = hub.enforcer.filter(s, page, caller.requester)
    entries: list[dict[str, Any]] = [
        {"fullUrl": f"{base}/{r.stored.rtype}/{r.stored.rid}", "resource": r.resource, "search": {"mode": "match"}} for r in shown
    ]
    included = _includes(hub, s, caller, query.include, [r.resource for r in shown])
    entries.extend({"fullUrl": f"{base}/{r.rtype}/{r.rid}", "resource": res, "search": {"mode": "include"}} for r, res in included)
    total = None if clinical else hub.store.count(s, query)
    plain = [(k, v) for k, v in pairs if k not in ("_offset", "_format")]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    links = [{"relation": "self", "url": f"{base}/{rtype}?{urlencode(plain + [('_offset', str(query.offset))])}"}]
    if len(page) == query.count and query.count:
        links.append({"relation": "next", "url": f"{base}/{rtype}?{urlencode(plain + [('_offset', str(query.offset + query.count))])}"})
    if query.offset:
        prev = max(0, query.offset - query.count)
        links.append({"relation": "previous", "url": f"{base}/{rtype}?{urlencode(plain + [('_offset', str(prev))])}"})
    bundle["link"] = links
    bundle["entry"] = entries
    return Result(200, bundle)


def _includes(hub: Hub, s, caller: Caller, includes: list[tuple[str, str, str | None]], resources: list[dict[str, Any]]) -> list[tuple[Stored, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    if not includes:
        return []
    wanted: dict[str, None] = {}
    for src_type, param_code, target in includes:
        param = search_params().get(src_type, {}).get(param_code)
        if param is None or param.type != "reference":
            continue
        for res in resources:
            if res.get("resourceType") != src_type:
                continue
            for _, ref in extract(param, res):
                norm = normalise_reference(ref)
                if norm and (target is None or norm.startswith(target + "/")):
                    wanted[norm] = None
    found: list[Stored] = []
    for ref in wanted:
        rtype, rid = ref.split("/", 1)
        st = hub.store.read_optional(s, rtype, rid)
        if st is not None and caller.claims and _may_read(caller, rtype):
            found.append(st)
    return [(r.stored, r.resource) for r in hub.enforcer.filter(s, found, caller.requester)]


def _may_read(caller: Caller, rtype: str) -> bool:
    from hub.auth import allows

    return allows(caller.claims.scopes, rtype, "r")
