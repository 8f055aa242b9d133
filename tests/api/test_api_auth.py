"""Who is asking (contract.md): metadata is open, everything else needs a valid bearer token (401) and
the SMART v2 scope for the action (403)."""

from __future__ import annotations

import time

import jwt
import pytest

from hub.auth import TokenService


def _is_outcome(r, code: str | None = None) -> None:
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"]
    if code:
        assert body["issue"][0]["code"] == code


def test_metadata_needs_no_token_and_is_a_capability_statement(client):
    r = client.get("/fhir/metadata")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/fhir+json")
    cs = r.json()
    assert cs["resourceType"] == "CapabilityStatement"
    assert cs["fhirVersion"] == "4.0.1"
    assert set(cs["format"]) >= {"application/fhir+json", "application/fhir+xml"}
    types = {res["type"]: res for res in cs["rest"][0]["resource"]}
    ai = types["AllergyIntolerance"]
    assert {i["code"] for i in ai["interaction"]} >= {"read", "vread", "create", "update", "delete", "search-type", "history-instance"}
    assert {p["name"] for p in ai["searchParam"]} >= {"_id", "_lastUpdated", "patient", "identifier", "code", "category", "clinical-status"}
    assert "AllergyIntolerance:patient" in ai["searchInclude"]
    assert {i["code"] for i in cs["rest"][0]["interaction"]} >= {"transaction", "batch"}


def test_metadata_in_xml(client):
    r = client.get("/fhir/metadata", params={"_format": "xml"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/fhir+xml")
    assert b"<CapabilityStatement" in r.content and b'xmlns="http://hl7.org/fhir"' in r.content


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "bearer a.b.c"],
    ids=["absent", "empty-bearer", "blank-token", "basic", "garbage", "malformed-jwt"],
)
def test_missing_or_malformed_token_is_401_with_challenge(client, header):
    headers = {"Authorization": header} if header is not None else {}
    r = client.get("/fhir/Patient", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].lower().startswith("bearer")
    _is_outcome(r, "login")


def test_expired_token_is_401(client, token):
    r = client.get("/fhir/Patient", headers={"Authorization": f"Bearer {token(lifetime_s=-5)}"})
    assert r.status_code == 401
    assert "www-authenticate" in r.headers
    _is_outcome(r, "login")
    assert "expired" in r.json()["issue"][0]["diagnostics"].lower()


def test_token_signed_with_another_key_is_401(client, hub_dir):
    other = TokenService(str(hub_dir / "other-key.pem")).issue("intruder", "system/*.cruds")
    r = client.get("/fhir/Patient", headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 401
    _is_outcome(r, "login")


def test_token_from_another_issuer_or_algorithm_is_401(client, hub):
    now = int(time.time())
    claims = {"iss": "someone-else", "sub": "x", "scope": "system/*.cruds", "iat": now, "exp": now + 60}
    wrong_iss = jwt.encode(claims, hub.tokens._key, algorithm="ES256")
    unsigned = jwt.encode({**claims, "iss": hub.tokens.issuer}, None, algorithm="none")
    hs256 = jwt.encode({**claims, "iss": hub.tokens.issuer}, "secret-secret-secret-secret-32b!", algorithm="HS256")
    for tok in (wrong_iss, unsigned, hs256):
        r = client.get("/fhir/Patient", headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 401, tok
        _is_outcome(r, "login")


def test_token_without_sub_is_401(client, hub):
    now = int(time.time())
    tok = jwt.encode({"iss": hub.tokens.issuer, "scope": "system/*.cruds", "iat": now, "exp": now + 60}, hub.tokens._key, algorithm="ES256")
    assert client.get("/fhir/Patient", headers={"Authorization": f"Bearer {tok}"}).status_code == 401


def test_valid_token_from_the_same_key_file_works_across_hubs(make_hub, hub, client):
    """Two hubs on the same key file (e.g. hub and CLI) accept each other's tokens."""
    other = make_hub()
    tok = other.tokens.issue("cli", "system/Patient.rs")
    assert client.get("/fhir/Patient", headers={"Authorization": f"Bearer {tok}"}).status_code == 200


def test_error_in_xml_when_asked(client):
    r = client.get("/fhir/Patient", headers={"Accept": "application/fhir+xml"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/fhir+xml")
    assert b"<OperationOutcome" in r.content


# --- 403: scope per action ------------------------------------------------------------------------

def _seed(api, patient_body, allergy_body) -> tuple[str, str]:
    pid = api.post("/fhir/Patient", json=patient_body()).json()["id"]
    aid = api.post("/fhir/AllergyIntolerance", json=allergy_body(f"Patient/{pid}")).json()["id"]
    return pid, aid


def _attempt(client, action: str, aid: str, pid: str, allergy_body, headers):
    """One request that needs `action` on AllergyIntolerance."""
    if action == "c":
        return client.post("/fhir/AllergyIntolerance", json=allergy_body(f"Patient/{pid}"), headers=headers)
    if action == "r":
        return client.get(f"/fhir/AllergyIntolerance/{aid}", headers=headers)
    if action == "u":
        return client.put(f"/fhir/AllergyIntolerance/{aid}", json={**allergy_body(f"Patient/{pid}"), "id": aid}, headers=headers)
    if action == "d":
        return client.delete(f"/fhir/AllergyIntolerance/{aid}", headers=headers)
    return client.get("/fhir/AllergyIntolerance", params={"patient": pid}, headers=headers)


@pytest.mark.parametrize(
    "scope,granted",
    [
        ("system/AllergyIntolerance.cruds", "cruds"),
        ("system/*.cruds", "cruds"),
        ("system/AllergyIntolerance.rs", "rs"),
        ("system/*.rs", "rs"),
        ("system/AllergyIntolerance.c", "c"),
        ("system/AllergyIntolerance.u", "u"),
        ("system/AllergyIntolerance.d", "d"),
        ("system/AllergyIntolerance.s", "s"),
        ("system/AllergyIntolerance.read", "rs"),
        ("system/AllergyIntolerance.write", "cud"),
        ("system/AllergyIntolerance.*", "cruds"),
        ("system/Patient.cruds", ""),
        ("", ""),
    ],
)
def test_scope_per_action(api, client, auth, patient_body, allergy_body, scope, granted):
    pid, aid = _seed(api, patient_body, allergy_body)
    headers = auth(scope)
    for action in "crsud":  # delete last
        r = _attempt(client, action, aid, pid, allergy_body, headers)
        if action in granted:
            assert r.status_code in (200, 201), (scope, action, r.text)
        else:
            assert r.status_code == 403, (scope, action, r.text)
            _is_outcome(r, "forbidden")
            assert "www-authenticate" not in r.headers


def test_forbidden_history_and_bundle_entries(api, client, auth, patient_body, allergy_body):
    pid, aid = _seed(api, patient_body, allergy_body)
    h = auth("system/Patient.rs")
    assert client.get(f"/fhir/AllergyIntolerance/{aid}/_history", headers=h).status_code == 403
    assert client.get("/fhir/AllergyIntolerance/_history", headers=h).status_code == 403
    assert client.get("/fhir/_history", headers=h).status_code == 403  # system history needs a `*` scope
    assert client.get("/fhir/_history", headers=auth("system/*.rs")).status_code == 200
    tx = {"resourceType": "Bundle", "type": "transaction",
          "entry": [{"resource": allergy_body(f"Patient/{pid}"), "request": {"method": "POST", "url": "AllergyIntolerance"}}]}
    r = client.post("/fhir", json=tx, headers=auth("system/AllergyIntolerance.rs"))
    assert r.status_code == 403
    _is_outcome(r, "forbidden")


def test_include_needs_read_scope_on_the_included_type(api, client, auth, patient_body, allergy_body):
    pid, _ = _seed(api, patient_body, allergy_body)
    params = {"patient": pid, "_include": "AllergyIntolerance:patient"}
    only_ai = client.get("/fhir/AllergyIntolerance", params=params, headers=auth("system/AllergyIntolerance.rs")).json()
    assert [e["resource"]["resourceType"] for e in only_ai["entry"]] == ["AllergyIntolerance"]
    both = client.get("/fhir/AllergyIntolerance", params=params, headers=auth("system/AllergyIntolerance.rs system/Patient.r")).json()
    assert sorted(e["resource"]["resourceType"] for e in both["entry"]) == ["AllergyIntolerance", "Patient"]


def test_non_system_context_scopes(api, client, auth, patient_body, allergy_body):
    """`user/` scopes are read like `system/`; `patient/` (no launch context here) and unknown contexts grant nothing."""
    pid, aid = _seed(api, patient_body, allergy_body)
    assert client.get(f"/fhir/AllergyIntolerance/{aid}", headers=auth("user/AllergyIntolerance.r")).status_code == 200
    assert client.get(f"/fhir/AllergyIntolerance/{aid}", headers=auth("launch/AllergyIntolerance.r")).status_code == 403
    # no patient launch context exists in the hub: a patient/ scope must not open every patient's data
    assert client.get(f"/fhir/AllergyIntolerance/{aid}", headers=auth("patient/AllergyIntolerance.r")).status_code == 403
    assert client.get(f"/fhir/AllergyIntolerance/{aid}", headers=auth("openid fhirUser")).status_code == 403



def test_every_advertised_search_parameter_is_accepted(client, auth):
    """The CapabilityStatement lists exactly what works: each advertised search parameter answers 200."""
    cs = client.get("/fhir/metadata").json()
    everything = auth("system/*.cruds system/Consent.rs system/AuditEvent.rs")
    sample = {"date": "ge2020", "token": "x", "reference": "Patient/x", "string": "x", "uri": "http://x", "number": "1", "quantity": "1"}
    for res in cs["rest"][0]["resource"]:
        for sp in res.get("searchParam", []):
            r = client.get(f"/fhir/{res['type']}", params={sp["name"]: sample[sp["type"]]}, headers=everything)
            assert r.status_code == 200, (res["type"], sp, r.text)
        for inc in res.get("searchInclude", []):
            r = client.get(f"/fhir/{res['type']}", params={"_include": inc}, headers=everything)
            assert r.status_code == 200, (res["type"], inc, r.text)
