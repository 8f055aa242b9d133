"""Primitive formats (http://hl7.org/fhir/R4/datatypes.html#primitive)."""

from __future__ import annotations

import pytest

from hub.validation._primitives import CHECKERS

VALID = [
    ("id", "abc-123.X"), ("id", "a" * 64), ("code", "entered-in-error"), ("code", "a b"),
    ("date", "2024"), ("date", "2024-02"), ("date", "2024-02-29"),
    ("dateTime", "2024-02-29T10:20:30+01:00"), ("dateTime", "2019-03-15"), ("dateTime", "2019-03-15T10:20:30.123Z"),
    ("instant", "2024-05-02T08:30:00.5+02:00"), ("time", "23:59:59"), ("uri", "urn:oid:1.2.3"),
    ("oid", "urn:oid:1.2.752.29.4.19"), ("uuid", "urn:uuid:9ce2a97b-5cab-4986-814f-4734016e6084"),
    ("boolean", True), ("integer", -5), ("positiveInt", 1), ("unsignedInt", 0), ("decimal", 1.5), ("decimal", 3),
    ("base64Binary", "aGVs\n cCBp"), ("string", "Klorhexidin"), ("markdown", "**a**"),
]
INVALID = [
    ("id", "a" * 65), ("id", "has space"), ("id", 12), ("code", " lead"), ("code", "a  b"), ("code", ""),
    ("date", "2023-02-30"), ("date", "2024-13"), ("date", "24-01-01"), ("dateTime", "2024-01-01T10:00"),
    ("dateTime", "2024-01-01T10:00:00"), ("dateTime", "2021-04-31T10:00:00Z"), ("instant", "2024-05-02"),
    ("time", "24:00:00"), ("oid", "urn:oid:01.2"), ("uuid", "urn:uuid:ABC"), ("boolean", "true"),
    ("integer", 1.5), ("integer", True), ("integer", 2**31), ("positiveInt", 0), ("unsignedInt", -1),
    ("decimal", "1.5"), ("decimal", False), ("base64Binary", "not base64!"), ("string", ""), ("string", "   "),
    ("string", 5), ("uri", "has space"),
]


@pytest.mark.parametrize(("ptype", "value"), VALID)
def test_valid_primitive(ptype: str, value: object) -> None:
    assert CHECKERS[ptype](value) is None


@pytest.mark.parametrize(("ptype", "value"), INVALID)
def test_invalid_primitive(ptype: str, value: object) -> None:
    assert CHECKERS[ptype](value) is not None
