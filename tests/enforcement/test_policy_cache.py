"""Compiled policies are cached per patient, keyed by generation markers that every relevant write moves in
its own transaction: a directive change takes effect for the very next decision, in every process."""

from __future__ import annotations

from pathlib import Path

from hub.auth import Claims
from hub.fhir.errors import NotFound
from hub.interactions import Caller, read
from hub.settings import Settings
from hub.wiring import build_hub

CG, CU, OTHER_UNIT = "SE2321000016-0001", "SE2321000016-E001", "SE2321000016-E002"
HSA = "urn:oid:1.2.752.29.4.19"


def _hubs(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'c.db'}", key_file=str(tmp_path / "k.pem"), validate_on_write=False)
    return build_hub(settings), build_hub(settings, migrate_schema=False)  # two processes' worth of hubs


def _block(unit_ref: dict, status: str = "active") -> dict:
    return {
        "resourceType": "Consent", "id": "blk", "status": status,
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "https://knutpunkt.se/fhir/CodeSystem/pdl-directive", "code": "block"}]}],
        "patient": {"reference": "Patient/p"},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]},
        "extension": [{"url": "https://knutpunkt.se/fhir/StructureDefinition/pdl-block-type", "valueCode": "inner"}],
        "provision": {"type": "deny", "actor": [{
            "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "CST"}]},
            "reference": unit_ref}]},
    }


def _seed(hub) -> None:  # type: ignore[no-untyped-def]
    with hub.store.transaction() as s:
        hub.store.update(s, {"resourceType": "Patient", "id": "p"})
        hub.store.update(s, {"resourceType": "Organization", "id": "unit", "identifier": [{"system": HSA, "value": "SE2321000016-XXXX"}]})
        hub.store.update(s, {"resourceType": "AllergyIntolerance", "id": "a", "patient": {"reference": "Patient/p"}, "code": {"text": "latex"},
                             "extension": [{"url": "https://knutpunkt.se/fhir/StructureDefinition/information-source", "extension": [
                                 {"url": "careGiver", "valueIdentifier": {"system": HSA, "value": CG}},
                                 {"url": "careUnit", "valueIdentifier": {"system": HSA, "value": CU}},
                                 {"url": "informationType", "valueCode": "upp"}]}]})


def _visible(hub) -> bool:  # type: ignore[no-untyped-def]
    caller = Caller(Claims("nurse", ("system/*.rs",), CG, OTHER_UNIT, "TREAT"))
    try:
        read(hub, caller, "AllergyIntolerance", "a")
        return True
    except NotFound:
        return False


def test_block_written_by_another_process_denies_the_next_read(tmp_path: Path) -> None:
    reader, writer = _hubs(tmp_path)
    _seed(writer)
    assert _visible(reader)  # same care giver, other unit, no block: permitted (and the policy is now cached)
    with writer.store.transaction() as s:
        writer.store.update(s, _block({"identifier": {"system": HSA, "value": CU}}))
    assert not _visible(reader)  # the cached policy was not used
    with writer.store.transaction() as s:
        writer.store.update(s, _block({"identifier": {"system": HSA, "value": CU}}, status="inactive"))
    assert _visible(reader)
    with writer.store.transaction() as s:
        writer.store.update(s, _block({"identifier": {"system": HSA, "value": CU}}))
    assert not _visible(reader)
    with writer.store.transaction() as s:
        writer.store.delete(s, "Consent", "blk")
    assert _visible(reader)


def test_changing_an_actor_organization_takes_effect_at_once(tmp_path: Path) -> None:
    reader, writer = _hubs(tmp_path)
    _seed(writer)
    with writer.store.transaction() as s:
        writer.store.update(s, _block({"reference": "Organization/unit"}))  # blocks SE2321000016-XXXX: not our source
    assert _visible(reader)
    with writer.store.transaction() as s:  # the blocked Organization turns out to be the source unit
        writer.store.update(s, {"resourceType": "Organization", "id": "unit", "identifier": [{"system": HSA, "value": CU}]})
    assert not _visible(reader)


def test_rolled_back_directive_never_reaches_the_cache(tmp_path: Path) -> None:
    reader, writer = _hubs(tmp_path)
    _seed(writer)
    try:
        with reader.store.transaction() as s:
            reader.store.update(s, _block({"identifier": {"system": HSA, "value": CU}}))
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert _visible(reader)
    with writer.store.transaction() as s:
        writer.store.update(s, _block({"identifier": {"system": HSA, "value": CU}}))
    assert not _visible(reader)


def test_more_directives_than_the_hub_reads_denies_everything(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import hub.enforcement._enforcer as enforcer_module

    monkeypatch.setattr(enforcer_module, "MAX_DIRECTIVES", 3)
    reader, writer = _hubs(tmp_path)
    _seed(writer)
    with writer.store.transaction() as s:
        for i in range(3):  # consents for units that do not matter: the policy is still readable
            writer.store.update(s, {**_block({"identifier": {"system": HSA, "value": f"SE2321000016-Z{i}"}}), "id": f"c{i}"})
    assert _visible(reader)
    with writer.store.transaction() as s:
        writer.store.update(s, {**_block({"identifier": {"system": HSA, "value": "SE2321000016-Z9"}}), "id": "c9"})
    assert not _visible(reader)  # a partial directive set is never decided on


def test_batch_of_deliveries_decides_each_patient_on_its_own_directives(tmp_path: Path) -> None:
    from hub.consent import Requester
    from hub.enforcement import DecisionBatch

    _, writer = _hubs(tmp_path)
    _seed(writer)
    with writer.store.transaction() as s:
        writer.store.update(s, {"resourceType": "Patient", "id": "q"})
        other = writer.store.read(s, "AllergyIntolerance", "a").resource
        writer.store.update(s, {**other, "id": "b", "patient": {"reference": "Patient/q"}})
        writer.store.update(s, _block({"identifier": {"system": HSA, "value": CU}}))  # blocks patient p only
    nurse = Requester(CG, OTHER_UNIT, "nurse", "TREAT")
    with writer.store.transaction() as s:
        batch = DecisionBatch(writer.enforcer, s)
        batch.prime(["p", "q"])
        a = writer.store.read(s, "AllergyIntolerance", "a")
        b = writer.store.read(s, "AllergyIntolerance", "b")
        assert batch.decide_one(s, a, nurse, action="E") is None
        assert batch.decide_one(s, b, nurse, action="E") is not None
        batch.flush()
