"""rivta-alert: the other alert types, several patients in one response, optional parts left out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.rivta_alert import convert_response
from hub.fhir.errors import InvalidInput

Loader = Callable[[str], bytes]
Pick = Callable[[dict[str, Any], str], list[dict[str, Any]]]
AMOX = "rivta/GetAlertInformation-195009072553-amoxicillin.xml"
LATEX = "rivta/GetAlertInformation-196101182803-latex.xml"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HYPERSENSITIVITY_START = b"<c:hypersensitivity>"
HYPERSENSITIVITY_END = b"</c:hypersensitivity>\n"


def _alert(payload: bytes) -> bytes:
    start = payload.index(b"  <alertInformation>")
    end = payload.index(b"</alertInformation>\n") + len(b"</alertInformation>\n")
    return payload[start:end]


def _with_body(example_bytes: Loader, type_code: str, content: str) -> bytes:
    payload = example_bytes(AMOX)
    start = payload.index(HYPERSENSITIVITY_START)
    end = payload.index(HYPERSENSITIVITY_END) + len(HYPERSENSITIVITY_END)
    payload = payload[:start] + content.encode() + b"\n" + payload[end:]
    return payload.replace(b"<c:code>upp-okh</c:code>", f"<c:code>{type_code}</c:code>".encode())


@pytest.mark.parametrize(
    ("type_code", "content", "category", "code"),
    [
        ("upp-vbe", "<c:restrictionOfCare><c:restrictionOfCareComment>Ej HLR enligt beslut 2024-01-10"
         "</c:restrictionOfCareComment></c:restrictionOfCare>", "advance-directive",
         {"text": "Ej HLR enligt beslut 2024-01-10"}),
        ("upp-arb", "<c:communicableDisease><c:communicableDiseaseCode><c:code>B18.1</c:code>"
         "<c:codeSystem>1.2.752.116.1.1.1.1.3</c:codeSystem><c:displayName>Kronisk hepatit B</c:displayName>"
         "</c:communicableDiseaseCode></c:communicableDisease>", "clinical",
         {"coding": [{"system": "urn:oid:1.2.752.116.1.1.1.1.3", "code": "B18.1", "display": "Kronisk hepatit B"}]}),
        ("upp-est", "<c:unstructuredAlertInformation><c:unstructuredAlertInformationHeading>Tolk"
         "</c:unstructuredAlertInformationHeading><c:unstructuredAlertInformationContent>Behöver tolk (arabiska)"
         "</c:unstructuredAlertInformationContent></c:unstructuredAlertInformation>", "clinical",
         {"text": "Tolk: Behöver tolk (arabiska)"}),
    ],
)
def test_flag_types(example_bytes: Loader, of_type: Pick, type_code: str, content: str, category: str,
                    code: dict[str, Any]) -> None:
    bundle = convert_response(_with_body(example_bytes, type_code, content), now=NOW)
    assert not of_type(bundle, "AllergyIntolerance")
    (flag,) = of_type(bundle, "Flag")
    assert flag["code"] == code
    codings = flag["category"][0]["coding"]
    assert codings[0]["code"] == category
    assert codings[1]["code"] == type_code
    (prov,) = of_type(bundle, "Provenance")
    assert prov["target"] == [{"reference": f"urn:uuid:{flag['id']}"}]


def test_alert_type_as_original_text_follows_the_body(example_bytes: Loader, of_type: Pick) -> None:
    payload = example_bytes(AMOX).replace(
        b"<c:code>upp-okh</c:code>\n        <c:codeSystem>1.2.752.129.2.2.2.1</c:codeSystem>\n"
        b"        <c:displayName>\xc3\x96verk\xc3\xa4nslighet</c:displayName>",
        "<c:originalText>Överkänslighet</c:originalText>".encode())
    assert b"originalText>\xc3\x96verk" in payload
    assert len(of_type(convert_response(payload, now=NOW), "AllergyIntolerance")) == 1


def test_two_patients_in_one_response(example_bytes: Loader, of_type: Pick) -> None:
    amox = example_bytes(AMOX)
    at = amox.index(b"  <result>")
    payload = amox[:at] + _alert(example_bytes(LATEX)) + amox[at:]
    bundle = convert_response(payload, now=NOW)
    patients = of_type(bundle, "Patient")
    assert sorted(p["identifier"][0]["value"] for p in patients) == ["195009072553", "196101182803"]
    urls = {e["resource"]["identifier"][0]["value"]: e["fullUrl"] for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Patient"}
    by_doc = {a["identifier"][0]["value"]: a["patient"]["reference"] for a in of_type(bundle, "AllergyIntolerance")}
    assert by_doc["SE2321000016-7K2Q/okh-2024-0001"] == urls["195009072553"]
    assert by_doc["SE2321000016-7K2Q/okh-2023-0417"] == urls["196101182803"]


def test_ten_digit_patient_id_is_normalised(example_bytes: Loader, of_type: Pick) -> None:
    payload = example_bytes(AMOX).replace(b"<c:id>195009072553</c:id>", b"<c:id>500907-2553</c:id>")
    (patient,) = of_type(convert_response(payload, now=NOW), "Patient")
    assert patient["identifier"][0]["value"] == "195009072553"


def test_without_professional_the_care_unit_is_the_agent(example_bytes: Loader, of_type: Pick) -> None:
    payload = example_bytes(AMOX)
    for tag in (b"healthcareProfessionalHSAId", b"healthcareProfessionalName"):
        start = payload.index(b"<c:" + tag + b">")
        end = payload.index(b"</c:" + tag + b">") + len(tag) + 5
        payload = payload[:start] + payload[end:]
    bundle = convert_response(payload, now=NOW)
    (ai,) = of_type(bundle, "AllergyIntolerance")
    assert "recorder" not in ai and "asserter" not in ai
    (agent,) = of_type(bundle, "Provenance")[0]["agent"]
    assert agent["who"]["identifier"]["value"] == "SE2321000016-15CQ" and "onBehalfOf" not in agent


def test_unmapped_free_text_grades_are_left_out(example_bytes: Loader, of_type: Pick) -> None:
    payload = example_bytes(LATEX).replace(b"Skadlig", b"Oklart").replace(b"Misst\xc3\xa4nkt", b"Vet ej")
    (ai,) = of_type(convert_response(payload, now=NOW), "AllergyIntolerance")
    assert "criticality" not in ai and "verificationStatus" not in ai
    assert ai["clinicalStatus"]["coding"][0]["code"] == "active"


def test_free_text_is_matched_ignoring_case(example_bytes: Loader, of_type: Pick) -> None:
    payload = example_bytes(LATEX).replace(b"Skadlig", b"LIVSHOTANDE")
    (ai,) = of_type(convert_response(payload, now=NOW), "AllergyIntolerance")
    assert ai["criticality"] == "high"


def test_pharmaceutical_product_ids_become_extra_codings(example_bytes: Loader, of_type: Pick) -> None:
    npl = ("<c:pharmaceuticalProductId><c:code>19750101000018</c:code><c:codeSystem>1.2.752.129.2.1.5.1</c:codeSystem>"
           "<c:displayName>Amimox</c:displayName></c:pharmaceuticalProductId>")
    payload = example_bytes(AMOX).replace(b"</c:atcSubstance>", b"</c:atcSubstance>" + npl.encode())
    (ai,) = of_type(convert_response(payload, now=NOW), "AllergyIntolerance")
    assert [c["system"] for c in ai["code"]["coding"]] == ["http://www.whocc.no/atc", "urn:oid:1.2.752.129.2.1.5.1"]


def test_latin1_encoded_response(example_bytes: Loader, of_type: Pick) -> None:
    text = example_bytes(LATEX).decode("utf-8").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    (ai,) = of_type(convert_response(text.encode("latin-1"), now=NOW), "AllergyIntolerance")
    assert ai["verificationStatus"]["coding"][0]["code"] == "unconfirmed"  # "Misstänkt" decoded correctly


def test_same_document_twice_is_reported(example_bytes: Loader) -> None:
    amox = example_bytes(AMOX)
    at = amox.index(b"  <result>")
    payload = amox[:at] + _alert(amox) + amox[at:]
    with pytest.raises(InvalidInput) as exc:
        convert_response(payload, now=NOW)
    (issue,) = exc.value.issues
    assert issue.code == "duplicate"
    assert issue.expression == ("alertInformation[2]/alertInformationHeader/documentId",)
