"""Bulk ingest (many documents per database transaction, prepared in worker processes) must have exactly the
outcome of ingesting the same documents one by one, in order: same responses, same stored versions, same
patient links, same outbox rows; a rejected document is rejected alone; concurrent writers never create a
patient twice."""

from __future__ import annotations

import re
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hub.auth import Claims
from hub.bench.pipeline import personnummer
from hub.fhir.errors import FhirError
from hub.ingest import Converter, ingest, ingest_many, ingest_stream
from hub.interactions import Caller, process_bundle
from hub.paths import examples_dir
from hub.store import Delivery, ResourceVersion

CALLER = Caller(Claims("bulk-test", ("system/*.cruds",), None, None, None))
_TEMPLATE = (examples_dir() / "rivta" / "GetAlertInformation-195009072553-amoxicillin.xml").read_bytes()
RECEIVER = "http://127.0.0.1:9"  # never contacted: no worker runs in these tests


def document(doc: int, patient: int, variant: int = 0, *, broken: str | None = None) -> bytes:
    """A GetAlertInformation response: document `doc` (its id fixes the AllergyIntolerance id) about
    patient `patient`; `variant` changes the comment, so a re-sent document makes a new version."""
    out = re.sub(rb"<c:documentId>[^<]+</c:documentId>", b"<c:documentId>bulk-%d</c:documentId>" % doc, _TEMPLATE, count=1)
    out = re.sub(rb"<c:id>\d{12}</c:id>", b"<c:id>%s</c:id>" % personnummer(patient).encode(), out, count=1)
    out = re.sub(rb"<c:alertInformationComment>[^<]*</c:alertInformationComment>",
                 b"<c:alertInformationComment>variant %d</c:alertInformationComment>" % variant, out, count=1)
    if broken == "xml":
        return out[: len(out) // 2]
    if broken == "schema":  # well-formed, but a required header element is missing
        return re.sub(rb"<c:sourceSystemHSAId>[^<]*</c:sourceSystemHSAId>", b"", out, count=1)
    return out


def _subscribe(hub) -> None:  # type: ignore[no-untyped-def]
    import orjson

    routes = orjson.loads((examples_dir() / "routes" / "registry-allergy.json").read_text().replace("{{RECEIVER}}", RECEIVER))
    process_bundle(hub, CALLER, routes)


def _outcome(o: Any, pid_of: dict[str, str]) -> Any:
    """A response with hub-assigned Patient ids replaced by the patient's personnummer."""
    if isinstance(o, FhirError):
        return (type(o).__name__, o.status, tuple(sorted(e for i in o.issues for e in i.expression)))
    out = []
    for e in o.body["entry"]:
        r = e["response"]
        loc = r.get("location")
        if loc and loc.startswith("Patient/"):
            loc = "Patient/" + pid_of[loc.split("/")[1]] + "/" + "/".join(loc.split("/")[2:])
        out.append((r["status"], loc, "outcome" in r))
    return (o.status, tuple(out))


def _state(hub) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Every stored version and outbox row, with Patient ids replaced by personnummer."""
    with hub.store.transaction() as s:
        rows = s.execute(select(ResourceVersion).order_by(ResourceVersion.seq)).scalars().all()
        pid_of = {}
        for r in rows:
            if r.rtype == "Patient" and not r.deleted:
                import orjson

                pid_of[r.rid] = orjson.loads(r.content)["identifier"][0]["value"]
        versions = Counter()
        current = {}
        for r in rows:
            if r.rtype in ("Subscription", "AuditEvent", "Organization"):  # set up with random ids by _subscribe
                continue
            key = (r.rtype, pid_of.get(r.rid, r.rid) if r.rtype == "Patient" else r.rid)
            versions[key] += 1
            if r.current:
                import orjson

                body = orjson.loads(r.content)
                body.pop("meta", None)
                body.pop("id", None)
                text = orjson.dumps(body).decode()
                for rid, pnr in pid_of.items():
                    text = text.replace(rid, pnr)
                current[key] = (r.vid, r.deleted, pid_of.get(r.patient_id, r.patient_id), text)
        deliveries = Counter((d.rtype, d.rid, d.vid, d.status, pid_of.get(d.patient_id, d.patient_id))
                             for d in s.execute(select(Delivery)).scalars())
    return {"versions": versions, "current": current, "deliveries": deliveries, "pid_of": pid_of}


# a document: (doc id, patient, variant, broken)
_DOCS = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 2), st.sampled_from([None, None, None, None, "xml", "schema"])),
    min_size=1, max_size=14,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=_DOCS, docs=_DOCS, batch=st.integers(1, 6))
def test_bulk_ingest_has_the_outcome_of_one_by_one(make_hub, before, docs, batch) -> None:  # type: ignore[no-untyped-def]
    one, bulk = make_hub(), make_hub()
    payloads = [document(d, p, v, broken=b) for d, p, v, b in docs]
    for hub in (one, bulk):
        _subscribe(hub)
        for d, p, v, b in before:  # some patients and documents exist already
            try:
                ingest(hub, CALLER, "rivta-alert", document(d, p, v, broken=b))
            except FhirError:
                pass
    singles: list[Any] = []
    for payload in payloads:
        try:
            singles.append(ingest(one, CALLER, "rivta-alert", payload))
        except FhirError as exc:
            singles.append(exc)
    bulks = list(ingest_stream(bulk, CALLER, Converter("rivta-alert"), payloads, batch=batch))
    a, b = _state(one), _state(bulk)
    assert [_outcome(o, a["pid_of"]) for o in singles] == [_outcome(o, b["pid_of"]) for o in bulks]
    assert a["versions"] == b["versions"]
    assert a["current"] == b["current"]
    assert a["deliveries"] == b["deliveries"]
    # a patient is never created twice
    assert sorted(a["pid_of"].values()) == sorted(set(a["pid_of"].values())) == sorted(b["pid_of"].values())


def test_a_rejected_document_is_rejected_alone_with_its_location(make_hub) -> None:  # type: ignore[no-untyped-def]
    hub = make_hub()
    out = ingest_many(hub, CALLER, "rivta-alert", [document(1, 1), document(2, 2, broken="schema"), document(3, 3)])
    assert [getattr(o, "status", None) for o in out] == [201, 400, 201]
    assert any("sourceSystemHSAId" in e for i in out[1].issues for e in i.expression)  # type: ignore[union-attr]
    with hub.store.transaction() as s:
        patients = {r.rid for r in s.execute(select(ResourceVersion).where(ResourceVersion.rtype == "Patient")).scalars()}
    assert len(patients) == 2


def test_an_invalid_resource_rejects_its_document_with_the_entry_location(make_hub) -> None:  # type: ignore[no-untyped-def]
    from hub.interactions import process_transactions

    hub = make_hub()
    good = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:x", "value": "1"}]},
         "request": {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:x|1"}}]}
    bad = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient", "gender": "often"}, "request": {"method": "PUT", "url": "Patient/p2"}}]}
    out = process_transactions(hub, CALLER, [good, bad, good])
    assert out[0].status == 200 and out[2].status == 200  # type: ignore[union-attr]
    assert out[0].body["entry"][0]["response"]["status"] == "201"  # type: ignore[union-attr]
    assert out[2].body["entry"][0]["response"]["status"] == "200"  # type: ignore[union-attr]  # linked, not created again
    assert isinstance(out[1], FhirError) and out[1].status == 422
    assert any(e.startswith("Bundle.entry[0].resource.gender") for i in out[1].issues for e in i.expression)


def test_worker_processes_give_the_same_outcome(make_hub) -> None:  # type: ignore[no-untyped-def]
    one, pooled = make_hub(), make_hub()
    payloads = [document(i % 5, i % 3, i) for i in range(40)] + [document(9, 1, broken="xml")]
    expected = [_outcome(o, {}) if isinstance(o, FhirError) else o.body["entry"][1]["response"]["status"]
                for o in ingest_many(one, CALLER, "rivta-alert", payloads)]
    with Converter("rivta-alert", jobs=2) as conv:
        got = [_outcome(o, {}) if isinstance(o, FhirError) else o.body["entry"][1]["response"]["status"]
               for o in ingest_stream(pooled, CALLER, conv, payloads, batch=7)]
    assert got == expected
    assert _state(one)["current"] == _state(pooled)["current"]


# -- PostgreSQL: concurrent writers ---------------------------------------------------------------

@pytest.fixture
def pg_hubs(hub_dir: Path):  # type: ignore[no-untyped-def]
    """Two hubs (as two API replicas would be) on one fresh PostgreSQL schema."""
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "store"))
    from store_backends import pg_schema_url

    from hub.settings import Settings
    from hub.wiring import build_hub

    for url in pg_schema_url():
        hubs = [build_hub(Settings(database_url=url, key_file=str(hub_dir / "key.pem"))) for _ in range(2)]
        yield hubs
        for h in hubs:
            h.store.engine.dispose()


def test_concurrent_bulk_ingests_create_each_patient_once_and_lose_no_version(pg_hubs) -> None:  # type: ignore[no-untyped-def]
    """Two writers ingest overlapping documents at once: conditional creates serialise on the patient's
    identifier (advisory lock), conflicting versions retry alone; every document is stored."""
    a, b = pg_hubs
    _subscribe(a)
    docs_a = [document(i % 12, i % 6, i) for i in range(60)]
    docs_b = [document(i % 12, i % 6, 100 + i) for i in range(60)]
    results: dict[str, list[Any]] = {}
    start = threading.Barrier(2)

    def run(name: str, hub, docs) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        results[name] = list(ingest_stream(hub, CALLER, Converter("rivta-alert"), docs, batch=10))

    threads = [threading.Thread(target=run, args=("a", a, docs_a)), threading.Thread(target=run, args=("b", b, docs_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(not isinstance(o, FhirError) for o in results["a"] + results["b"])
    state = _state(a)
    assert sorted(state["pid_of"].values()) == sorted({personnummer(p) for p in range(6)})
    # each document wrote one new version of its AllergyIntolerance: 120 versions over 12 resources
    allergy_versions = sum(n for (rtype, _), n in state["versions"].items() if rtype == "AllergyIntolerance")
    assert allergy_versions == 120
