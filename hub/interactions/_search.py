"""search (http://hl7.org/fhir/R4/search.html): SQL search, consent filter, _include, paging links.

Withheld resources are silently absent; for patient data no `total` is given, so counts reveal nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session

from hub.enforcement import NON_CLINICAL_TYPES, Decided, Released, release
from hub.interactions._context import Caller, Result
from hub.store import SearchQuery, Stored, normalise_reference, parse_query, search_params
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
    if clinical and not query.count:  # `_count=0`: no entries and no `next` (a next link would repeat forever)
        shown, next_offset = [], None
    elif clinical:
        shown, next_offset = _visible_page(hub, s, caller, query)
    else:
        page = hub.store.search(s, query) if query.count else []
        shown = hub.enforcer.filter(s, page, caller.requester)
        next_offset = query.offset + query.count if query.count and len(page) == query.count else None
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
    if next_offset is not None:
        links.append({"relation": "next", "url": f"{base}/{rtype}?{urlencode(plain + [('_offset', str(next_offset))])}"})
    if query.offset:
        links.append({"relation": "first", "url": f"{base}/{rtype}?{urlencode(plain + [('_offset', '0')])}"})
        if not clinical:
            prev = max(0, query.offset - query.count)
            links.append({"relation": "previous", "url": f"{base}/{rtype}?{urlencode(plain + [('_offset', str(prev))])}"})
    bundle["link"] = links
    bundle["entry"] = entries
    return Result(200, bundle)


def _visible_page(hub: Hub, s: Session, caller: Caller, query: SearchQuery) -> tuple[list[Released], int | None]:
    """Up to `count` results the caller may see, starting at raw position `offset`, and the raw position of
    the next visible result (None at the end). Paging over what is visible keeps page sizes and `next`
    links from revealing withheld matches. Only returned resources are audited; the look-ahead is not."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    shown: list[Released] = []
    audited: list[Decided] = []
    position = query.offset
    batch = max(query.count + 1, 50)  # one more than a page: the look-ahead usually comes in the same query
    next_offset: int | None = None
    while next_offset is None:
        rows = hub.store.search(s, replace(query, offset=position, count=batch))
        for d in hub.enforcer.decisions(s, rows, caller.requester, now):
            released = release(d)
            if len(shown) == query.count:
                if released is not None:  # look-ahead: only tells whether a next page exists; not audited
                    next_offset = position
                    break
            else:
                audited.append(d)
                if released is not None:
                    shown.append(released)
            position += 1
        if len(rows) < batch:
            break
    hub.enforcer.audit_decided(s, audited, caller.requester, "R", now)
    return shown, next_offset


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
