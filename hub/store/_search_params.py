"""Search parameter definitions (data in search_parameters.json) and index-value extraction.

Semantics follow http://hl7.org/fhir/R4/search.html: token = system|code, reference = Type/id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

_FILE = Path(__file__).with_name("search_parameters.json")


@dataclass(frozen=True)
class SearchParam:
    base: str
    code: str
    type: str  # token | reference | date | string | uri
    paths: tuple[tuple[str, ...], ...]
    target_type: str | None = None


@lru_cache(maxsize=1)
def search_params() -> dict[str, dict[str, SearchParam]]:
    """All parameters by resource type and code."""
    raw = json.loads(_FILE.read_text(encoding="utf-8"))
    out: dict[str, dict[str, SearchParam]] = {}
    for p in raw["parameters"]:
        sp = SearchParam(
            base=p["base"],
            code=p["code"],
            type=p["type"],
            paths=tuple(tuple(path.split(".")) for path in p["paths"]),
            target_type=p.get("targetType"),
        )
        out.setdefault(sp.base, {})[sp.code] = sp
    return out


def _walk(node: Any, path: tuple[str, ...]) -> list[Any]:
    """The values at a dotted element path, lists flattened at every step (iterative: this runs for every
    index row of every write)."""
    current = node if isinstance(node, list) else [node]
    for key in path:
        step: list[Any] = []
        for item in current:
            if isinstance(item, dict):
                value = item.get(key)
                if isinstance(value, list):
                    step.extend(value)
                elif value is not None:
                    step.append(value)
        current = step
    return [v for v in current if v is not None]


def normalise_reference(ref: str) -> str | None:
    """`http://x/fhir/Patient/1/_history/2` → `Patient/1`; other shapes (urn:uuid, #contained) → None."""
    if not ref or ref.startswith("#") or ref.startswith("urn:"):
        return None
    parts = ref.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) < 2:
        return None
    return f"{parts[-2]}/{parts[-1]}"


def _token_values(value: Any) -> Iterator[tuple[str | None, str]]:
    if isinstance(value, dict):
        if "coding" in value or "text" in value:
            for coding in value.get("coding", []) or []:
                if isinstance(coding, dict) and coding.get("code") is not None:
                    yield coding.get("system"), str(coding["code"])
        elif "code" in value:  # Coding
            yield value.get("system"), str(value["code"])
        elif "value" in value:  # Identifier
            yield value.get("system"), str(value["value"])
    elif isinstance(value, bool):
        yield None, "true" if value else "false"
    elif isinstance(value, (str, int, float)):
        yield None, str(value)


def extract(param: SearchParam, resource: dict[str, Any]) -> list[tuple[str | None, str]]:
    """The (system, value) index entries of one parameter for one resource."""
    out: list[tuple[str | None, str]] = []
    for path in param.paths:
        for value in _walk(resource, path):
            if param.type == "token":
                out.extend(_token_values(value))
            elif param.type == "reference":
                ref = value.get("reference") if isinstance(value, dict) else value
                norm = normalise_reference(ref) if isinstance(ref, str) else None
                if norm and (param.target_type is None or norm.startswith(param.target_type + "/")):
                    out.append((None, norm))
            elif param.type == "string" and isinstance(value, str):
                out.append((None, value.lower()))
            elif param.type in ("date", "uri") and isinstance(value, str):
                out.append((None, value))
    return out


def index_rows(resource: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """(param, system, value) rows for every parameter defined on the resource's type."""
    params = search_params().get(resource.get("resourceType", ""), {})
    rows: list[tuple[str, str | None, str]] = []
    for code, param in params.items():
        for system, value in extract(param, resource):
            rows.append((code, system, value[:512]))
    return rows


def patient_of(resource: dict[str, Any]) -> str | None:
    """The id of the Patient a resource is about (the Patient's own id for a Patient)."""
    rtype = resource.get("resourceType")
    if rtype == "Patient":
        return resource.get("id")
    param = search_params().get(rtype or "", {}).get("patient")
    if param is None:
        return None
    for _, value in extract(param, resource):
        return value.split("/", 1)[1]
    return None
