"""Bytes → resource dict for JSON (orjson, with line/column on syntax errors) and XML.
Spec: http://hl7.org/fhir/R4/json.html
"""

from __future__ import annotations

import json
from typing import Any

from hub.fhir.errors import Issue


def parse_json(data: bytes | str) -> tuple[Any, list[Issue]]:
    """Parse JSON; a syntax error becomes one fatal issue with line and column."""
    import orjson

    try:
        return orjson.loads(data), []
    except orjson.JSONDecodeError:
        pass
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    try:
        return json.loads(text), []
    except json.JSONDecodeError as exc:
        return None, [Issue("fatal", "structure", f"JSON syntax error: {exc.msg}", (), exc.lineno, exc.colno)]
    except RecursionError:
        return None, [Issue("fatal", "too-costly", "JSON is nested too deeply", (), 1, 1)]


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate(k)
        out[k] = v
    return out


def duplicate_key(data: bytes | str) -> str | None:
    """The first property name that occurs twice in one JSON object (FHIR JSON forbids it), else None."""
    try:
        json.loads(data, object_pairs_hook=_no_duplicates)
    except _Duplicate as exc:
        return str(exc)
    except (ValueError, RecursionError):
        return None
    return None


def parse(data: bytes, fmt: str) -> tuple[Any, list[Issue]]:
    if fmt == "xml":
        from hub.validation._xml import parse_xml

        return parse_xml(data)
    if fmt != "json":
        raise ValueError(f"unknown format {fmt!r} (json or xml)")
    value, issues = parse_json(data)
    if not issues and not isinstance(value, dict):
        return None, [Issue("fatal", "structure", "a FHIR resource must be a JSON object", (), 1, 1)]
    if not issues:
        dup = duplicate_key(data)
        if dup is not None:
            issues = [Issue("error", "structure", f"property '{dup}' occurs more than once in an object", ())]
    return value, issues


def sniff_format(data: bytes) -> str:
    """'xml' when the first non-blank byte is '<', else 'json'."""
    head = data.lstrip()[:1]
    if head.startswith(b"\xef\xbb\xbf"):
        head = data.lstrip()[3:4]
    return "xml" if head == b"<" else "json"
