"""Identifier normalisation: systems and values (domain.md section 4)."""

from datetime import date

import pytest

import hub.identity as identity
from hub.fhir.errors import InvalidInput
from hub.identity import normalise_fhir_identifier, normalise_identifier, normalise_system

PNR = "http://electronichealth.se/identifier/personnummer"
SNR = "http://electronichealth.se/identifier/samordningsnummer"
RES = "http://electronichealth.se/identifier/nationelltReservnummer"


@pytest.mark.parametrize(
    "system",
    [PNR, "https://terminology.hl7.se/sid/se-personnummer", "urn:oid:1.2.752.129.2.1.3.1", "1.2.752.129.2.1.3.1"],
)
def test_personnummer_systems(system: str) -> None:
    assert normalise_identifier(system, "195009072553") == {"system": PNR, "value": "195009072553"}


def test_ten_digit_value_becomes_twelve() -> None:
    got = normalise_identifier(PNR, "121212+1212", today=date(2026, 11, 25))
    assert got == {"system": PNR, "value": "191212121212"}


def test_samordningsnummer_system() -> None:
    assert normalise_identifier("1.2.752.129.2.1.3.3", "196109732393") == {"system": SNR, "value": "196109732393"}


def test_samordningsnummer_under_personnummer_system_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="samordningsnummer"):
        normalise_identifier(PNR, "196109732393")


def test_bad_check_digit_names_the_element() -> None:
    with pytest.raises(InvalidInput) as exc:
        normalise_identifier(PNR, "195009072554", expression="Patient.identifier[0]")
    (issue,) = exc.value.issues
    assert issue.severity == "error" and issue.code == "value"
    assert issue.expression == ("Patient.identifier[0]",)
    assert "check digit" in issue.diagnostics


def test_reservnummer_has_no_check() -> None:
    assert normalise_identifier("urn:oid:1.2.752.97.3.1.3", "99FA 1234") == {"system": RES, "value": "99FA1234"}


def test_hsa_id_systems() -> None:
    for s in ("1.2.752.129.2.1.4.1", "urn:oid:1.2.752.29.4.19"):
        assert normalise_identifier(s, " SE2321000016-15CQ ") == {
            "system": "urn:oid:1.2.752.29.4.19", "value": "SE2321000016-15CQ"}
    with pytest.raises(InvalidInput):
        normalise_identifier("urn:oid:1.2.752.29.4.19", "SE2321 000016")


def test_other_systems() -> None:
    assert normalise_system("1.2.3.4") == "urn:oid:1.2.3.4"
    assert normalise_system("URN:OID:1.2.3.4") == "urn:oid:1.2.3.4"
    assert normalise_system("http://example.org/ids") == "http://example.org/ids"
    assert normalise_identifier("http://example.org/ids", " abc ") == {"system": "http://example.org/ids", "value": "abc"}


@pytest.mark.parametrize(("system", "value"), [(None, "1"), ("", "1"), (PNR, None), (PNR, "  ")])
def test_missing_parts(system: str | None, value: str | None) -> None:
    with pytest.raises(InvalidInput):
        normalise_identifier(system, value)


def test_fhir_identifier_keeps_other_elements() -> None:
    given = {"use": "official", "system": "https://terminology.hl7.se/sid/se-personnummer", "value": "5009072553"}
    assert normalise_fhir_identifier(given, today=date(2026, 1, 1)) == {
        "use": "official", "system": PNR, "value": "195009072553"}
    assert given["system"].startswith("https://terminology")  # input untouched


def test_public_api_is_pinned() -> None:
    assert identity.__all__ == sorted(identity.__all__)
    assert set(identity.__all__) == {
        "HSA_SYSTEM", "PERSONNUMMER_SYSTEM", "RESERVNUMMER_SYSTEM", "SAMORDNINGSNUMMER_SYSTEM", "PersonNumber",
        "is_person_system", "is_valid_personnummer", "is_valid_samordningsnummer", "luhn_check_digit",
        "luhn_valid", "normalise_fhir_identifier", "normalise_identifier", "normalise_system",
        "parse_person_number", "preferred_identifier",
    }


def test_preferred_identifier() -> None:
    idents = [
        {"system": "urn:oid:1.2.752.97.3.1.3", "value": "99FA1234"},
        {"system": "http://example.org/mrn", "value": "42"},
        {"system": "urn:oid:1.2.752.129.2.1.3.3", "value": "196109732393"},
    ]
    assert identity.preferred_identifier(idents) == {"system": SNR, "value": "196109732393"}
    assert identity.preferred_identifier([*idents, {"system": PNR, "value": "195009072553"}]) == {
        "system": PNR, "value": "195009072553"}
    assert identity.preferred_identifier(idents[1:2]) is None
    assert identity.preferred_identifier([{"system": PNR}, {"value": "1"}]) is None
