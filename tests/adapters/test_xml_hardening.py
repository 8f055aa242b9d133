"""Hardened XML parsing: malformed input, DTD/entity attacks, size limit (OWASP XXE prevention)."""

from collections.abc import Callable

import pytest

from adapters import get_adapter
from adapters._xml import parse_xml
from hub.fhir.errors import InvalidInput


def _issues(payload: bytes) -> list:
    with pytest.raises(InvalidInput) as exc:
        get_adapter("rivta-alert").convert(payload)
    return exc.value.issues


def test_malformed_xml_reports_line_and_column(fixture_bytes: Callable[[str], bytes]) -> None:
    (issue,) = _issues(fixture_bytes("malformed.xml"))
    assert issue.code == "structure"
    assert issue.line == 8 and issue.column is not None
    assert "malformed XML" in issue.diagnostics


@pytest.mark.parametrize("name", ["xxe-external-entity.xml", "billion-laughs.xml"])
def test_doctype_and_entities_are_refused(fixture_bytes: Callable[[str], bytes], name: str) -> None:
    (issue,) = _issues(fixture_bytes(name))
    assert "DOCTYPE" in issue.diagnostics
    assert issue.line == 2


def test_doctype_in_utf16_is_refused_after_parsing() -> None:
    doc = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'.encode("utf-16")
    with pytest.raises(InvalidInput, match="DOCTYPE"):
        parse_xml(doc)


def test_oversized_payload_is_refused_before_parsing() -> None:
    payload = b"<a>" + b"x" * 2000 + b"</a>"
    with pytest.raises(InvalidInput, match="exceeds the limit"):
        parse_xml(payload, max_bytes=1000)
    assert parse_xml(payload, max_bytes=10_000).tag == "a"


def test_default_limit_is_twenty_megabytes() -> None:
    with pytest.raises(InvalidInput, match="exceeds the limit"):
        parse_xml(b" " * (20 * 1024 * 1024 + 1))


@pytest.mark.parametrize("payload", [b"", b"   ", b"not xml at all", b"{\"resourceType\": \"Patient\"}"])
def test_non_xml_is_invalid_input(payload: bytes) -> None:
    assert _issues(payload)


def test_wrong_root_element_is_named() -> None:
    (issue,) = _issues(b'<GetAlertInformation xmlns="urn:riv:clinicalprocess:healthcond:description:GetAlertInformationResponder:2"/>')
    assert "GetAlertInformationResponse" in issue.diagnostics
    assert issue.expression == ("GetAlertInformation",)


def test_soap_fault_is_reported(fixture_bytes: Callable[[str], bytes]) -> None:
    (issue,) = _issues(fixture_bytes("soap12-fault.xml"))
    assert "VP004" in issue.diagnostics


def test_doctype_text_inside_the_document_is_not_mistaken_for_a_declaration() -> None:
    root = parse_xml(b"<a><!-- a <!DOCTYPE mention --><![CDATA[<!ENTITY x>]]></a>")
    assert root.tag == "a"
