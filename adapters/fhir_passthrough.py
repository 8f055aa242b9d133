"""Adapter `fhir`: FHIR R4 JSON or XML (a resource or a Bundle) → collection Bundle, normalised.

Normalisation (domain.md section 3): id-less resources other than Patient get a stable id; every Identifier through hub.identity (Swedish person numbers checked,
systems canonical), Coding systems given as `urn:oid:` mapped to URIs by the terminology service, and the
project's Swedish profiles added to Patient and AllergyIntolerance. XML is read with the hardened parser
(no DTD, entities or network) into the R4B models (R4B equals R4 for these resources).
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

import orjson
from pydantic import ValidationError

from adapters._bundle import (
    SE_ALLERGY_PROFILE,
    SE_PATIENT_PROFILE,
    collection_bundle,
    stable_id,
    with_profile,
)
from adapters._codes import system_uri
from adapters._xml import MAX_XML_BYTES, hardened_parser, local, parse_xml
from hub.fhir.errors import InvalidInput, Issue
from hub.identity import normalise_fhir_identifier

PROFILES = {"Patient": SE_PATIENT_PROFILE, "AllergyIntolerance": SE_ALLERGY_PROFILE}
FHIR_NS = "http://hl7.org/fhir"


def _json_issue(message: str, line: int | None = None, column: int | None = None) -> Issue:
    return Issue("error", "structure", message, (), line, column)


def _load_json(payload: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        msg = f"malformed JSON: {exc.msg}"
        raise InvalidInput(msg, [_json_issue(msg, exc.lineno, exc.colno)]) from None
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        msg = "FHIR JSON must be an object with a resourceType"
        raise InvalidInput(msg, [_json_issue(msg)])
    return data


def _load_xml(payload: bytes) -> dict[str, Any]:
    from fhir.resources.R4B import get_fhir_model_class

    root = parse_xml(payload)  # refuses DOCTYPE, entities and oversized input before the model parse
    if not isinstance(root.tag, str) or not root.tag.startswith(f"{{{FHIR_NS}}}"):
        msg = f"XML root '{local(root.tag)}' is not in the FHIR namespace {FHIR_NS}"
        raise InvalidInput(msg, [Issue("error", "structure", msg, (), root.sourceline)])
    name = local(root.tag)
    try:
        model = get_fhir_model_class(name)
    except (KeyError, ValueError):
        msg = f"unknown FHIR resource type '{name}'"
        raise InvalidInput(msg, [Issue("error", "not-supported", msg, (name,), root.sourceline)]) from None
    try:
        obj = model.model_validate_xml(payload, xmlparser=hardened_parser())
    except ValidationError as exc:
        issues = [
            Issue("error", "structure", e["msg"], (".".join([name, *(str(p) for p in e["loc"])]),))
            for e in exc.errors()
        ]
        raise InvalidInput(f"invalid FHIR XML {name}", issues) from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        msg = f"invalid FHIR XML {name}: unexpected or malformed element {exc}"
        raise InvalidInput(msg, [_json_issue(msg)]) from None
    return orjson.loads(obj.model_dump_json())


def load_fhir(payload: bytes) -> dict[str, Any]:
    """The resource (dict) in a FHIR JSON or XML payload; InvalidInput when it is neither."""
    if len(payload) > MAX_XML_BYTES:
        msg = f"payload of {len(payload)} bytes exceeds the limit of {MAX_XML_BYTES} bytes"
        raise InvalidInput(msg, [_json_issue(msg)])
    head = payload.lstrip()[:1]
    if head in (b"{", b"["):
        return _load_json(payload)
    if head == b"<":
        return _load_xml(payload)
    msg = "payload is neither FHIR JSON nor FHIR XML"
    raise InvalidInput(msg, [_json_issue(msg, 1, 1)])


def _normalise(node: Any, where: str, today: date, issues: list[Issue]) -> Any:
    """A normalised copy of `node`: Identifiers and `urn:oid:` Coding systems rewritten, issues collected."""
    if isinstance(node, list):
        return [_normalise(v, f"{where}[{i}]", today, issues) for i, v in enumerate(node)]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        path = f"{where}.{key}"
        if key == "identifier":
            value = _identifiers(value, path, today, issues)
        elif key == "resource" or (key == "contained" and isinstance(value, list)):
            value = _normalise_resource_tree(value, path, today, issues)
            out[key] = value
            continue
        out[key] = _normalise(value, path, today, issues)
    if isinstance(out.get("system"), str) and "code" in out and out["system"].lower().startswith("urn:oid:"):
        out["system"] = system_uri(out["system"])
    return out


def _identifiers(value: Any, path: str, today: date, issues: list[Issue]) -> Any:
    items = value if isinstance(value, list) else [value]
    fixed = []
    for i, ident in enumerate(items):
        where = f"{path}[{i}]" if isinstance(value, list) else path
        if isinstance(ident, dict) and any(k in ident and not isinstance(ident[k], str) for k in ("system", "value")):
            issues.append(Issue("error", "structure", "Identifier.system and Identifier.value must be strings", (where,)))
        elif isinstance(ident, dict) and isinstance(ident.get("system"), str) and isinstance(ident.get("value"), str):
            try:
                ident = normalise_fhir_identifier(ident, today=today, expression=where)
            except InvalidInput as exc:
                issues.extend(exc.issues)
        fixed.append(ident)
    return fixed if isinstance(value, list) else fixed[0]


def _normalise_resource_tree(value: Any, path: str, today: date, issues: list[Issue]) -> Any:
    if isinstance(value, list):
        return [_normalise_resource_tree(v, f"{path}[{i}]", today, issues) for i, v in enumerate(value)]
    if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
        return normalise_resource(value, today, issues, path)
    return value


def normalise_resource(
    resource: dict[str, Any], today: date, issues: list[Issue], where: str | None = None
) -> dict[str, Any]:
    """A normalised copy of one resource (Swedish profile added for Patient / AllergyIntolerance)."""
    rtype = resource["resourceType"]
    where = where or rtype
    out = _normalise(resource, where, today, issues)
    meta = out.get("meta")
    if meta is not None and not (isinstance(meta, dict) and isinstance(meta.get("profile", []), list)):
        issues.append(Issue("error", "structure", "meta must be an object with a profile array", (f"{where}.meta",)))
        return out
    if "id" in out and not isinstance(out["id"], str):
        issues.append(Issue("error", "structure", "id must be a string", (f"{where}.id",)))
    return with_profile(out, PROFILES[rtype]) if rtype in PROFILES else out


_UUID_URN = re.compile(r"^urn:uuid:([0-9a-fA-F-]{36})$")


def _stable(resource: dict[str, Any], full_url: str | None) -> dict[str, Any]:
    """Give an id-less non-Patient resource a stable id so re-ingesting the same input updates it.

    From its first identifier (uuid5 over type, system, value), else from a `urn:uuid:` fullUrl. Patients are
    linked by identifier downstream and keep no invented id.
    """
    rtype = resource["resourceType"]
    if resource.get("id") or rtype == "Patient":
        return resource
    given = resource.get("identifier")
    idents = [
        i for i in (given if isinstance(given, list) else [given])
        if isinstance(i, dict) and isinstance(i.get("system"), str) and isinstance(i.get("value"), str)
    ]
    new_id = None
    if idents:
        new_id = stable_id(rtype, idents[0]["system"], idents[0]["value"])
    elif full_url and _UUID_URN.match(full_url):
        new_id = full_url[len("urn:uuid:"):].lower()
    if new_id is None:
        return resource
    rest = {k: v for k, v in resource.items() if k != "resourceType"}
    return {"resourceType": rtype, "id": new_id, **rest}


def convert_fhir(payload: bytes, today: date | None = None) -> dict[str, Any]:
    """The collection Bundle for a FHIR payload; a Bundle's entries keep their fullUrl (or get a urn:uuid)."""
    today = today or date.today()
    data = load_fhir(payload)
    issues: list[Issue] = []
    entries: list[tuple[str, dict[str, Any]]] = []
    if data["resourceType"] == "Bundle":
        raw_entries = data.get("entry") or []
        if not isinstance(raw_entries, list):
            raise InvalidInput("Bundle.entry must be an array", [_json_issue("Bundle.entry must be an array")])
        for i, entry in enumerate(raw_entries):
            res = entry.get("resource") if isinstance(entry, dict) else None
            where = f"Bundle.entry[{i}]"
            if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
                issues.append(Issue("error", "required", "Bundle entry without a resource", (f"{where}.resource",)))
                continue
            full_url = entry.get("fullUrl")
            res = _stable(normalise_resource(res, today, issues, f"{where}.resource"), full_url)
            entries.append((full_url or f"urn:uuid:{uuid.uuid4()}", res))
    else:
        entries.append((f"urn:uuid:{uuid.uuid4()}", _stable(normalise_resource(data, today, issues), None)))
    if issues:
        raise InvalidInput(f"FHIR input has {len(issues)} problem(s)", issues)
    return collection_bundle(entries)


def _convert_safely(payload: bytes) -> dict[str, Any]:
    """convert_fhir, with any structural surprise in the input reported as invalid input, never a crash."""
    try:
        return convert_fhir(payload)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        msg = f"malformed FHIR content: {exc}"
        raise InvalidInput(msg, [_json_issue(msg)]) from None


class FhirPassthroughAdapter:
    """FHIR JSON or XML → normalised collection Bundle."""

    name = "fhir"

    def convert(self, payload: bytes) -> dict[str, Any]:
        return _convert_safely(payload)


adapter = FhirPassthroughAdapter()
