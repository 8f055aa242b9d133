"""The repository: versions, deletes, history, the search index and listeners, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from store_backends import backend_url  # noqa: F401  (fixture)

from hub.fhir.errors import Gone, NotFound, PreconditionFailed
from hub.store import Store, make_engine, migrate, parse_query


@pytest.fixture
def store(backend_url) -> Store:  # noqa: F811
    engine = make_engine(backend_url)
    migrate(engine)
    yield Store(engine)
    engine.dispose()


def _patient(pnr: str, **kw) -> dict:
    return {"resourceType": "Patient", "identifier": [{"system": "urn:pnr", "value": pnr}], **kw}


def _search(store: Store, rtype: str, *pairs: tuple[str, str]) -> list[str]:
    with store.transaction() as s:
        return [st.rid for st in store.search(s, parse_query(rtype, list(pairs)))]


def test_create_read_update_versions(store):
    with store.transaction() as s:
        st = store.create(s, _patient("1"))
    assert st.vid == 1 and st.resource["meta"]["versionId"] == "1" and st.etag == 'W/"1"'
    assert st.resource["meta"]["lastUpdated"].endswith("Z")
    with store.transaction() as s:
        st2, created = store.update(s, {**_patient("1", gender="male"), "id": st.rid}, if_match=1)
    assert not created and st2.vid == 2
    with store.transaction() as s:
        assert store.read(s, "Patient", st.rid).resource["gender"] == "male"
        assert "gender" not in store.vread(s, "Patient", st.rid, 1).resource
        with pytest.raises(NotFound):
            store.vread(s, "Patient", st.rid, 3)


def test_update_creates_with_client_id(store):
    with store.transaction() as s:
        st, created = store.update(s, {**_patient("1"), "id": "mine"})
    assert created and st.rid == "mine" and st.vid == 1


def test_if_match_conflict(store):
    with store.transaction() as s:
        st = store.create(s, _patient("1"))
    with pytest.raises(PreconditionFailed), store.transaction() as s:
        store.update(s, {**_patient("1"), "id": st.rid}, if_match=2)
    with pytest.raises(PreconditionFailed), store.transaction() as s:
        store.update(s, {**_patient("1"), "id": "absent"}, if_match=1)


def test_delete_history_and_gone(store):
    with store.transaction() as s:
        st = store.create(s, _patient("1"))
    with store.transaction() as s:
        deleted = store.delete(s, "Patient", st.rid)
        assert deleted is not None and deleted.deleted and deleted.vid == 2
        assert store.delete(s, "Patient", st.rid) is None
        assert store.delete(s, "Patient", "never") is None
    with store.transaction() as s:
        with pytest.raises(Gone):
            store.read(s, "Patient", st.rid)
        assert store.read_optional(s, "Patient", st.rid) is None
        assert store.vread(s, "Patient", st.rid, 1).rid == st.rid
        hist = store.history(s, "Patient", st.rid)
    assert [(h.vid, h.deleted) for h in hist] == [(2, True), (1, False)]
    assert _search(store, "Patient", ("identifier", "1")) == []


def test_search_index_follows_the_current_version(store):
    with store.transaction() as s:
        st = store.create(s, _patient("1", gender="male"))
    assert _search(store, "Patient", ("gender", "male")) == [st.rid]
    with store.transaction() as s:
        store.update(s, {**_patient("1", gender="female"), "id": st.rid})
    assert _search(store, "Patient", ("gender", "male")) == []
    assert _search(store, "Patient", ("gender", "female")) == [st.rid]


def test_search_orders_pages_and_counts(store):
    with store.transaction() as s:
        rids = [store.create(s, _patient(str(i), gender="other")).rid for i in range(5)]
    assert _search(store, "Patient", ("gender", "other"), ("_count", "2"), ("_offset", "1")) == rids[1:3]
    with store.transaction() as s:
        assert store.count(s, parse_query("Patient", [("gender", "other")])) == 5
        assert store.count(s, parse_query("Patient", [("gender", "male")])) == 0


def test_search_string_date_and_missing(store):
    with store.transaction() as s:
        a = store.create(s, _patient("1", name=[{"family": "Ekström"}], birthDate="1950-09-07")).rid
        b = store.create(s, _patient("2", name=[{"family": "Eklund"}], birthDate="1961-01-18")).rid
        c = store.create(s, _patient("3")).rid
    assert set(_search(store, "Patient", ("family", "ek"))) == {a, b}
    assert _search(store, "Patient", ("family", "EKSTR")) == [a]
    assert _search(store, "Patient", ("family:exact", "ekström")) == [a]
    assert _search(store, "Patient", ("name:contains", "lun")) == [b]
    assert _search(store, "Patient", ("family", "50%")) == []  # LIKE metacharacters are escaped
    assert _search(store, "Patient", ("birthdate", "1950")) == [a]
    assert _search(store, "Patient", ("birthdate", "ge1955")) == [b]
    assert set(_search(store, "Patient", ("birthdate", "le1961-01"))) == {a, b}
    assert _search(store, "Patient", ("birthdate", "gt1961")) == []
    assert _search(store, "Patient", ("birthdate", "lt1950-09-07")) == []
    assert _search(store, "Patient", ("birthdate:missing", "true")) == [c]
    assert set(_search(store, "Patient", ("family:missing", "false"))) == {a, b}
    assert set(_search(store, "Patient", ("_id:not", a))) == {b, c}


def test_listener_runs_in_the_transaction_and_rolls_back_with_it(store):
    seen = []

    def listener(s, changes):
        for new, previous in changes:
            seen.append((new.ref, new.vid, previous.vid if previous else None))
            if new.resource.get("gender") == "unknown":
                raise RuntimeError("listener failure")

    store.add_listener(listener)
    with store.transaction() as s:
        st = store.create(s, _patient("1"))
    assert seen == [(st.ref, 1, None)]
    with pytest.raises(RuntimeError), store.transaction() as s:
        store.update(s, {**_patient("1", gender="unknown"), "id": st.rid})
    with store.transaction() as s:
        assert store.read(s, "Patient", st.rid).vid == 1
        assert [h.vid for h in store.history(s, "Patient", st.rid)] == [1]


def test_write_many_writes_a_batch_in_one_listener_call(store):
    calls = []
    store.add_listener(lambda s, changes: calls.append([(n.ref, n.vid, p.vid if p else None) for n, p in changes]))
    with store.transaction() as s:
        old = store.create(s, _patient("1", gender="male"))
    calls.clear()
    with store.transaction() as s:
        current = store.current_rows(s, [("Patient", old.rid), ("Patient", "new-1")])
        assert set(current) == {("Patient", old.rid)}
        written = store.write_many(s, [
            ({**_patient("2", gender="female"), "id": "new-1"}, None),
            ({**_patient("1", gender="other"), "id": old.rid}, current[("Patient", old.rid)]),
        ])
    assert [(w.ref, w.vid) for w in written] == [("Patient/new-1", 1), (f"Patient/{old.rid}", 2)]
    assert calls == [[("Patient/new-1", 1, None), (f"Patient/{old.rid}", 2, 1)]]
    # the search index follows the new versions, the old version is history
    assert _search(store, "Patient", ("gender", "male")) == []
    assert _search(store, "Patient", ("gender", "other")) == [old.rid]
    assert _search(store, "Patient", ("gender", "female")) == ["new-1"]
    with store.transaction() as s:
        assert [h.vid for h in store.history(s, "Patient", old.rid)] == [2, 1]
        assert store.read(s, "Patient", old.rid).resource["meta"]["versionId"] == "2"


def test_write_many_refuses_a_resource_twice_in_one_batch(store):
    with pytest.raises(ValueError), store.transaction() as s:
        store.write_many(s, [({**_patient("1"), "id": "same"}, None), ({**_patient("2"), "id": "same"}, None)])
    with store.transaction() as s:
        assert store.read_optional(s, "Patient", "same") is None


def test_reindex(store):
    with store.transaction() as s:
        st = store.create(s, _patient("1", gender="male"))
    with store.transaction() as s:
        assert store.reindex(s, "Patient") == 1
    assert _search(store, "Patient", ("gender", "male")) == [st.rid]
