"""Parsing: JSON syntax errors with line/column, FHIR XML to JSON, and the hardened XML parser."""

from __future__ import annotations

import json
from typing import Any

from hub.validation import has_errors, validate_bytes

from .conftest import error_paths

XML_ALLERGY = b"""<?xml version="1.0" encoding="UTF-8"?>
<AllergyIntolerance xmlns="http://hl7.org/fhir">
  <id value="x1"/>
  <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Latex</p></div></text>
  <clinicalStatus><coding><system value="http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"/><code value="active"/></coding></clinicalStatus>
  <category value="environment"/>
  <category id="c2"><extension url="http://example.org/x"><valueBoolean value="true"/></extension></category>
  <code><coding><system value="http://snomed.info/sct"/><code value="111088007"/></coding></code>
  <patient><reference value="Patient/p1"/></patient>
  <reaction><manifestation><text value="Urtikaria"/></manifestation><severity value="mild"/></reaction>
</AllergyIntolerance>
"""


def test_json_syntax_error_has_line_and_column() -> None:
    resource, issues = validate_bytes(b'{\n  "resourceType": "Patient",\n  "id": "a"\n  "active": true\n}')
    assert resource is None
    assert [(i.severity, i.line, i.column) for i in issues] == [("fatal", 4, 3)]


def test_json_must_be_an_object() -> None:
    resource, issues = validate_bytes(b"[1, 2]")
    assert resource is None and has_errors(issues)


def test_xml_converts_to_fhir_json() -> None:
    resource, issues = validate_bytes(XML_ALLERGY, "xml")
    assert issues == []
    assert resource is not None
    assert resource["category"] == ["environment", None]
    assert resource["_category"] == [None, {"id": "c2", "extension": [{"url": "http://example.org/x", "valueBoolean": True}]}]
    assert resource["patient"] == {"reference": "Patient/p1"}
    assert resource["text"]["div"].startswith("<div")


def test_xml_unknown_element_and_bad_value() -> None:
    data = XML_ALLERGY.replace(b'<category value="environment"/>', b'<colour value="red"/><criticality value="huge"/>')
    _, issues = validate_bytes(data, "xml")
    assert "AllergyIntolerance.colour" in error_paths(issues)
    assert "AllergyIntolerance.criticality" in error_paths(issues)


def test_xml_syntax_error_has_line() -> None:
    resource, issues = validate_bytes(b'<Patient xmlns="http://hl7.org/fhir">\n<id value="a">\n</Patient>', "xml")
    assert resource is None and issues[0].severity == "fatal" and issues[0].line == 3


def test_xml_rejects_dtd_and_entities() -> None:
    evil = (b'<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
            b'<Patient xmlns="http://hl7.org/fhir"><id value="&x;"/></Patient>')
    resource, issues = validate_bytes(evil, "xml")
    assert resource is None and has_errors(issues)


def test_xml_wrong_namespace() -> None:
    _, issues = validate_bytes(b'<Patient xmlns="http://example.org"/>', "xml")
    assert has_errors(issues)


def test_json_bytes_round_trip(allergy: dict[str, Any]) -> None:
    resource, issues = validate_bytes(json.dumps(allergy).encode())
    assert resource == allergy and issues == []


def test_duplicate_property_is_an_error() -> None:
    resource, issues = validate_bytes(b'{"resourceType": "Patient", "active": true, "active": false}')
    assert resource is not None
    assert [(i.severity, i.code) for i in issues] == [("error", "structure")]
