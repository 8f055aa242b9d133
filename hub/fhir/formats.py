"""FHIR JSON and XML: parsing request bodies and rendering responses (http://hl7.org/fhir/R4/formats.html).

XML is parsed with a hardened lxml parser (no entities, no DTD, no network) and mapped through the
fhir.resources R4B models, which know FHIR's XML rules (value attributes, primitive extensions, xhtml).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from lxml import etree

from hub.fhir.errors import InvalidInput, Issue, UnsupportedMediaType

JSON = "application/fhir+json"
XML = "application/fhir+xml"
_JSON_ALIASES = {"json", "application/json", "application/fhir+json", "application/json+fhir", "text/json"}
_XML_ALIASES = {"xml", "application/xml", "application/fhir+xml", "application/xml+fhir", "text/xml"}
_ORJSON_POS = re.compile(r"line (\d+) column (\d+)")


def hardened_xml_parser() -> etree.XMLParser:
    """An lxml parser that never resolves entities, loads DTDs or touches the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False, remove_comments=True)


def format_of(media_type: str | None) -> str | None:
    """'json' | 'xml' for a media type or `_format` value (parameters such as charset ignored); None if unknown."""
    if not media_type:
        return None
    base = media_type.split(";")[0].strip().lower()
    if base in _JSON_ALIASES:
        return "json"
    if base in _XML_ALIASES:
        return "xml"
    return None


def negotiate(fmt_param: str | None, accept: str | None) -> str:
    """Response format from `_format` (wins) or `Accept`; JSON by default."""
    if fmt_param:
        return format_of(fmt_param) or "json"
    for part in (accept or "").split(","):
        f = format_of(part)
        if f:
            return f
    return "json"


def parse_json(data: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        m = _ORJSON_POS.search(str(exc))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        raise InvalidInput("invalid JSON", [Issue("fatal", "structure", f"invalid JSON: {exc}", (), line, col)]) from exc
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise InvalidInput("not a FHIR resource", [Issue("fatal", "structure", "body must be a JSON object with a resourceType", ("resourceType",))])
    return value


def parse_xml(data: bytes) -> dict[str, Any]:
    """FHIR XML → FHIR JSON dict. DOCTYPE and entities are refused outright."""
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise InvalidInput("DOCTYPE not allowed", [Issue("fatal", "security", "XML with a DOCTYPE or entity declaration is refused", ())])
    try:
        root = etree.fromstring(data, parser=hardened_xml_parser())
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (None, None)
        raise InvalidInput("invalid XML", [Issue("fatal", "structure", f"invalid XML: {exc.msg}", (), line, col)]) from exc
    if root.getroottree().docinfo.doctype:  # a DOCTYPE the byte check missed (late, or in UTF-16)
        raise InvalidInput("DOCTYPE not allowed", [Issue("fatal", "security", "XML with a DOCTYPE or entity declaration is refused", ())])
    qname = etree.QName(root)
    if qname.namespace != "http://hl7.org/fhir":
        raise InvalidInput("not FHIR XML", [Issue("fatal", "structure", f"root element must be in the FHIR namespace, got {qname.namespace!r}", (qname.localname,), root.sourceline)])
    from fhir.resources.R4B import get_fhir_model_class

    try:
        model = get_fhir_model_class(qname.localname)
    except KeyError as exc:
        raise InvalidInput("unknown resource", [Issue("fatal", "structure", f"unknown resource type {qname.localname!r}", (qname.localname,), root.sourceline)]) from exc
    try:
        obj = model.model_validate_xml(data, xmlparser=hardened_xml_parser())
    except Exception as exc:  # pydantic ValidationError or lxml errors: report, never crash
        raise InvalidInput("invalid FHIR XML", [Issue("error", "structure", f"invalid FHIR XML: {str(exc)[:2000]}", (qname.localname,))]) from exc
    return orjson.loads(obj.model_dump_json(exclude_none=True))


def parse_body(data: bytes, content_type: str | None) -> dict[str, Any]:
    """Parse a request body by its Content-Type (JSON when absent)."""
    fmt = format_of(content_type) if content_type else "json"
    if fmt is None:
        raise UnsupportedMediaType(f"unsupported content type {content_type!r}")
    return parse_json(data) if fmt == "json" else parse_xml(data)


def render(resource: dict[str, Any], fmt: str, pretty: bool = False) -> bytes:
    if fmt == "xml":
        from fhir.resources.R4B import get_fhir_model_class

        model = get_fhir_model_class(resource["resourceType"])
        return model.model_validate(resource).model_dump_xml()
    return orjson.dumps(resource, option=orjson.OPT_INDENT_2 if pretty else 0)


def media_type(fmt: str) -> str:
    return XML if fmt == "xml" else JSON
