"""JSON and XML in and out (http://hl7.org/fhir/R4/http.html#mime-type, formats.html), malformed bodies,
hardened XML, unknown types and routes — every error is an OperationOutcome."""

from __future__ import annotations

import pytest
from api_checks import assert_outcome
from lxml import etree

NS = {"f": "http://hl7.org/fhir"}

PATIENT_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <identifier>
    <system value="http://electronichealth.se/identifier/personnummer"/>
    <value value="199002222397"/>
  </identifier>
  <name><family value="Andersson"/><given value="Eva"/></name>
  <gender value="female"/>
  <birthDate value="1990-02-22"/>
</Patient>"""


def _xml(r) -> etree._Element:
    assert r.headers["content-type"].startswith("application/fhir+xml"), r.headers
    return etree.fromstring(r.content)


def test_create_from_xml_and_read_as_json(api):
    r = api.post("/fhir/Patient", content=PATIENT_XML, headers={"Content-Type": "application/fhir+xml"})
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")  # no Accept → JSON
    rid = r.json()["id"]
    p = api.get(f"/fhir/Patient/{rid}").json()
    assert p["name"][0] == {"family": "Andersson", "given": ["Eva"]}
    assert p["identifier"][0]["value"] == "199002222397"
    assert p["birthDate"] == "1990-02-22"


@pytest.mark.parametrize(
    "how",
    [{"headers": {"Accept": "application/fhir+xml"}}, {"params": {"_format": "xml"}}, {"headers": {"Accept": "application/xml"}},
     {"params": {"_format": "application/fhir+xml"}}, {"headers": {"Accept": "text/html, application/fhir+xml;q=0.9"}}],
    ids=["accept", "_format", "accept-xml", "_format-mime", "accept-list"],
)
def test_read_as_xml(api, patient_body, how):
    rid = api.post("/fhir/Patient", json=patient_body(gender="male")).json()["id"]
    root = _xml(api.get(f"/fhir/Patient/{rid}", **how))
    assert etree.QName(root).localname == "Patient"
    assert root.find("f:id", NS).get("value") == rid
    assert root.find("f:gender", NS).get("value") == "male"
    assert root.find("f:meta/f:versionId", NS).get("value") == "1"


def test_format_parameter_wins_over_accept(api, patient_body):
    rid = api.post("/fhir/Patient", json=patient_body()).json()["id"]
    r = api.get(f"/fhir/Patient/{rid}", params={"_format": "json"}, headers={"Accept": "application/fhir+xml"})
    assert r.headers["content-type"].startswith("application/fhir+json")
    assert r.json()["id"] == rid


def test_create_from_xml_answer_in_xml(api):
    r = api.post("/fhir/Patient", content=PATIENT_XML, headers={"Content-Type": "application/fhir+xml", "Accept": "application/fhir+xml"})
    assert r.status_code == 201
    root = _xml(r)
    assert root.find("f:name/f:family", NS).get("value") == "Andersson"


def test_update_from_xml(api, patient_body):
    rid = api.post("/fhir/Patient", json=patient_body()).json()["id"]
    xml = PATIENT_XML.replace(b"<identifier>", f'<id value="{rid}"/><identifier>'.encode())
    r = api.put(f"/fhir/Patient/{rid}", content=xml, headers={"Content-Type": "application/fhir+xml; charset=utf-8"})
    assert r.status_code == 200, r.text
    assert api.get(f"/fhir/Patient/{rid}").json()["gender"] == "female"


def test_search_bundle_as_xml(api, patient_body):
    api.post("/fhir/Patient", json=patient_body())
    root = _xml(api.get("/fhir/Patient", params={"_format": "xml"}))
    assert etree.QName(root).localname == "Bundle"
    assert root.find("f:type", NS).get("value") == "searchset"
    assert root.find("f:entry/f:resource/f:Patient", NS) is not None


def test_allergy_round_trip_through_xml(api, patient_body, allergy_body):
    pid = api.post("/fhir/Patient", json=patient_body()).json()["id"]
    original = api.post("/fhir/AllergyIntolerance", json=allergy_body(f"Patient/{pid}")).json()
    xml = api.get(f"/fhir/AllergyIntolerance/{original['id']}", params={"_format": "xml"}).content
    r = api.put(f"/fhir/AllergyIntolerance/{original['id']}", content=xml, headers={"Content-Type": "application/fhir+xml"})
    assert r.status_code == 200, r.text
    again = r.json()
    for key in ("extension", "code", "category", "clinicalStatus", "patient"):
        assert again[key] == original[key], key


def test_json_accepted_as_application_json(api, patient_body):
    import orjson

    r = api.post("/fhir/Patient", content=orjson.dumps(patient_body()), headers={"Content-Type": "application/json"})
    assert r.status_code == 201


def test_unsupported_content_type_is_415(api):
    assert_outcome(api.post("/fhir/Patient", content=b"hello", headers={"Content-Type": "text/plain"}), 415)


# --- malformed bodies -------------------------------------------------------------------------------

def _line_col(outcome) -> tuple[int | None, int | None]:
    ext = {e["url"].rsplit("-", 1)[-1]: e["valueInteger"] for e in outcome["issue"][0].get("extension", [])}
    return ext.get("line"), ext.get("col")


def test_malformed_json_is_400_with_line_and_column(api):
    body = b'{\n  "resourceType": "Patient",\n  "gender": "male"\n  "active": true\n}'
    out = assert_outcome(api.post("/fhir/Patient", content=body, headers={"Content-Type": "application/fhir+json"}), 400)
    line, col = _line_col(out)
    assert line == 4 and col is not None


@pytest.mark.parametrize("body", [b"[]", b'"Patient"', b'{"gender": "male"}', b""])
def test_json_that_is_not_a_resource_is_400(api, body):
    assert_outcome(api.post("/fhir/Patient", content=body, headers={"Content-Type": "application/fhir+json"}), 400)


def test_malformed_xml_is_400_with_line_and_column(api):
    body = b'<?xml version="1.0"?>\n<Patient xmlns="http://hl7.org/fhir">\n  <gender value="male">\n</Patient>'
    out = assert_outcome(api.post("/fhir/Patient", content=body, headers={"Content-Type": "application/fhir+xml"}), 400)
    line, col = _line_col(out)
    assert line == 4 and col is not None


def test_xml_outside_the_fhir_namespace_is_400(api):
    assert_outcome(api.post("/fhir/Patient", content=b"<Patient><gender value='male'/></Patient>",
                            headers={"Content-Type": "application/fhir+xml"}), 400)


def test_xml_with_wrong_structure_is_400(api):
    body = b'<Patient xmlns="http://hl7.org/fhir"><gender><coding/></gender><notAnElement value="1"/></Patient>'
    r = api.post("/fhir/Patient", content=body, headers={"Content-Type": "application/fhir+xml"})
    assert r.status_code in (400, 422)
    assert r.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?>\n<!DOCTYPE Patient [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b'<Patient xmlns="http://hl7.org/fhir"><gender value="&xxe;"/></Patient>',
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n'
        b'<Patient xmlns="http://hl7.org/fhir"><gender value="&lol2;"/></Patient>',
        b'<?xml version="1.0"?>\n<!doctype Patient SYSTEM "http://127.0.0.1:9/evil.dtd">\n<Patient xmlns="http://hl7.org/fhir"/>',
        b'<?xml version="1.0"?>\n<!--' + b" " * 5000 + b'-->\n<!DOCTYPE Patient SYSTEM "http://127.0.0.1:9/x.dtd">\n'
        b'<Patient xmlns="http://hl7.org/fhir"><gender value="male"/></Patient>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "male">]>'
        '<Patient xmlns="http://hl7.org/fhir"><gender value="&a;"/></Patient>'.encode("utf-16"),
    ],
    ids=["xxe", "billion-laughs", "external-dtd", "late-doctype", "utf16-doctype"],
)
def test_xml_doctype_and_entities_are_refused(api, body):
    r = api.post("/fhir/Patient", content=body, headers={"Content-Type": "application/fhir+xml"})
    out = assert_outcome(r, 400)
    assert "root:" not in r.text
    assert out["issue"][0]["code"] in ("security", "structure", "invalid")
    assert api.get("/fhir/Patient").json()["entry"] == []


def test_error_rendered_in_xml_when_xml_requested(api):
    r = api.get("/fhir/Patient/unknown", headers={"Accept": "application/fhir+xml"})
    assert r.status_code == 404
    root = _xml(r)
    assert etree.QName(root).localname == "OperationOutcome"
    assert root.find("f:issue/f:code", NS).get("value") == "not-found"


# --- unknown types and routes ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "method,path",
    [("GET", "/fhir/Allergy"), ("GET", "/fhir/Allergy/1"), ("GET", "/fhir/patient"), ("POST", "/fhir/Foo"),
     ("PUT", "/fhir/Foo/1"), ("DELETE", "/fhir/Foo/1"), ("GET", "/fhir/Foo/1/_history"), ("GET", "/fhir/Foo/_history"),
     ("GET", "/fhir/Foo/1/_history/1")],
)
def test_unknown_resource_type_is_404_outcome(api, method, path):
    kw = {"json": {"resourceType": "Foo", "id": "1"}} if method in ("POST", "PUT") else {}
    assert_outcome(api.request(method, path, **kw), 404, "not-found")


def test_unknown_fhir_route_is_404_outcome(api):
    assert_outcome(api.get("/fhir/Patient/1/_history/1/more"), 404)


def test_unsupported_method_is_405_outcome(api):
    r = api.patch("/fhir/Patient/1", json={})
    assert_outcome(r, 405)


def test_body_too_large_is_refused(make_hub, token):
    from fastapi.testclient import TestClient

    from hub.api import create_app

    small = make_hub(max_body_bytes=200)
    with TestClient(create_app(small, run_worker=False)) as c:
        big = {"resourceType": "Patient", "name": [{"text": "x" * 500}]}
        r = c.post("/fhir/Patient", json=big, headers={"Authorization": f"Bearer {small.tokens.issue('t', 'system/*.cruds')}"})
        assert r.status_code in (413, 422, 400)
        assert r.json()["resourceType"] == "OperationOutcome"


def test_history_with_a_deletion_as_xml(api, patient_body):
    rid = api.post("/fhir/Patient", json=patient_body()).json()["id"]
    api.delete(f"/fhir/Patient/{rid}")
    root = _xml(api.get(f"/fhir/Patient/{rid}/_history", params={"_format": "xml"}))
    methods = [e.get("value") for e in root.findall("f:entry/f:request/f:method", NS)]
    assert methods == ["DELETE", "POST"]


def test_transaction_response_as_xml_has_locations(api, patient_body):
    tx = {"resourceType": "Bundle", "type": "transaction",
          "entry": [{"resource": patient_body(), "request": {"method": "POST", "url": "Patient"}}]}
    root = _xml(api.post("/fhir", json=tx, headers={"Accept": "application/fhir+xml"}))
    loc = root.find("f:entry/f:response/f:location", NS).get("value")
    assert loc.startswith("Patient/") and "/_history/1" in loc
