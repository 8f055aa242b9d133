"""OID ↔ URI from the project's NamingSystem resources (domain.md sections 2 and 4)."""

import pytest

from hub.terminology import LocalTerminologyService


@pytest.mark.parametrize(
    ("oid", "uri"),
    [
        ("1.2.752.129.2.2.3.1.1", "http://www.whocc.no/atc"),
        ("1.2.752.116.2.1.1", "http://snomed.info/sct"),
        ("1.2.752.129.2.1.3.1", "http://electronichealth.se/identifier/personnummer"),
        ("1.2.752.129.2.1.3.3", "http://electronichealth.se/identifier/samordningsnummer"),
        ("1.2.752.129.2.1.4.1", "urn:oid:1.2.752.29.4.19"),
        ("1.2.752.116.1.1.1.1.3", "urn:oid:1.2.752.116.1.1.1.1.3"),
        ("1.2.752.129.2.2.2.1", "urn:oid:1.2.752.129.2.2.2.1"),
    ],
)
def test_oid_to_uri_and_back(project: LocalTerminologyService, oid: str, uri: str) -> None:
    assert project.oid_to_uri(oid) == uri
    assert project.oid_to_uri("urn:oid:" + oid) == uri
    assert project.uri_to_oid(uri) == oid


@pytest.mark.parametrize(
    "alias", ["https://terminology.hl7.se/sid/se-personnummer", "urn:oid:1.2.752.129.2.1.3.1"]
)
def test_personnummer_aliases(project: LocalTerminologyService, alias: str) -> None:
    assert project.uri_to_oid(alias) == "1.2.752.129.2.1.3.1"


def test_unknown_uri_has_no_oid(project: LocalTerminologyService) -> None:
    assert project.uri_to_oid("http://example.org/x") is None


def test_unregister_naming_system() -> None:
    svc = LocalTerminologyService()
    svc.register({"resourceType": "NamingSystem", "name": "X", "status": "active", "kind": "codesystem",
                  "uniqueId": [{"type": "oid", "value": "1.2.3"}, {"type": "uri", "value": "http://x", "preferred": True}]})
    assert svc.oid_to_uri("1.2.3") == "http://x"
    assert svc.unregister("NamingSystem", "X")
    assert svc.oid_to_uri("1.2.3") == "urn:oid:1.2.3"
