"""Adapter `hl7v2`: ADT^A01/A08 PID + AL1 (domain.md section 3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adapters import get_adapter
from adapters._v2 import Delimiters, parse_message, unescape
from hub.fhir.errors import InvalidInput, Issue

Loader = Callable[[str], bytes]
Pick = Callable[[dict[str, Any], str], list[dict[str, Any]]]
A08 = "hl7v2/ADT_A08-195009072553-allergies.hl7"
A01 = "hl7v2/ADT_A01-199002222397-chlorhexidine.hl7"
HSA = "urn:oid:1.2.752.29.4.19"


def _convert(payload: bytes) -> dict[str, Any]:
    return get_adapter("hl7v2").convert(payload)


def _issues(payload: bytes) -> list[Issue]:
    with pytest.raises(InvalidInput) as exc:
        _convert(payload)
    return exc.value.issues


def _msg(*segments: str) -> bytes:
    return "\r".join(segments).encode()


MSH = ("MSH|^~\\&|App|Fac^SE2321000016-15CQ^HSA|KNUTPUNKT|Knutpunkt|20251104091530||ADT^A01|C1|P|2.7|||AL|NE|SE|"
       "UNICODE UTF-8||||Org^^^^^^^^^SE2321000016-0001")
PID = "PID|1||195009072553^^^^NNSWE||Testsson^Anders||19500907|M"


def test_patient(example_bytes: Loader, of_type: Pick) -> None:
    (patient,) = of_type(_convert(example_bytes(A08)), "Patient")
    assert patient["identifier"] == [{"system": "http://electronichealth.se/identifier/personnummer", "value": "195009072553"}]
    assert patient["gender"] == "male" and patient["birthDate"] == "1950-09-07"
    assert patient["name"] == [{"family": "Testsson", "given": ["Anders"]}]
    assert "id" not in patient


def test_al1_mapping(example_bytes: Loader, of_type: Pick) -> None:
    bundle = _convert(example_bytes(A08))
    drug, latex, food = of_type(bundle, "AllergyIntolerance")
    assert drug["category"] == ["medication"] and drug["criticality"] == "high"
    assert drug["code"]["coding"] == [{"system": "http://www.whocc.no/atc", "code": "J01CA04", "display": "Amoxicillin"}]
    assert drug["reaction"] == [{"manifestation": [{"text": "Anafylaxi"}, {"text": "Urtikaria"}]}]
    assert drug["onsetDateTime"] == "2023-04-12"
    assert drug["patient"] == {"reference": bundle["entry"][0]["fullUrl"]}
    assert latex["category"] == ["environment"] and latex["criticality"] == "low"
    assert latex["code"]["coding"][0]["system"] == "http://snomed.info/sct"
    assert food["category"] == ["food"] and food["code"] == {"text": "Jordnötter"}
    assert drug["meta"]["profile"] == ["https://knutpunkt.se/fhir/StructureDefinition/se-allergyintolerance"]


def test_information_source_from_pv1_and_msh22(example_bytes: Loader, of_type: Pick) -> None:
    bundle = _convert(example_bytes(A08))
    for res in [*of_type(bundle, "AllergyIntolerance"), *of_type(bundle, "Provenance")]:
        (ext,) = res["extension"]
        assert ext["extension"] == [
            {"url": "careGiver", "valueIdentifier": {"system": HSA, "value": "SE2321000016-0001"}},
            {"url": "careUnit", "valueIdentifier": {"system": HSA, "value": "SE2321000016-15CQ"}},
            {"url": "informationType", "valueCode": "upp"},
        ]


def test_care_unit_falls_back_to_msh4(of_type: Pick) -> None:
    bundle = _convert(_msg(MSH, PID, "AL1|1|DA|J01CA04^Amoxicillin^WC"))
    (ai,) = of_type(bundle, "AllergyIntolerance")
    assert ai["extension"][0]["extension"][1]["valueIdentifier"]["value"] == "SE2321000016-15CQ"


def test_without_care_giver_no_information_source(of_type: Pick) -> None:
    msh = MSH.rsplit("|", 1)[0]
    (ai,) = of_type(_convert(_msg(msh, PID, "AL1|1|DA|J01CA04^Amoxicillin^WC")), "AllergyIntolerance")
    assert "extension" not in ai


def test_provenance(example_bytes: Loader, of_type: Pick) -> None:
    bundle = _convert(example_bytes(A01))
    (prov,) = of_type(bundle, "Provenance")
    assert prov["target"] == [{"reference": f"urn:uuid:{ai['id']}"} for ai in of_type(bundle, "AllergyIntolerance")]
    assert prov["recorded"] == "2025-03-11T08:45:00+01:00"
    assert prov["entity"][0]["what"]["identifier"]["value"] == "SE2321000131-E0Q1/MEL-88213"


def test_determinism(example_bytes: Loader) -> None:
    ids = [[e["resource"].get("id") for e in _convert(example_bytes(A08))["entry"]] for _ in range(2)]
    assert ids[0] == ids[1] and all(ids[0][1:])


def test_same_allergy_in_a08_update_keeps_its_id(of_type: Pick) -> None:
    first = _convert(_msg(MSH, PID, "AL1|1|DA|J01CA04^Amoxicillin^WC|MO"))
    update = _convert(_msg(MSH.replace("|C1|", "|C2|"), PID, "AL1|7|DA|J01CA04^Amoxicillin^WC|SV"))
    assert of_type(first, "AllergyIntolerance")[0]["id"] == of_type(update, "AllergyIntolerance")[0]["id"]
    assert of_type(update, "AllergyIntolerance")[0]["criticality"] == "high"
    assert of_type(first, "Provenance")[0]["id"] != of_type(update, "Provenance")[0]["id"]


@pytest.mark.parametrize(
    ("segments", "where", "needle"),
    [
        ((MSH.replace("ADT^A01", "ORU^R01"), PID), "MSH[1]-9", "not supported"),
        ((MSH.replace("|C1|", "||"), PID), "MSH[1]-10", "control id"),
        ((MSH.replace("20251104091530", "yesterday"), PID), "MSH[1]-7", "date/time"),
        ((MSH,), "PID", "exactly one PID"),
        ((MSH, PID.replace("195009072553", "195009072554")), "PID[1]-3", "check digit"),
        ((MSH, "PID|1||12345^^^Local||X"), "PID[1]-3", "no personnummer"),
        ((MSH, PID, "AL1|1|DA||SV"), "AL1[1]-3", "required"),
        ((MSH, PID, "AL1|1|DA|X^Y^WC|SV||2023-13"), "AL1[1]-6", "not a date"),
    ],
)
def test_bad_messages(segments: tuple[str, ...], where: str, needle: str) -> None:
    issues = _issues(_msg(*segments))
    hits = [i for i in issues if where in i.expression]
    assert hits and any(needle in i.diagnostics for i in hits), [(i.expression, i.diagnostics) for i in issues]


@pytest.mark.parametrize("payload", [b"", b"PID|1||x", b"MSH|", b"MSH|^^^^|x", b"MSH|^~\\&|A\rnot a segment"])
def test_unparseable(payload: bytes) -> None:
    assert _issues(payload)


def test_pid3_by_oid_and_samordningsnummer(of_type: Pick) -> None:
    pid = "PID|1||X1^^^Local~196109732393^^^&1.2.752.129.2.1.3.3&ISO||Test^Sam"
    (patient,) = of_type(_convert(_msg(MSH, pid)), "Patient")
    assert patient["identifier"] == [
        {"system": "http://electronichealth.se/identifier/samordningsnummer", "value": "196109732393"}]


def test_parser_delimiters_and_escapes() -> None:
    segs = parse_message(b"\x0bMSH#*~\\&#A#B\nPID#1##1*2\n\x1c\r")
    assert [s.name for s in segs] == ["MSH", "PID"]
    assert segs[1].component(3, 2) == "2"
    assert unescape("a\\F\\b\\S\\c\\.br\\d", Delimiters()) == "a|b^c\nd"


def test_repeated_allergen_is_reported() -> None:
    issues = _issues(_msg(MSH, PID, "AL1|1|DA|J01CA04^Amoxicillin^WC", "AL1|2|DA|J01CA04^Amoxicillin^ATC"))
    assert [i.expression for i in issues] == [("AL1[2]-3",)]
    assert "AL1[1]" in issues[0].diagnostics
