"""Every error the FHIR API answers is an OperationOutcome with a 4xx status (contract.md: HTTP API)."""

from __future__ import annotations

import pytest

BAD = [
    ("GET", "/fhir/Patient/unknown", None, {}, 404),
    ("GET", "/fhir/Nope", None, {}, 404),
    ("GET", "/fhir/Patient?bogus=1", None, {}, 400),
    ("POST", "/fhir/Patient", b"{", {"Content-Type": "application/fhir+json"}, 400),
    ("POST", "/fhir/Patient", b"<Patient", {"Content-Type": "application/fhir+xml"}, 400),
    ("POST", "/fhir/Patient", b"x", {"Content-Type": "image/png"}, 415),
    ("PUT", "/fhir/Patient/a", b'{"resourceType":"Patient","id":"b"}', {"Content-Type": "application/fhir+json"}, 400),
    ("PUT", "/fhir/Patient/a", b'{"resourceType":"Patient","id":"a"}', {"Content-Type": "application/fhir+json", "If-Match": 'W/"3"'}, 412),
    ("POST", "/fhir", b'{"resourceType":"Bundle","type":"searchset"}', {"Content-Type": "application/fhir+json"}, 400),
    ("GET", "/fhir/Patient/a/_history/x", None, {}, 404),
    ("PATCH", "/fhir/Patient/a", b"{}", {"Content-Type": "application/json-patch+json"}, 405),
    ("POST", "/fhir/metadata", b"{}", {}, 404),  # matches create on a type "metadata"
    ("DELETE", "/fhir/metadata", None, {}, 405),
    ("GET", "/fhir/Patient/a/b/c/d", None, {}, 404),
    ("POST", "/fhir/AllergyIntolerance", b'{"resourceType":"AllergyIntolerance"}', {"Content-Type": "application/fhir+json"}, 422),
]


@pytest.mark.parametrize("method,path,body,headers,status", BAD, ids=[f"{m} {p} {s}" for m, p, _, _, s in BAD])
def test_errors_are_operation_outcomes(api, method, path, body, headers, status):
    r = api.request(method, path, content=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    out = r.json()
    assert out["resourceType"] == "OperationOutcome"
    assert out["issue"] and all(i["severity"] in ("fatal", "error") for i in out["issue"])
    assert all(i.get("code") for i in out["issue"])


def test_errors_without_a_token_are_outcomes_too(client):
    for method, path in [("GET", "/fhir/Patient/x"), ("POST", "/fhir"), ("DELETE", "/fhir/Patient/x"), ("GET", "/fhir/_history")]:
        r = client.request(method, path)
        assert r.status_code == 401, (method, path)
        assert r.json()["resourceType"] == "OperationOutcome"


def test_validation_issues_carry_a_location(api, patient_body):
    r = api.post("/fhir/Patient", json={**patient_body(), "gender": "sometimes", "birthDate": "1990-13-45"})
    assert r.status_code in (400, 422)
    issues = r.json()["issue"]
    assert any("Patient.gender" in " ".join(i.get("expression", [])) for i in issues), issues
    assert any("Patient.birthDate" in " ".join(i.get("expression", [])) for i in issues), issues
