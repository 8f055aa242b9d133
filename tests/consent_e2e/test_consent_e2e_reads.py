"""Reads, searches, `$summary` and `$evaluate` through HTTP against a hub process (domain.md section 5).

Each patient carries one situation: no directives, consent, inner block, outer block with dataPeriod,
outer block excluding an information type, temporary revoke, protected person, confidential Patient.
"""

from __future__ import annotations

from typing import Any

import pytest
from consent_e2e_data import (
    CG_NORR,
    CG_SYD,
    CLINICAL_SCOPE,
    CU_AKUTEN,
    CU_ALLERGI,
    CU_NORR_VC,
    CU_SYD_VC,
    CU_VAST,
    LAST_WEEK,
    TOMORROW,
    YESTERDAY,
    allergy,
    block,
    consent,
    organizations,
    patient,
    personnummer,
    visible_ids,
)

PROTECTED = [{"system": "https://knutpunkt.se/fhir/CodeSystem/protected-person", "code": "sekretessmarkering"}]
CONFIDENTIAL = [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "V"}]
ALLERGIES_LOINC = "48765-2"


def world() -> list[dict[str, Any]]:
    pnr = iter(personnummer("19750310", n) for n in range(101, 200))
    return [
        *organizations(),
        # pa: no directives
        patient("pa", next(pnr)),
        allergy("pa-akuten", "pa", CU_AKUTEN, text="Penicillin från akuten"),
        allergy("pa-syd", "pa", CU_SYD_VC, text="Latex från Sydby"),
        # pb: consent for Vårdcentralen Sydby; an expired one for Väst
        patient("pb", next(pnr)),
        allergy("pb-akuten", "pb", CU_AKUTEN),
        consent("pb-consent-syd", "pb", CU_SYD_VC),
        consent("pb-consent-vast-expired", "pb", CU_VAST, start=LAST_WEEK, end=YESTERDAY),
        # pc: inner block on Akutmottagningen Norrstad
        patient("pc", next(pnr)),
        allergy("pc-akuten", "pc", CU_AKUTEN),
        allergy("pc-allergi", "pc", CU_ALLERGI),
        block("pc-block-akuten", "pc", CU_AKUTEN),
        # pd: outer block on Region Norrland for information from 2023
        patient("pd", next(pnr)),
        allergy("pd-2023", "pd", CU_AKUTEN, recorded="2023-05-10T08:00:00+02:00"),
        allergy("pd-2020", "pd", CU_AKUTEN, recorded="2020-02-01T08:00:00+01:00"),
        block("pd-block-norr-2023", "pd", CG_NORR, data_period=("2023-01-01", "2023-12-31")),
        # pe: outer block on Region Sydland that leaves alert information (upp) out
        patient("pe", next(pnr)),
        allergy("pe-upp", "pe", CU_SYD_VC, itype="upp"),
        allergy("pe-lak", "pe", CU_SYD_VC, itype="lak"),
        block("pe-block-syd-except-upp", "pe", CG_SYD, exclude=("upp",)),
        # pf: inner block on Allergimottagningen, revoked now for Akuten, revoke for Norr VC has ended
        patient("pf", next(pnr)),
        allergy("pf-allergi", "pf", CU_ALLERGI),
        block("pf-block-allergi", "pf", CU_ALLERGI, revokes=((CU_AKUTEN, YESTERDAY, TOMORROW), (CU_NORR_VC, LAST_WEEK, YESTERDAY))),
        # pg: protected person; ph: confidential (V) Patient; pn: no allergies at all
        patient("pg", "200001252386", security=PROTECTED),
        allergy("pg-akuten", "pg", CU_AKUTEN),
        patient("ph", next(pnr), security=CONFIDENTIAL),
        allergy("ph-akuten", "ph", CU_AKUTEN),
        patient("pn", next(pnr)),
        # pz: an allergy only Akuten may see, deleted during the tests
        patient("pz", next(pnr)),
        allergy("pz-deleted", "pz", CU_AKUTEN),
    ]


ALL_ALLERGIES = {r["id"] for r in world() if r["resourceType"] == "AllergyIntolerance"}


@pytest.fixture(scope="module")
def loaded(hub):  # type: ignore[no-untyped-def]
    hub.put_all(world())
    return hub


def read_status(c, rid: str) -> int:  # type: ignore[no-untyped-def]
    return c.get(f"/fhir/AllergyIntolerance/{rid}").status_code


# -- reads and searches per situation ------------------------------------------------------------

def test_same_unit_and_same_care_giver_read(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_AKUTEN) as akuten, loaded.reader(CU_ALLERGI) as allergi:
        assert read_status(akuten, "pa-akuten") == 200
        assert read_status(allergi, "pa-akuten") == 200
        assert visible_ids(akuten, "pa") == {"pa-akuten"}  # Sydby's entry is another care giver's


def test_other_care_giver_without_consent_sees_only_its_own(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_SYD_VC) as syd:
        withheld = syd.get("/fhir/AllergyIntolerance/pa-akuten")
        unknown = syd.get("/fhir/AllergyIntolerance/no-such-allergy")
        assert withheld.status_code == unknown.status_code == 404
        assert withheld.json()["issue"][0]["code"] == unknown.json()["issue"][0]["code"]
        assert visible_ids(syd, "pa") == {"pa-syd"}
    with loaded.reader(CU_VAST) as vast:
        assert visible_ids(vast, "pa") == set()


def test_consent_opens_direct_access_only_while_valid(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_SYD_VC) as syd, loaded.reader(CU_VAST) as vast, loaded.reader(CU_VAST, "ETREAT") as vast_e:
        assert read_status(syd, "pb-akuten") == 200
        assert read_status(vast, "pb-akuten") == 404  # its consent ended yesterday
        assert read_status(vast_e, "pb-akuten") == 200  # emergency access across care givers


def test_inner_block(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_AKUTEN) as akuten:
        assert visible_ids(akuten, "pc") == {"pc-akuten", "pc-allergi"}  # the blocked unit itself
    with loaded.reader(CU_NORR_VC) as norr_vc:
        assert visible_ids(norr_vc, "pc") == {"pc-allergi"}
        assert read_status(norr_vc, "pc-akuten") == 404


def test_etreat_passes_inner_block_only_within_the_same_care_giver(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_NORR_VC, "ETREAT") as norr_e:
        assert visible_ids(norr_e, "pc") == {"pc-akuten", "pc-allergi"}
    with loaded.reader(CU_SYD_VC, "ETREAT") as syd_e:
        assert visible_ids(syd_e, "pc") == {"pc-allergi"}
        assert read_status(syd_e, "pc-akuten") == 404


def test_outer_block_with_data_period(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_SYD_VC, "ETREAT") as syd_e:
        assert visible_ids(syd_e, "pd") == {"pd-2020"}  # 2023 information of Region Norrland is blocked
    with loaded.reader(CU_SYD_VC) as syd:
        assert visible_ids(syd, "pd") == set()  # no consent either
    with loaded.reader(CU_ALLERGI) as allergi:
        assert visible_ids(allergi, "pd") == {"pd-2020", "pd-2023"}  # never applies inside the care giver


def test_outer_block_excluding_an_information_type(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_AKUTEN, "ETREAT") as akuten_e:
        assert visible_ids(akuten_e, "pe") == {"pe-upp"}
    with loaded.reader(CU_SYD_VC) as syd:
        assert visible_ids(syd, "pe") == {"pe-upp", "pe-lak"}  # its own unit's information


def test_temporary_revoke(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_AKUTEN) as akuten, loaded.reader(CU_NORR_VC) as norr_vc:
        assert visible_ids(akuten, "pf") == {"pf-allergi"}
        assert visible_ids(norr_vc, "pf") == set()  # its revoke ended yesterday


def test_protected_patient_is_masked_on_read_include_and_summary(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_AKUTEN) as akuten:
        read = akuten.get("/fhir/Patient/pg").json()
        search = akuten.get("/fhir/AllergyIntolerance", params={"patient": "Patient/pg", "_include": "AllergyIntolerance:patient"}).json()
        summary = akuten.get("/fhir/Patient/pg/$summary").json()
    included = [e["resource"] for e in search["entry"] if e["resource"]["resourceType"] == "Patient"]
    in_summary = [e["resource"] for e in summary["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert len(included) == 1 and len(in_summary) == 1
    for p in (read, included[0], in_summary[0]):
        assert p["id"] == "pg" and p["identifier"][0]["value"] == "200001252386"
        assert not {"address", "telecom", "contact"} & set(p), p
    with loaded.reader(CU_AKUTEN) as akuten:
        plain = akuten.get("/fhir/Patient/pa").json()
    assert {"address", "telecom", "contact"} <= set(plain)  # an unprotected patient keeps them


def test_search_include_is_filtered(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_AKUTEN) as akuten:
        r = akuten.get("/fhir/AllergyIntolerance", params={"patient": "Patient/ph", "_include": "AllergyIntolerance:patient"})
    bundle = r.json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == ["ph-akuten"]  # the V-labelled Patient is withheld
    assert "total" not in bundle


def test_search_across_patients_reveals_nothing_withheld(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_SYD_VC) as syd:
        r = syd.get("/fhir/AllergyIntolerance", params={"code": "http://www.whocc.no/atc|J01CE02", "_count": "100"})
        count = syd.get("/fhir/AllergyIntolerance", params={"_summary": "count"})
    bundle = r.json()
    expected = {"pa-syd", "pb-akuten", "pe-upp", "pe-lak"}
    assert {e["resource"]["id"] for e in bundle["entry"]} == expected
    assert "total" not in bundle
    for withheld in ALL_ALLERGIES - expected:
        assert withheld not in r.text
    assert count.status_code == 403


def test_paging_does_not_reveal_withheld_matches(loaded) -> None:  # type: ignore[no-untyped-def]
    """With _count=1 a page emptied by the filter must not be followed by a `next` link that leads on."""
    pages = []
    with loaded.reader(CU_SYD_VC) as syd:
        url: str | None = "/fhir/AllergyIntolerance?patient=Patient/pa&_count=1"
        while url and len(pages) < 10:
            bundle = syd.get(url).json()
            pages.append(len(bundle.get("entry", [])))
            url = next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)
    assert 0 not in pages[:-1], pages  # as if the withheld match did not exist: only the last page may be empty


def test_conditional_create_does_not_return_a_withheld_match(loaded) -> None:  # type: ignore[no-untyped-def]
    body = allergy("ignored", "pa", CU_SYD_VC, text="Ny uppgift från Sydby")
    body.pop("id")
    with loaded.reader(CU_SYD_VC, scope=CLINICAL_SCOPE + " system/AllergyIntolerance.c") as syd:
        r = syd.post("/fhir/AllergyIntolerance", json=body,
                     headers={"If-None-Exist": "_id=pa-akuten", "Content-Type": "application/fhir+json"})
    assert "Penicillin från akuten" not in r.text and "pa-akuten" not in r.text, r.text[:300]


def test_deleted_withheld_resource_looks_unknown(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.admin() as admin:
        assert admin.delete("/fhir/AllergyIntolerance/pz-deleted").status_code in (200, 204)
    with loaded.reader(CU_SYD_VC) as syd:
        assert syd.get("/fhir/AllergyIntolerance/pz-deleted").status_code == syd.get("/fhir/AllergyIntolerance/nope").status_code
        assert "pz-deleted" not in syd.get("/fhir/AllergyIntolerance/_history").text


# -- $summary -------------------------------------------------------------------------------------

def _allergy_section(doc: dict[str, Any]) -> dict[str, Any]:
    comp = doc["entry"][0]["resource"]
    assert comp["resourceType"] == "Composition"
    return next(s for s in comp["section"] if s["code"]["coding"][0]["code"] == ALLERGIES_LOINC)


def test_summary_holds_only_what_the_requester_may_see(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_NORR_VC) as norr_vc:
        r = norr_vc.get("/fhir/Patient/pc/$summary")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["type"] == "document" and "total" not in doc
    assert doc["identifier"]["value"] and doc["timestamp"]
    types = [e["resource"]["resourceType"] for e in doc["entry"]]
    assert types == ["Composition", "Patient", "AllergyIntolerance"]
    section = _allergy_section(doc)
    assert section["entry"] == [{"reference": "AllergyIntolerance/pc-allergi"}]
    assert "emptyReason" not in section
    assert "pc-akuten" not in r.text and "pc-block-akuten" not in r.text
    assert all(e["fullUrl"] for e in doc["entry"])
    with loaded.admin() as admin:  # a valid R4 document (bdl-*, cmp-* invariants)
        outcome = admin.post("/fhir/Bundle/$validate", json=doc, headers={"Content-Type": "application/fhir+json"}).json()
    assert not [i for i in outcome["issue"] if i["severity"] in ("error", "fatal")], outcome


def test_summary_empty_section_never_says_why(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_VAST) as vast:
        withheld = vast.get("/fhir/Patient/pa/$summary").json()  # both allergies are withheld from Väst
        nothing = vast.get("/fhir/Patient/pn/$summary").json()  # this patient has no allergies at all
    s1, s2 = _allergy_section(withheld), _allergy_section(nothing)
    assert "entry" not in s1 and s1["emptyReason"]["coding"][0]["code"] not in ("withheld", "nilknown")
    assert s1 == s2  # indistinguishable
    assert [e["resource"]["resourceType"] for e in withheld["entry"]] == ["Composition", "Patient"]


def test_summary_of_withheld_or_unknown_patient_is_404(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_AKUTEN) as akuten:
        assert akuten.get("/fhir/Patient/ph/$summary").status_code == 404  # confidential (V) Patient
        assert akuten.get("/fhir/Patient/nobody/$summary").status_code == 404
    with loaded.reader(CU_AKUTEN, scope="system/Patient.rs") as narrow:
        assert narrow.get("/fhir/Patient/pa/$summary").status_code == 403


# -- $evaluate --------------------------------------------------------------------------------------

def _evaluate(hub, token_client, patient_id: str, unit: str | None, purpose: str, **extra: Any):  # type: ignore[no-untyped-def]
    params: list[dict[str, Any]] = [{"name": "patient", "valueReference": {"reference": f"Patient/{patient_id}"}},
                                    {"name": "purpose", "valueCode": purpose}]
    if unit:
        from consent_e2e_data import GIVER_OF

        params += [{"name": "careUnit", "valueString": unit}, {"name": "careGiver", "valueString": GIVER_OF[unit]}]
    if "resource" in extra:
        params.append({"name": "resource", "valueReference": {"reference": extra["resource"]}})
    return token_client.post("/fhir/Consent/$evaluate", json={"resourceType": "Parameters", "parameter": params},
                             headers={"Content-Type": "application/fhir+json"})


def _results(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for p in body["parameter"]:
        parts = p["part"]
        ref = next(x["valueReference"]["reference"] for x in parts if x["name"] == "resource")
        out[ref] = {
            "decision": next(x["valueCode"] for x in parts if x["name"] == "decision"),
            "rule": next(x["valueCode"] for x in parts if x["name"] == "rule"),
            "consents": sorted(x["valueReference"]["reference"] for x in parts if x["name"] == "consent"),
            "emergency": next(x["valueBoolean"] for x in parts if x["name"] == "emergency"),
        }
    return out


def _audit_count(admin, patient_id: str) -> int:  # type: ignore[no-untyped-def]
    return admin.get("/fhir/AuditEvent", params={"patient": f"Patient/{patient_id}", "_summary": "count"}).json()["total"]


def test_evaluate_explains_every_decision_without_auditing(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.client(loaded.tokens.issue("support", "system/Consent.rs")) as support, loaded.admin() as admin:
        before = _audit_count(admin, "pc")
        r = _evaluate(loaded, support, "pc", CU_NORR_VC, "TREAT")
        assert r.status_code == 200, r.text
        res = _results(r.json())
        assert res["AllergyIntolerance/pc-akuten"] == {"decision": "deny", "rule": "blocked", "consents": ["Consent/pc-block-akuten"], "emergency": False}
        assert res["AllergyIntolerance/pc-allergi"]["decision"] == "permit"
        assert res["Patient/pc"]["decision"] == "permit"
        assert set(res) == {"Patient/pc", "AllergyIntolerance/pc-akuten", "AllergyIntolerance/pc-allergi"}
        e = _results(_evaluate(loaded, support, "pc", CU_NORR_VC, "ETREAT", resource="AllergyIntolerance/pc-akuten").json())
        assert list(e) == ["AllergyIntolerance/pc-akuten"]
        assert e["AllergyIntolerance/pc-akuten"]["decision"] == "permit" and e["AllergyIntolerance/pc-akuten"]["emergency"] is True
        assert e["AllergyIntolerance/pc-akuten"]["consents"] == ["Consent/pc-block-akuten"]
        assert _audit_count(admin, "pc") == before


def test_evaluate_needs_consent_read_scope_and_valid_input(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_AKUTEN) as clinician:
        assert _evaluate(loaded, clinician, "pc", CU_AKUTEN, "TREAT").status_code == 403
    with loaded.client(loaded.tokens.issue("support", "system/Consent.rs")) as support:
        assert _evaluate(loaded, support, "nobody", CU_AKUTEN, "TREAT").status_code == 404
        bad = support.post("/fhir/Consent/$evaluate", json={"resourceType": "Parameters", "parameter": [{"name": "purpose", "valueCode": "TREAT"}]},
                           headers={"Content-Type": "application/fhir+json"})
        assert bad.status_code == 400
        other = _evaluate(loaded, support, "pc", CU_AKUTEN, "TREAT", resource="AllergyIntolerance/pa-akuten")
        assert other.status_code == 400  # not this patient's resource


# -- audit trail ----------------------------------------------------------------------------------

def _events_of(admin, patient_id: str, sub: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    bundle = admin.get("/fhir/AuditEvent", params={"patient": f"Patient/{patient_id}", "_count": "1000"}).json()
    events = [e["resource"] for e in bundle.get("entry", [])]
    return [ev for ev in events if any((a.get("who") or {}).get("identifier", {}).get("value") == sub for a in ev["agent"])]


def _entity_refs(ev: dict[str, Any]) -> set[str]:
    return {ent["what"]["reference"] for ent in ev.get("entity", []) if "reference" in ent.get("what", {})}


def test_every_decision_is_audited_with_purpose_outcome_and_consents(loaded) -> None:  # type: ignore[no-untyped-def]
    with loaded.reader(CU_NORR_VC, sub="audit-probe-treat") as norr_vc:
        visible_ids(norr_vc, "pc")
    with loaded.reader(CU_SYD_VC, "ETREAT", sub="audit-probe-etreat") as syd_e:
        visible_ids(syd_e, "pc")
    with loaded.admin() as admin:
        treat = _events_of(admin, "pc", "audit-probe-treat")
        etreat = _events_of(admin, "pc", "audit-probe-etreat")
    by_entity = {ref: ev for ev in treat for ref in _entity_refs(ev) if ref.startswith("AllergyIntolerance/")}
    assert set(by_entity) == {"AllergyIntolerance/pc-akuten", "AllergyIntolerance/pc-allergi"}
    denied, permitted = by_entity["AllergyIntolerance/pc-akuten"], by_entity["AllergyIntolerance/pc-allergi"]
    assert denied["outcome"] != "0" and permitted["outcome"] == "0"
    assert "Consent/pc-block-akuten" in _entity_refs(denied)
    assert "Patient/pc" in _entity_refs(denied)
    for ev in treat:
        assert ev["purposeOfEvent"][0]["coding"][0]["code"] == "TREAT"
        assert not any(x["url"].endswith("audit-emergency-access") for x in ev.get("extension", []))
    assert len(etreat) == 2
    for ev in etreat:
        assert ev["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT"
        assert any(x["url"].endswith("audit-emergency-access") and x["valueBoolean"] is True for x in ev["extension"])
    e_denied = next(ev for ev in etreat if "AllergyIntolerance/pc-akuten" in _entity_refs(ev))
    assert e_denied["outcome"] != "0" and "Consent/pc-block-akuten" in _entity_refs(e_denied)
