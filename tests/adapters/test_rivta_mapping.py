"""rivta-alert mapping rules (domain.md sections 1, 2, 4, 5) on the project's example responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters import get_adapter
from adapters.rivta_alert import convert_response

AMOX = "rivta/GetAlertInformation-195009072553-amoxicillin.xml"
LATEX = "rivta/GetAlertInformation-196101182803-latex.xml"
SOAP = "rivta/GetAlertInformation-199002222397-soap11-chlorhexidine-diabetes.xml"
WARFARIN = "rivta/GetAlertInformation-195009072553-warfarin-treatment.xml"
OBSOLETE = "rivta/GetAlertInformation-196101182803-obsolete-contrast.xml"
HSA = "urn:oid:1.2.752.29.4.19"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

Loader = Callable[[str], bytes]
Pick = Callable[[dict[str, Any], str], list[dict[str, Any]]]


def _convert(example_bytes: Loader, name: str, now: datetime = NOW) -> dict[str, Any]:
    return convert_response(example_bytes(name), now=now)


def _source(care_giver: str, care_unit: str) -> dict[str, Any]:
    return {
        "url": "https://knutpunkt.se/fhir/StructureDefinition/information-source",
        "extension": [
            {"url": "careGiver", "valueIdentifier": {"system": HSA, "value": care_giver}},
            {"url": "careUnit", "valueIdentifier": {"system": HSA, "value": care_unit}},
            {"url": "informationType", "valueCode": "upp"},
        ],
    }


def test_bundle_shape(example_bytes: Loader) -> None:
    bundle = get_adapter("rivta-alert").convert(example_bytes(AMOX))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    types = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert types == ["Patient", "AllergyIntolerance", "Provenance"]
    for e in bundle["entry"]:
        assert e["fullUrl"].startswith("urn:uuid:")
        if "id" in e["resource"]:
            assert e["fullUrl"] == f"urn:uuid:{e['resource']['id']}"


def test_patient(example_bytes: Loader, of_type: Pick) -> None:
    (patient,) = of_type(_convert(example_bytes, AMOX), "Patient")
    assert "id" not in patient
    assert patient["meta"]["profile"] == ["https://knutpunkt.se/fhir/StructureDefinition/se-patient"]
    assert patient["identifier"] == [{"system": "http://electronichealth.se/identifier/personnummer", "value": "195009072553"}]


def test_pharmaceutical_allergy(example_bytes: Loader, of_type: Pick) -> None:
    bundle = _convert(example_bytes, AMOX)
    (ai,) = of_type(bundle, "AllergyIntolerance")
    patient_url = bundle["entry"][0]["fullUrl"]
    assert ai["meta"]["profile"] == ["https://knutpunkt.se/fhir/StructureDefinition/se-allergyintolerance"]
    assert ai["identifier"] == [
        {"system": "https://knutpunkt.se/fhir/sid/rivta-document", "value": "SE2321000016-7K2Q/okh-2024-0001"}]
    assert ai["patient"] == {"reference": patient_url}
    assert ai["clinicalStatus"]["coding"][0]["code"] == "active"
    assert ai["verificationStatus"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
        "code": "confirmed", "display": "Confirmed"}
    assert ai["category"] == ["medication"]
    assert ai["criticality"] == "high"  # SNOMED 442452003 Livshotande
    assert ai["code"]["coding"] == [{"system": "http://www.whocc.no/atc", "code": "J01CA04", "display": "Amoxicillin"}]
    assert ai["recordedDate"] == "2024-01-15T10:30:00+01:00"
    assert ai["onsetDateTime"] == "2024-01-15T00:00:00+01:00"
    assert ai["note"] == [{"text": "Anafylaktisk reaktion efter första dosen vid tonsillit 2023."}]
    prof = {"type": "Practitioner", "identifier": {"system": HSA, "value": "SE2321000016-1H5T"}, "display": "Anna Lind"}
    assert ai["recorder"] == prof and ai["asserter"] == prof
    assert ai["extension"] == [_source("SE2321000016-0001", "SE2321000016-15CQ")]


def test_other_hypersensitivity_free_text_grades(example_bytes: Loader, of_type: Pick) -> None:
    (ai,) = of_type(_convert(example_bytes, LATEX), "AllergyIntolerance")
    assert "category" not in ai
    assert ai["criticality"] == "low"  # free text Skadlig
    assert ai["verificationStatus"]["coding"][0]["code"] == "unconfirmed"  # Misstänkt
    assert ai["code"] == {
        "coding": [{"system": "http://snomed.info/sct", "code": "111088007", "display": "latex"}], "text": "Latex"}
    assert ai["recordedDate"] == "2023-06-03T14:22:10+02:00"  # summer time offset


def test_soap11_envelope_with_two_documents(example_bytes: Loader, of_type: Pick) -> None:
    bundle = _convert(example_bytes, SOAP)
    (patient,) = of_type(bundle, "Patient")  # one Patient per distinct person
    (ai,) = of_type(bundle, "AllergyIntolerance")
    (flag,) = of_type(bundle, "Flag")
    assert len(of_type(bundle, "Provenance")) == 2
    assert ai["code"]["coding"][0]["code"] == "373568007"
    assert ai["criticality"] == "low"  # SNOMED 59031000052109 Besvärande
    assert ai["extension"] == [_source("SE2321000131-0001", "SE2321000131-E0Q1")]
    assert flag["subject"] == ai["patient"]
    assert patient["identifier"][0]["value"] == "199002222397"


def test_soap12_envelope(example_bytes: Loader, of_type: Pick) -> None:
    body = example_bytes(AMOX).split(b"-->", 1)[1]
    payload = (b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Header/><e:Body>'
               + body + b"</e:Body></e:Envelope>")
    assert len(of_type(convert_response(payload, now=NOW), "AllergyIntolerance")) == 1


def test_serious_disease_becomes_flag(example_bytes: Loader, of_type: Pick) -> None:
    (flag,) = of_type(_convert(example_bytes, SOAP), "Flag")
    assert flag["status"] == "active"
    assert flag["code"]["coding"] == [{"system": "urn:oid:1.2.752.116.1.1.1.1.3", "code": "E10.9",
                                       "display": "Diabetes mellitus typ 1 utan komplikationer"}]
    codings = flag["category"][0]["coding"]
    assert {"system": "http://terminology.hl7.org/CodeSystem/flag-category", "code": "clinical", "display": "Clinical"} in codings
    assert {"system": "urn:oid:1.2.752.129.2.2.2.1", "code": "upp-uas", "display": "Allvarlig sjukdom"} in codings
    assert flag["period"] == {"start": "2021-01-20T00:00:00+01:00"}
    assert flag["extension"] == [_source("SE2321000131-0001", "SE2321000131-E0Q1")]


def test_treatment_flag(example_bytes: Loader, of_type: Pick) -> None:
    (flag,) = of_type(_convert(example_bytes, WARFARIN), "Flag")
    assert flag["code"]["coding"][0] == {"system": "http://www.whocc.no/atc", "code": "B01AA03", "display": "Warfarin"}
    assert flag["code"]["text"].startswith("Behandlas med warfarin")
    assert flag["author"]["identifier"]["value"] == "SE2321000016-1H5T"


def test_obsolete_becomes_inactive(example_bytes: Loader, of_type: Pick) -> None:
    (ai,) = of_type(_convert(example_bytes, OBSOLETE), "AllergyIntolerance")
    assert ai["clinicalStatus"]["coding"][0]["code"] == "inactive"
    assert ai["code"] == {"text": "Jodkontrastmedel"}
    assert ai["category"] == ["medication"]
    assert {"text": "Preparat ej känt, reaktion vid DT-undersökning."} in ai["note"]
    assert {"text": "Inaktuell: Provokation utan reaktion 2024-02-20."} in ai["note"]


def test_obsolete_time_in_the_future_is_still_active(example_bytes: Loader, of_type: Pick) -> None:
    (ai,) = of_type(_convert(example_bytes, OBSOLETE, now=datetime(2024, 1, 1, tzinfo=UTC)), "AllergyIntolerance")
    assert ai["clinicalStatus"]["coding"][0]["code"] == "active"


@pytest.mark.parametrize(("end", "status"), [("20250101000000", "inactive"), ("20991231000000", "active")])
def test_validity_end(example_bytes: Loader, of_type: Pick, end: str, status: str) -> None:
    payload = example_bytes(AMOX).replace(
        b"<c:start>20240115000000</c:start>", f"<c:start>20240115000000</c:start><c:end>{end}</c:end>".encode())
    (ai,) = of_type(convert_response(payload, now=NOW), "AllergyIntolerance")
    assert ai["clinicalStatus"]["coding"][0]["code"] == status


def test_provenance(example_bytes: Loader, of_type: Pick) -> None:
    bundle = _convert(example_bytes, AMOX)
    (ai,) = of_type(bundle, "AllergyIntolerance")
    (prov,) = of_type(bundle, "Provenance")
    assert prov["target"] == [{"reference": f"urn:uuid:{ai['id']}"}]
    assert prov["recorded"] == "2024-01-15T10:30:00+01:00"
    assert prov["entity"] == [{"role": "source", "what": {"identifier": ai["identifier"][0]}}]
    (agent,) = prov["agent"]
    assert agent["who"]["identifier"] == {"system": HSA, "value": "SE2321000016-1H5T"}
    assert agent["onBehalfOf"]["identifier"] == {"system": HSA, "value": "SE2321000016-15CQ"}
    assert prov["extension"] == ai["extension"]


def test_without_care_giver_the_information_source_is_left_out(example_bytes: Loader, of_type: Pick) -> None:
    payload = example_bytes(AMOX).replace(
        b"<c:healthcareProfessionalCareGiverHSAId>SE2321000016-0001</c:healthcareProfessionalCareGiverHSAId>", b"")
    bundle = convert_response(payload, now=NOW)
    (ai,) = of_type(bundle, "AllergyIntolerance")
    (prov,) = of_type(bundle, "Provenance")
    assert "extension" not in ai and "extension" not in prov


def _patients_masked(bundle: dict[str, Any]) -> str:
    text = json.dumps(bundle, sort_keys=True)
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "Patient":
            text = text.replace(e["fullUrl"], "urn:uuid:PATIENT")
    return text


def test_determinism_same_document_same_output(example_bytes: Loader) -> None:
    one, two = (_convert(example_bytes, SOAP) for _ in range(2))
    assert [e["resource"].get("id") for e in one["entry"]] == [e["resource"].get("id") for e in two["entry"]]
    assert _patients_masked(one) == _patients_masked(two)


def test_ids_depend_on_source_system_and_document(example_bytes: Loader, of_type: Pick) -> None:
    base = of_type(_convert(example_bytes, AMOX), "AllergyIntolerance")[0]["id"]
    other_doc = example_bytes(AMOX).replace(b"okh-2024-0001", b"okh-2024-0099")
    other_src = example_bytes(AMOX).replace(b"SE2321000016-7K2Q", b"SE2321000016-XXXX")
    ids = {of_type(convert_response(p, now=NOW), "AllergyIntolerance")[0]["id"] for p in (other_doc, other_src)}
    assert base not in ids and len(ids) == 2


def test_samordningsnummer_patient(example_bytes: Loader, of_type: Pick) -> None:
    payload = example_bytes(AMOX).replace(b"<c:id>195009072553</c:id>", b"<c:id>196109732393</c:id>").replace(
        b"<c:type>1.2.752.129.2.1.3.1</c:type>", b"<c:type>1.2.752.129.2.1.3.3</c:type>")
    (patient,) = of_type(convert_response(payload, now=NOW), "Patient")
    assert patient["identifier"] == [
        {"system": "http://electronichealth.se/identifier/samordningsnummer", "value": "196109732393"}]


def test_output_is_valid_r4(example_bytes: Loader) -> None:
    from fhir.resources.R4B.bundle import Bundle

    for name in (AMOX, LATEX, SOAP, WARFARIN, OBSOLETE):
        Bundle.model_validate(_convert(example_bytes, name))


def test_empty_response_gives_empty_bundle() -> None:
    payload = (b'<GetAlertInformationResponse xmlns="urn:riv:clinicalprocess:healthcond:description:'
               b'GetAlertInformationResponder:2"/>')
    assert convert_response(payload)["entry"] == []
