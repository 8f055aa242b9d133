"""Conditional update over REST: `PUT /fhir/{type}?{search}` (http://hl7.org/fhir/R4/http.html#cond-update).

No match: create (with the body's id, or a new one); one match: update it (a body id must be that one);
several matches: 412. The match is looked up just before the write, not under the write's lock.
"""

from __future__ import annotations

import uuid
from typing import Any

from hub.fhir.errors import InvalidInput, Issue, PreconditionFailed
from hub.interactions._context import Caller, Result
from hub.interactions._crud import update
from hub.store import parse_query
from hub.wiring import Hub


def conditional_update(
    hub: Hub, caller: Caller, rtype: str, pairs: list[tuple[str, str]], resource: dict[str, Any], *, if_match: str | None = None, base: str = ""
) -> Result:
    caller.require(rtype, "u")
    query = parse_query(rtype, pairs)
    if not query.criteria:
        raise InvalidInput("conditional update needs search criteria", [Issue("error", "required", "PUT on a type needs search parameters", ("url",))])
    query.count, query.offset = 2, 0
    with hub.store.transaction() as s:
        found = hub.store.search(s, query)
    if len(found) > 1:
        raise PreconditionFailed(f"conditional update matched {len(found)} resources")
    body_id = resource.get("id")
    if found:
        rid = found[0].rid
        if body_id not in (None, rid):
            raise InvalidInput("id mismatch", [Issue("error", "invalid", f"resource id {body_id!r} does not match the found {rtype}/{rid}", (f"{rtype}.id",))])
    else:
        rid = body_id or str(uuid.uuid4())
    return update(hub, caller, rtype, rid, {**resource, "id": rid}, if_match=if_match, base=base)
