"""Parsing a FHIR search query string into criteria, and matching criteria against one resource in memory.

Used for REST search (translated to SQL by the repository) and for Subscription criteria (matched in memory).
Spec: http://hl7.org/fhir/R4/search.html
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from hub.fhir.errors import InvalidInput, Issue
from hub.store._search_params import SearchParam, extract, normalise_reference, search_params

RESULT_PARAMS = {"_count", "_offset", "_sort", "_include", "_revinclude", "_format", "_summary", "_elements", "_total", "_pretty"}
DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


@dataclass(frozen=True)
class Criterion:
    param: str  # _id, _lastUpdated or a code from search_parameters.json
    type: str
    modifier: str | None
    values: tuple[str, ...]  # OR-ed


@dataclass
class SearchQuery:
    rtype: str
    criteria: list[Criterion] = field(default_factory=list)
    count: int = 50
    offset: int = 0
    include: list[tuple[str, str, str | None]] = field(default_factory=list)  # (source type, param, target type)
    sort: str | None = None
    summary_count: bool = False


def parse_query(rtype: str, pairs: list[tuple[str, str]], *, max_count: int = 1000) -> SearchQuery:
    """Parse (name, value) pairs; an unknown parameter is an error (strict handling), never silently ignored."""
    query = SearchQuery(rtype=rtype)
    defs = search_params().get(rtype, {})
    issues: list[Issue] = []
    for name, raw in pairs:
        base, _, modifier = name.partition(":")
        if base in RESULT_PARAMS:
            try:
                if base == "_count":
                    query.count = max(0, min(int(raw), max_count))
                elif base == "_offset":
                    query.offset = max(0, int(raw))
            except ValueError:
                issues.append(Issue("error", "invalid", f"{base} must be an integer, got {raw!r}", (base,)))
            if base == "_include":
                parts = raw.split(":")
                if len(parts) < 2 or parts[1] not in search_params().get(parts[0], {}):
                    issues.append(Issue("error", "not-supported", f"unsupported _include {raw!r}", ("_include",)))
                else:
                    query.include.append((parts[0], parts[1], parts[2] if len(parts) > 2 else None))
            elif base == "_sort":
                if raw not in ("_lastUpdated", "-_lastUpdated"):
                    issues.append(Issue("error", "not-supported", f"unsupported _sort {raw!r} (only _lastUpdated)", ("_sort",)))
                query.sort = raw
            elif base == "_revinclude":  # strict handling: not implemented, so never silently ignored
                issues.append(Issue("error", "not-supported", "_revinclude is not supported", ("_revinclude",)))
            elif base == "_summary" and raw == "count":
                query.summary_count = True
            continue
        if base in ("_id", "_lastUpdated"):
            ptype = "token" if base == "_id" else "date"
        elif base in defs:
            ptype = defs[base].type
        else:
            issues.append(Issue("error", "not-supported", f"unknown search parameter {name!r} for {rtype}", (name,)))
            continue
        if modifier and modifier not in ("missing", "exact", "contains", "not"):
            issues.append(Issue("error", "not-supported", f"unsupported modifier {name!r}", (name,)))
            continue
        values = tuple(v for v in raw.split(",") if v != "")
        if not values:
            issues.append(Issue("error", "invalid", f"empty value for {name!r}", (name,)))
            continue
        if modifier == "missing" and values not in (("true",), ("false",)):
            issues.append(Issue("error", "invalid", f"{name!r} takes true or false", (name,)))
            continue
        if ptype == "date" and modifier != "missing":
            for v in values:
                body = v[2:] if v[:2] in DATE_PREFIXES else v
                if len(body) < 4 or not body[:4].isdigit():
                    issues.append(Issue("error", "invalid", f"invalid date {v!r} for {name!r}", (name,)))
        query.criteria.append(Criterion(base, ptype, modifier or None, values))
    if issues:
        raise InvalidInput("invalid search", issues)
    return query


def parse_criteria_string(criteria: str) -> SearchQuery:
    """`AllergyIntolerance?category=medication` → SearchQuery (for Subscription.criteria)."""
    rtype, _, qs = criteria.partition("?")
    if not rtype or not rtype[0].isupper() or not rtype.isalnum():
        raise InvalidInput(f"invalid criteria {criteria!r}", [Issue("error", "invalid", f"criteria must start with a resource type: {criteria!r}", ("Subscription.criteria",))])
    return parse_query(rtype, parse_qsl(qs, keep_blank_values=True))


def split_token(value: str) -> tuple[str | None, str | None]:
    """`system|code` → (system, code); `|code` → ('', code); `code` → (None, code); `system|` → (system, None)."""
    if "|" not in value:
        return None, value
    system, _, code = value.partition("|")
    return system, (code or None)


def normalise_ref_value(value: str, target_type: str | None) -> str:
    """`123` → `Patient/123`; an absolute URL `http://x/fhir/Patient/123` → `Patient/123` (search.html#reference)."""
    if "/" not in value and target_type:
        return f"{target_type}/{value}"
    if "://" in value:
        return normalise_reference(value) or value
    return value


def _date_matches(stored: str, spec: str) -> bool:
    prefix = spec[:2] if spec[:2] in DATE_PREFIXES else "eq"
    target = spec[2:] if spec[:2] in DATE_PREFIXES else spec
    left = stored[: len(target)]
    if prefix == "eq":
        return left == target
    if prefix == "ne":
        return left != target
    if prefix in ("gt", "sa"):
        return left > target
    if prefix in ("lt", "eb"):
        return left < target
    if prefix == "ge":
        return left >= target
    if prefix == "le":
        return left <= target
    return left == target


def _value_matches(param: SearchParam | None, ctype: str, stored: list[tuple[str | None, str]], spec: str, modifier: str | None) -> bool:
    if ctype == "token":
        system, code = split_token(spec)
        for s, v in stored:
            if code is not None and v != code:
                continue
            if system is not None and (s or "") != system:
                continue
            return True
        return False
    if ctype == "reference":
        want = normalise_ref_value(spec, param.target_type if param else None)
        return any(v == want or v.endswith("/" + spec) for _, v in stored)
    if ctype == "string":
        spec_l = spec.lower()
        if modifier == "exact":  # the index keeps strings lower-cased, so :exact ignores case (as the SQL search)
            return any(v == spec_l for _, v in stored)
        if modifier == "contains":
            return any(spec_l in v for _, v in stored)
        return any(v.startswith(spec_l) for _, v in stored)
    if ctype == "date":
        return any(_date_matches(v, spec) for _, v in stored)
    return any(v == spec for _, v in stored)


def matches(query: SearchQuery, resource: dict[str, Any]) -> bool:
    """Whether one resource satisfies every criterion of the query (in-memory; for Subscription criteria)."""
    if resource.get("resourceType") != query.rtype:
        return False
    defs = search_params().get(query.rtype, {})
    for c in query.criteria:
        if c.param == "_id":
            stored = [(None, str(resource.get("id", "")))]
            param = None
        elif c.param == "_lastUpdated":
            stored = [(None, str(resource.get("meta", {}).get("lastUpdated", "")))]
            param = None
        else:
            param = defs[c.param]
            stored = extract(param, resource)
        if c.modifier == "missing":
            want_missing = c.values[0] == "true"
            if bool(stored) == want_missing:
                return False
            continue
        hit = any(_value_matches(param, c.type, stored, v, c.modifier) for v in c.values)
        if c.modifier == "not":
            hit = not hit
        if not hit:
            return False
    return True
