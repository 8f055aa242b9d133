"""FHIR `Parameters` in and out for the terminology operations (R4 operation definitions:
CodeSystem-lookup, ValueSet-validate-code, ValueSet-expand, ConceptMap-translate).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.fhir.errors import InvalidInput
from hub.terminology._protocol import LookupResult, TranslateMatch, ValidateCodeResult

_SCALARS = ("valueUri", "valueCanonical", "valueCode", "valueString", "valueUrl", "valueInteger", "valueBoolean")


def read_parameters(body: Any) -> dict[str, Any]:
    """A Parameters resource → {name: value}; codings stay dicts, a first occurrence wins."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidInput("the request body must be a FHIR Parameters resource")
    out: dict[str, Any] = {}
    for p in body.get("parameter") or ():
        name = p.get("name")
        if not name or name in out:
            continue
        for key in (*_SCALARS, "valueCoding", "valueCodeableConcept", "resource"):
            if key in p:
                out[name] = p[key]
                break
    return out


def read_query(query: Mapping[str, str]) -> dict[str, Any]:
    """Query string parameters (first value of each)."""
    return {k: v for k, v in query.items()}


def code_from(params: dict[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    """(system, code, version, display) from `system`/`code` or a `coding` / `codeableConcept`."""
    coding = params.get("coding")
    if coding is None and isinstance(params.get("codeableConcept"), dict):
        codings = params["codeableConcept"].get("coding") or []
        coding = codings[0] if codings else None
    if isinstance(coding, dict):
        return coding.get("system"), coding.get("code"), coding.get("version"), coding.get("display")
    return params.get("system"), params.get("code"), params.get("version"), params.get("display")


def as_int(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"parameter {name} must be an integer") from None
    if n < 0:
        raise InvalidInput(f"parameter {name} must not be negative")
    return n


def _typed(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    if isinstance(value, dict):
        return {"valueCoding": value}
    text = str(value)
    return {"valueCode": text} if text and not any(ch.isspace() for ch in text) else {"valueString": text}


def lookup_parameters(r: LookupResult, name: str | None) -> dict[str, Any]:
    params: list[dict[str, Any]] = [{"name": "name", "valueString": name or r.system}]
    if r.version:
        params.append({"name": "version", "valueString": r.version})
    if r.display is not None:
        params.append({"name": "display", "valueString": r.display})
    for lang, value in r.designations:
        part: list[dict[str, Any]] = [{"name": "language", "valueCode": lang}] if lang else []
        part.append({"name": "value", "valueString": value})
        params.append({"name": "designation", "part": part})
    for code, value in r.properties:
        params.append({"name": "property", "part": [{"name": "code", "valueCode": code}, {"name": "value", **_typed(value)}]})
    return {"resourceType": "Parameters", "parameter": params}


def validate_parameters(r: ValidateCodeResult) -> dict[str, Any]:
    params: list[dict[str, Any]] = [{"name": "result", "valueBoolean": r.result}]
    if r.message:
        params.append({"name": "message", "valueString": r.message})
    if r.display:
        params.append({"name": "display", "valueString": r.display})
    return {"resourceType": "Parameters", "parameter": params}


def translate_parameters(matches: list[TranslateMatch]) -> dict[str, Any]:
    usable = [m for m in matches if m.code is not None]
    params: list[dict[str, Any]] = [{"name": "result", "valueBoolean": bool(usable)}]
    if not usable:
        params.append({"name": "message", "valueString": "no mapping found"})
    for m in matches:
        part: list[dict[str, Any]] = [{"name": "equivalence", "valueCode": m.equivalence}]
        if m.code is not None:
            coding = {k: v for k, v in (("system", m.system), ("code", m.code), ("display", m.display)) if v}
            part.append({"name": "concept", "valueCoding": coding})
        if m.source:
            part.append({"name": "source", "valueUri": m.source})
        params.append({"name": "match", "part": part})
    return {"resourceType": "Parameters", "parameter": params}
