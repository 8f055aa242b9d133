"""rivta-alert bad input: XSD required elements and formats, Schematron rules (constraints.xml), identity."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.rivta_alert import convert_response
from hub.fhir.errors import InvalidInput, Issue

Loader = Callable[[str], bytes]
AMOX = "rivta/GetAlertInformation-195009072553-amoxicillin.xml"
A1 = "alertInformation[1]"


def _issues(payload: bytes) -> list[Issue]:
    with pytest.raises(InvalidInput) as exc:
        convert_response(payload)
    assert exc.value.status == 400
    return exc.value.issues


def _by_expression(issues: list[Issue]) -> dict[str, list[Issue]]:
    out: dict[str, list[Issue]] = {}
    for i in issues:
        for e in i.expression:
            out.setdefault(e, []).append(i)
    return out


def test_bad_personnummer(fixture_bytes: Loader) -> None:
    (issue,) = _issues(fixture_bytes("bad-personnummer.xml"))
    assert issue.expression == (f"{A1}/alertInformationHeader/patientId/id",)
    assert "check digit" in issue.diagnostics and issue.line == 10


def test_missing_required_elements_are_all_named(fixture_bytes: Loader) -> None:
    found = _by_expression(_issues(fixture_bytes("missing-required.xml")))
    assert found[f"{A1}/alertInformationHeader/documentId"][0].code == "required"
    assert found[f"{A1}/alertInformationHeader/accountableHealthcareProfessional/authorTime"][0].code == "required"
    assert "YYYYMMDDhhmmss" in found[f"{A1}/alertInformationBody/validityTimePeriod/start"][0].diagnostics
    assert found[f"{A1}/alertInformationHeader/approvedForPatient"][0].code == "value"
    assert all(i.line for v in found.values() for i in v)


def test_all_schematron_violations_reported(fixture_bytes: Loader) -> None:
    issues = _issues(fixture_bytes("schematron-violations.xml"))
    found = _by_expression(issues)
    a2 = "alertInformation[2]"
    assert "displayName" in found[f"{a2}/alertInformationBody/hypersensitivity/degreeOfSeverity"][0].diagnostics
    certainty = found[f"{a2}/alertInformationBody/hypersensitivity/degreeOfCertainty"]
    assert {i.code for i in certainty} == {"invariant"} and len(certainty) == 2
    assert "documentTitle" in found[f"{a2}/alertInformationHeader/documentTitle"][0].diagnostics
    assert "exactly one of hypersensitivity" in found[f"{a2}/alertInformationBody"][0].diagnostics
    assert len(found[f"{a2}/alertInformationBody/hypersensitivity/pharmaceuticalHypersensitivity"]) == 2
    assert any("logId" in i.diagnostics for i in found["result/logId"])
    assert not any(e.startswith(A1) for e in found)  # the first document is fine


def _mutate(example_bytes: Loader, old: str, new: str) -> bytes:
    payload = example_bytes(AMOX)
    assert old.encode() in payload
    return payload.replace(old.encode(), new.encode(), 1)


@pytest.mark.parametrize(
    ("old", "new", "expression", "needle"),
    [
        # pattern.CvType: either code or originalText
        ("<c:originalText>Konstaterad</c:originalText>", "",
         f"{A1}/alertInformationBody/hypersensitivity/degreeOfCertainty", "either code or originalText"),
        # pattern.CvType: code needs codeSystem and displayName
        ("<c:codeSystem>1.2.752.129.2.2.3.1.1</c:codeSystem>", "",
         f"{A1}/alertInformationBody/hypersensitivity/pharmaceuticalHypersensitivity/atcSubstance", "codeSystem"),
        # alertInformationHeader must not carry nullified
        ("<c:approvedForPatient>true</c:approvedForPatient>",
         "<c:approvedForPatient>true</c:approvedForPatient><c:nullified>false</c:nullified>",
         f"{A1}/alertInformationHeader/nullified", "nullified"),
        # validityTimePeriod/start must be supplied
        ("<c:start>20240115000000</c:start>", "", f"{A1}/alertInformationBody/validityTimePeriod/start", "start"),
        # exactly one body choice
        ("<c:hypersensitivity>", "<c:seriousDisease><c:disease><c:originalText>x</c:originalText></c:disease>"
         "</c:seriousDisease><c:hypersensitivity>", f"{A1}/alertInformationBody", "exactly one of"),
        # pharmaceuticalHypersensitivity: atcSubstance or nonATCSubstance
        ("<c:pharmaceuticalHypersensitivity>",
         "<c:pharmaceuticalHypersensitivity><c:nonATCSubstance>x</c:nonATCSubstance>",
         f"{A1}/alertInformationBody/hypersensitivity/pharmaceuticalHypersensitivity", "exactly one of atcSubstance"),
        # result needs resultCode
        ("<c:resultCode>OK</c:resultCode>", "", "result/resultCode", "resultCode"),
        # XSD: unknown element in the RIV namespace (a typo is not silently ignored)
        ("<c:degreeOfSeverity>", "<c:degreeOfSeverty/><c:degreeOfSeverity>",
         f"{A1}/alertInformationBody/hypersensitivity/degreeOfSeverty", "unexpected element"),
        # XSD: element without namespace
        ("<c:documentId>", '<documentId xmlns="">x</documentId><c:documentId>',
         f"{A1}/alertInformationHeader/documentId", "no namespace"),
        # XSD: element occurring twice
        ("<c:ascertainedDate>20240115</c:ascertainedDate>",
         "<c:ascertainedDate>20240115</c:ascertainedDate><c:ascertainedDate>20240116</c:ascertainedDate>",
         f"{A1}/alertInformationBody/ascertainedDate[2]", "at most 1"),
        # XSD: impossible date
        ("<c:ascertainedDate>20240115</c:ascertainedDate>", "<c:ascertainedDate>20240231</c:ascertainedDate>",
         f"{A1}/alertInformationBody/ascertainedDate", "YYYYMMDD"),
        # XSD: impossible timestamp
        ("<c:authorTime>20240115103000</c:authorTime>", "<c:authorTime>20240115106000</c:authorTime>",
         f"{A1}/alertInformationHeader/accountableHealthcareProfessional/authorTime", "YYYYMMDDhhmmss"),
        # alert type contradicts the body
        ("<c:code>upp-okh</c:code>", "<c:code>upp-vbe</c:code>",
         f"{A1}/alertInformationBody/typeOfAlertInformation/code", "does not match"),
        # reversed validity
        ("<c:start>20240115000000</c:start>", "<c:start>20240115000000</c:start><c:end>20230101000000</c:end>",
         f"{A1}/alertInformationBody/validityTimePeriod/end", "before"),
        # empty key element
        ("<c:documentId>okh-2024-0001</c:documentId>", "<c:documentId> </c:documentId>",
         f"{A1}/alertInformationHeader/documentId", "must not be empty"),
        # 10-digit personnummer with an impossible date
        ("<c:id>195009072553</c:id>", "<c:id>501307-2553</c:id>",
         f"{A1}/alertInformationHeader/patientId/id", "date of birth"),
        # source reported an error
        ("<c:resultCode>OK</c:resultCode>", "<c:resultCode>ERROR</c:resultCode><c:message>DB down</c:message>",
         "result/resultCode", "DB down"),
    ],
)
def test_each_rule(example_bytes: Loader, old: str, new: str, expression: str, needle: str) -> None:
    issues = _issues(_mutate(example_bytes, old, new))
    matching = [i for i in issues if expression in i.expression]
    assert matching, [(i.expression, i.diagnostics) for i in issues]
    assert any(needle in i.diagnostics for i in matching), [i.diagnostics for i in matching]
    assert all(i.severity == "error" and i.line for i in matching)


def test_foreign_namespace_extensions_are_allowed(example_bytes: Loader) -> None:
    payload = _mutate(example_bytes, "<c:approvedForPatient>", '<x:local xmlns:x="urn:example:ext">ok</x:local><c:approvedForPatient>')
    assert convert_response(payload)["entry"]


def test_issues_render_as_operation_outcome(fixture_bytes: Loader) -> None:
    with pytest.raises(InvalidInput) as exc:
        convert_response(fixture_bytes("schematron-violations.xml"))
    outcome = exc.value.outcome()
    assert outcome["resourceType"] == "OperationOutcome"
    assert len(outcome["issue"]) == len(exc.value.issues) >= 8
    assert all(i["extension"][0]["valueInteger"] > 0 for i in outcome["issue"])
