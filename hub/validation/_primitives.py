"""Format checks for FHIR primitive values in JSON form. Spec: http://hl7.org/fhir/R4/datatypes.html#primitive

Each checker takes the JSON value and returns None when valid, else a short reason.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import re
from collections.abc import Callable
from typing import Any

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_TZ = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_DATE_RE = re.compile(rf"{_YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?")
_DATETIME_RE = re.compile(
    rf"{_YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T{_TIME}{_TZ})?)?)?"
)
_INSTANT_RE = re.compile(rf"{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T{_TIME}{_TZ}")
_TIME_RE = re.compile(_TIME)
_ID_RE = re.compile(r"[A-Za-z0-9\-\.]{1,64}")
_CODE_RE = re.compile(r"[^\s]+( [^\s]+)*")
_OID_RE = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+")
_UUID_RE = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_URI_RE = re.compile(r"\S*")
_DECIMAL_RE = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _day_ok(text: str) -> bool:
    """Calendar check for the YYYY-MM-DD part (regexes accept 2023-02-30)."""
    if len(text) >= 10 and text[8:10] > "28":
        y, m, d = int(text[0:4]), int(text[5:7]), int(text[8:10])
        return d <= calendar.monthrange(y, m)[1]
    return True


def _string(v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be a JSON string"
    if not v.strip():
        return "must not be empty or only whitespace"
    if len(v) > 1_048_576:
        return "is longer than 1 MB"
    return None


def _regex(rx: re.Pattern[str], what: str, day: bool = False) -> Callable[[Any], str | None]:
    match = rx.fullmatch

    def check(v: Any) -> str | None:
        if not isinstance(v, str):
            return "must be a JSON string"
        if match(v) is None:
            return f"is not a valid {what}"
        if day and not _day_ok(v):
            return f"is not a valid {what} (no such day)"
        return None

    return check


def _boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be a JSON boolean (true/false)"


def _int_range(lo: int, hi: int, what: str) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int):
            return f"must be a JSON number without fraction ({what})"
        if v < lo or v > hi:
            return f"is out of range for {what}"
        return None

    return check


def _decimal(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return "must be a JSON number"
    if v != v or v in (float("inf"), float("-inf")):
        return "is not a finite decimal"
    return None


def _base64(v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be a JSON string"
    compact = "".join(v.split())
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return "is not valid base64"
    return None


def _xhtml(v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be a JSON string"
    return None  # structure checked by the narrative module


CHECKERS: dict[str, Callable[[Any], str | None]] = {
    "string": _string,
    "markdown": _string,
    "id": _regex(_ID_RE, "id"),
    "code": _regex(_CODE_RE, "code"),
    "uri": _regex(_URI_RE, "uri"),
    "url": _regex(_URI_RE, "url"),
    "canonical": _regex(_URI_RE, "canonical"),
    "oid": _regex(_OID_RE, "oid"),
    "uuid": _regex(_UUID_RE, "uuid"),
    "date": _regex(_DATE_RE, "date", day=True),
    "dateTime": _regex(_DATETIME_RE, "dateTime", day=True),
    "instant": _regex(_INSTANT_RE, "instant", day=True),
    "time": _regex(_TIME_RE, "time"),
    "boolean": _boolean,
    "integer": _int_range(INT32_MIN, INT32_MAX, "integer"),
    "integer64": _int_range(-(2**63), 2**63 - 1, "integer64"),
    "positiveInt": _int_range(1, INT32_MAX, "positiveInt"),
    "unsignedInt": _int_range(0, INT32_MAX, "unsignedInt"),
    "decimal": _decimal,
    "base64Binary": _base64,
    "xhtml": _xhtml,
}

# Values that come from XML are strings; these parse them into JSON types first (see _xml.py).
JSON_NUMBER_TYPES = frozenset({"integer", "integer64", "positiveInt", "unsignedInt", "decimal"})
