"""Rendering a compiled value set as a FHIR ValueSet with `expansion` (text filter and paging).

http://hl7.org/fhir/R4/valueset-operation-expand.html: `filter` is implementation-defined; here a
case-insensitive substring of the display or a prefix of the code. `total` counts the filtered set.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from hub.terminology._valueset import CompiledValueSet


def render_expansion(
    vs: CompiledValueSet, resource: dict[str, Any], filter: str | None, offset: int, count: int | None
) -> dict[str, Any]:
    contains = vs.contains()
    params: list[dict[str, Any]] = []
    if filter:
        needle = filter.casefold()
        contains = [c for c in contains if needle in c.get("display", "").casefold() or c["code"].startswith(filter)]
        params.append({"name": "filter", "valueString": filter})
    total = len(contains)
    offset = max(offset, 0)
    page = contains[offset: offset + count] if count is not None else contains[offset:]
    if offset:
        params.append({"name": "offset", "valueInteger": offset})
    if count is not None:
        params.append({"name": "count", "valueInteger": count})
    params += [{"name": "incomplete-system", "valueUri": s} for s in sorted(vs.open_systems)]
    expansion: dict[str, Any] = {
        "identifier": f"urn:uuid:{uuid.uuid4()}",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "total": total,
        "offset": offset,
    }
    if params:
        expansion["parameter"] = params
    if page:
        expansion["contains"] = [dict(c) for c in page]  # copies: the cached list stays intact
    out: dict[str, Any] = {"resourceType": "ValueSet", "status": resource.get("status", "active")}
    for k in ("id", "url", "version", "name", "title"):
        if resource.get(k):
            out[k] = resource[k]
    out["expansion"] = expansion
    return out
