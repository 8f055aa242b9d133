"""The terminology router through FastAPI's TestClient (GET and POST, Parameters in and out)."""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from term_helpers import ANIMALS, CM, DYR, EX

from hub.api.terminology_routes import get_terminology_service, router
from hub.terminology import LocalTerminologyService


@pytest.fixture
def client(mini: LocalTerminologyService) -> TestClient:
    app = FastAPI()
    app.include_router(router, prefix="/fhir")
    app.dependency_overrides[get_terminology_service] = lambda: mini
    return TestClient(app)


def params(*items: tuple[str, str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [{"name": n, t: v} for n, t, v in items]}


def value(body: dict[str, Any], name: str) -> Any:
    for p in body["parameter"]:
        if p["name"] == name:
            return next(v for k, v in p.items() if k.startswith("value"))
    raise KeyError(name)


def test_lookup_get(client: TestClient) -> None:
    r = client.get("/fhir/CodeSystem/$lookup", params={"system": ANIMALS, "code": "dog"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    body = r.json()
    assert body["resourceType"] == "Parameters"
    assert value(body, "display") == "Dog" and value(body, "name") == "Animals"
    designation = next(p for p in body["parameter"] if p["name"] == "designation")
    assert {"name": "value", "valueString": "Hund"} in designation["part"]
    props = [p["part"] for p in body["parameter"] if p["name"] == "property"]
    assert [{"name": "code", "valueCode": "parent"}, {"name": "value", "valueCode": "mammal"}] in props


def test_lookup_post_with_coding(client: TestClient) -> None:
    r = client.post("/fhir/CodeSystem/$lookup", json=params(("coding", "valueCoding", {"system": ANIMALS, "code": "cat"})))
    assert r.status_code == 200 and value(r.json(), "display") == "Cat"


def test_lookup_errors(client: TestClient) -> None:
    r = client.get("/fhir/CodeSystem/$lookup", params={"system": ANIMALS})
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
    r = client.get("/fhir/CodeSystem/$lookup", params={"system": ANIMALS, "code": "unicorn"})
    assert r.status_code == 404 and r.json()["issue"][0]["code"] == "not-found"


def test_validate_code_get_and_post(client: TestClient) -> None:
    r = client.get("/fhir/ValueSet/$validate-code", params={"url": EX + "mammals", "system": ANIMALS, "code": "dog"})
    assert r.status_code == 200 and value(r.json(), "result") is True and value(r.json(), "display") == "Dog"
    body = params(("url", "valueUri", EX + "mammals"), ("system", "valueUri", ANIMALS), ("code", "valueCode", "penguin"))
    r = client.post("/fhir/ValueSet/$validate-code", json=body)
    assert value(r.json(), "result") is False and "not in value set" in value(r.json(), "message")


def test_validate_code_codeable_concept_and_display(client: TestClient) -> None:
    cc = {"coding": [{"system": ANIMALS, "code": "dog", "display": "Katt"}]}
    body = params(("url", "valueUri", EX + "mammals"), ("codeableConcept", "valueCodeableConcept", cc))
    assert value(client.post("/fhir/ValueSet/$validate-code", json=body).json(), "result") is False


def test_validate_code_instance_level(client: TestClient) -> None:
    r = client.get("/fhir/ValueSet/mammals/$validate-code", params={"system": ANIMALS, "code": "cat"})
    assert value(r.json(), "result") is True
    assert client.get("/fhir/ValueSet/nope/$validate-code", params={"system": ANIMALS, "code": "cat"}).status_code == 404


def test_validate_code_errors(client: TestClient) -> None:
    assert client.get("/fhir/ValueSet/$validate-code", params={"url": EX + "nope", "system": ANIMALS, "code": "x"}).status_code == 404
    assert client.get("/fhir/ValueSet/$validate-code", params={"url": EX + "mammals"}).status_code == 400
    assert client.get("/fhir/ValueSet/$validate-code", params={"code": "dog"}).status_code == 400
    r = client.post("/fhir/ValueSet/$validate-code", json={"resourceType": "Patient"})
    assert r.status_code == 400
    r = client.post("/fhir/ValueSet/$validate-code", content=b"{oops", headers={"content-type": "application/fhir+json"})
    assert r.status_code == 400


def test_expand_with_paging_and_filter(client: TestClient) -> None:
    r = client.get("/fhir/ValueSet/$expand", params={"url": EX + "no-birds", "offset": "1", "count": "2"})
    exp = r.json()["expansion"]
    assert r.status_code == 200 and exp["total"] == 6 and exp["offset"] == 1 and len(exp["contains"]) == 2
    body = params(("url", "valueUri", EX + "no-birds"), ("filter", "valueString", "tree"))
    exp = client.post("/fhir/ValueSet/$expand", json=body).json()["expansion"]
    assert [c["code"] for c in exp["contains"]] == ["tree"]


def test_expand_instance_and_errors(client: TestClient) -> None:
    assert client.get("/fhir/ValueSet/mammals/$expand").json()["expansion"]["total"] == 3
    assert client.get("/fhir/ValueSet/$expand", params={"url": EX + "nope"}).status_code == 404
    assert client.get("/fhir/ValueSet/$expand").status_code == 400
    assert client.get("/fhir/ValueSet/$expand", params={"url": EX + "mammals", "count": "x"}).status_code == 400
    assert client.get("/fhir/ValueSet/$expand", params={"url": EX + "cycle"}).status_code == 400


def test_translate(client: TestClient) -> None:
    r = client.get("/fhir/ConceptMap/$translate", params={"url": CM + "animals-to-dyr", "system": ANIMALS, "code": "dog"})
    body = r.json()
    assert r.status_code == 200 and value(body, "result") is True
    match = next(p for p in body["parameter"] if p["name"] == "match")
    assert {"name": "equivalence", "valueCode": "equivalent"} in match["part"]
    assert {"name": "concept", "valueCoding": {"system": DYR, "code": "hund", "display": "Hund"}} in match["part"]


def test_translate_unmatched_and_target_filter(client: TestClient) -> None:
    r = client.get("/fhir/ConceptMap/$translate", params={"url": CM + "animals-to-dyr", "system": ANIMALS, "code": "penguin"})
    assert value(r.json(), "result") is False
    r = client.get("/fhir/ConceptMap/$translate", params={"system": ANIMALS, "code": "dog", "target": EX + "dyr"})
    sources = {part["valueUri"] for p in r.json()["parameter"] if p["name"] == "match"
               for part in p["part"] if part["name"] == "source"}
    assert sources == {CM + "animals-to-dyr"}


def test_translate_post_instance_and_errors(client: TestClient) -> None:
    body = params(("coding", "valueCoding", {"system": ANIMALS, "code": "cat"}))
    r = client.post("/fhir/ConceptMap/animals-to-dyr/$translate", json=body)
    assert value(r.json(), "result") is True
    assert client.get("/fhir/ConceptMap/$translate", params={"code": "dog"}).status_code == 400
    assert client.get("/fhir/ConceptMap/$translate", params={"url": CM + "nope", "system": ANIMALS, "code": "dog"}).status_code == 404


def test_xml_in_and_out(client: TestClient) -> None:
    xml = (
        '<Parameters xmlns="http://hl7.org/fhir">'
        f'<parameter><name value="system"/><valueUri value="{ANIMALS}"/></parameter>'
        '<parameter><name value="code"/><valueCode value="dog"/></parameter></Parameters>'
    )
    r = client.post("/fhir/CodeSystem/$lookup?_format=xml", content=xml.encode(),
                    headers={"content-type": "application/fhir+xml"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+xml")
    assert b"<Parameters" in r.content and b'value="Dog"' in r.content


def test_error_as_xml_when_asked(client: TestClient) -> None:
    r = client.get("/fhir/ValueSet/$expand", params={"url": EX + "nope"}, headers={"accept": "application/fhir+xml"})
    assert r.status_code == 404 and b"<OperationOutcome" in r.content


def test_inline_value_set(client: TestClient) -> None:
    inline = {"resourceType": "ValueSet", "status": "active", "compose": {"include": [
        {"system": ANIMALS, "filter": [{"property": "concept", "op": "is-a", "value": "bird"}]}]}}
    body = {"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": inline}]}
    exp = client.post("/fhir/ValueSet/$expand", json=body).json()["expansion"]
    assert {c["code"] for c in exp["contains"]} == {"bird", "penguin"}
    body["parameter"] += [{"name": "system", "valueUri": ANIMALS}, {"name": "code", "valueCode": "dog"}]
    assert value(client.post("/fhir/ValueSet/$validate-code", json=body).json(), "result") is False
    body["parameter"][0]["resource"] = {"resourceType": "Patient"}
    assert client.post("/fhir/ValueSet/$expand", json=body).status_code == 400
