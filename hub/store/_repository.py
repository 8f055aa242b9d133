"""The repository: versioned FHIR resources with search, history and change listeners (for the outbox).

All writes of one interaction happen inside one `Store.transaction()`; listeners run inside it too, so
the outbox rows commit or roll back together with the change (transactional outbox).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hub.fhir.errors import Conflict, Gone, InvalidInput, Issue, NotFound, PreconditionFailed
from hub.store._query import SearchQuery, normalise_ref_value, split_token
from hub.store._search_params import index_rows, patient_of, search_params
from hub.store._sql import keys_in, one_of
from hub.store._tables import ResourceVersion, SearchIndex


def utcnow() -> datetime:
    return datetime.now(UTC)


def fhir_instant(dt: datetime) -> str:
    """UTC datetime → FHIR instant with milliseconds and `Z`."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Stored:
    rtype: str
    rid: str
    vid: int
    last_updated: datetime
    deleted: bool
    resource: dict[str, Any]
    patient_id: str | None = None  # the indexed patient (patient_of at write time)

    @property
    def etag(self) -> str:
        return f'W/"{self.vid}"'

    @property
    def ref(self) -> str:
        return f"{self.rtype}/{self.rid}"


_RV = ResourceVersion.__table__  # type: ignore[attr-defined]
_SI = SearchIndex.__table__  # type: ignore[attr-defined]


# Statements built once (no per-call expression building or cache-key generation on the hot path).
_CURRENT = select(*_RV.c).where(_RV.c.rtype == bindparam("q_rtype"), _RV.c.rid == bindparam("q_rid"), _RV.c.current.is_(True))
_CURRENT_LOCKED = _CURRENT.with_for_update()
_RETIRE = update(_RV).where(_RV.c.seq == bindparam("q_seq")).values(current=False)
_TOUCH_PG = text("INSERT INTO hub_state (key, value) SELECT * FROM unnest(CAST(:keys AS text[]), CAST(:values AS text[])) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
_COPY_MIN_ROWS = 16  # below this, executemany is as quick as COPY
_DELETE_INDEX = delete(_SI).where(_SI.c.rtype == bindparam("q_rtype"), _SI.c.rid == bindparam("q_rid"))


def _stored(row: Any) -> Stored:
    return Stored(row.rtype, row.rid, row.vid, row.last_updated, row.deleted, orjson.loads(row.content) if row.content else {}, row.patient_id)


Change = tuple[Stored, "Stored | None"]  # (new version, previous visible version)
Listener = Callable[[Session, list[Change]], None]


class Store:
    """Resource persistence on one SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._listeners: list[Listener] = []
        self.is_postgres = engine.dialect.name == "postgresql"

    def add_listener(self, fn: Listener) -> None:
        """`fn(session, [(new, previous), ...])` runs inside the writing transaction after every write,
        delete or batch of writes (one call per batch, in write order)."""
        self._listeners.append(fn)

    def _notify(self, s: Session, changes: list[Change]) -> None:
        if changes:
            for fn in self._listeners:
                fn(s, changes)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    # -- reads ---------------------------------------------------------------------------------
    def _current_row(self, s: Session, rtype: str, rid: str, lock: bool = False) -> Any:
        stmt = _CURRENT_LOCKED if lock and self.is_postgres else _CURRENT
        return s.execute(stmt, {"q_rtype": rtype, "q_rid": rid}).first()

    def read(self, s: Session, rtype: str, rid: str) -> Stored:
        row = self._current_row(s, rtype, rid)
        if row is None:
            raise NotFound(f"{rtype}/{rid} is not known")
        if row.deleted:
            raise Gone(f"{rtype}/{rid} was deleted")
        return _stored(row)

    def current_rows(self, s: Session, keys: list[tuple[str, str]], *, lock: bool = True) -> dict[tuple[str, str], Any]:
        """The current rows (deleted ones too) of many resources in one query, locked for update on
        PostgreSQL in key order (concurrent batches lock in the same order, so they cannot deadlock)."""
        if not keys:
            return {}
        stmt = (select(*_RV.c).where(keys_in((_RV.c.rtype, _RV.c.rid), keys, self.is_postgres), _RV.c.current.is_(True))
                .order_by(_RV.c.rtype, _RV.c.rid))
        if lock and self.is_postgres:
            stmt = stmt.with_for_update()
        return {(r.rtype, r.rid): r for r in s.execute(stmt)}

    def read_optional(self, s: Session, rtype: str, rid: str) -> Stored | None:
        row = self._current_row(s, rtype, rid)
        return None if row is None or row.deleted else _stored(row)

    def read_many(self, s: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Stored]:
        """Current, not deleted versions of many resources in one query (absent keys are missing)."""
        if not keys:
            return {}
        rows = s.execute(select(*_RV.c).where(keys_in((_RV.c.rtype, _RV.c.rid), keys, self.is_postgres), _RV.c.current.is_(True), _RV.c.deleted.is_(False)))
        return {(r.rtype, r.rid): _stored(r) for r in rows}

    def vread(self, s: Session, rtype: str, rid: str, vid: int) -> Stored:
        row = s.execute(select(*_RV.c).where(_RV.c.rtype == rtype, _RV.c.rid == rid, _RV.c.vid == vid)).first()
        if row is None:
            raise NotFound(f"{rtype}/{rid}/_history/{vid} is not known")
        if row.deleted:
            raise Gone(f"{rtype}/{rid}/_history/{vid} is a deletion")
        return _stored(row)

    def history(self, s: Session, rtype: str | None, rid: str | None, count: int = 100, offset: int = 0) -> list[Stored]:
        stmt = select(*_RV.c)
        if rtype:
            stmt = stmt.where(_RV.c.rtype == rtype)
        if rid:
            stmt = stmt.where(_RV.c.rid == rid)
        stmt = stmt.order_by(_RV.c.seq.desc()).offset(offset).limit(count)
        return [_stored(r) for r in s.execute(stmt)]

    # -- writes --------------------------------------------------------------------------------
    def insert_rows(self, s: Session, table: Any, rows: list[dict[str, Any]]) -> None:
        """Insert many rows (all with the same keys) into a table. PostgreSQL gets COPY: one round trip and
        no per-row statement on either side, several times faster than executemany for a bulk write."""
        if not rows:
            return
        if not self.is_postgres or len(rows) < _COPY_MIN_ROWS:
            s.execute(insert(table), rows[0] if len(rows) == 1 else rows)
            return
        import psycopg

        cols = list(rows[0])
        sql = f"COPY {table.name} ({', '.join(cols)}) FROM STDIN"
        raw = s.connection().connection.driver_connection
        try:
            with raw.cursor() as cur, cur.copy(sql) as copy:
                for row in rows:
                    copy.write_row([row[c] for c in cols])
        except psycopg.errors.IntegrityError as exc:
            raise IntegrityError(sql, None, exc) from exc

    def create(self, s: Session, resource: dict[str, Any]) -> Stored:
        rid = str(uuid.uuid4())
        return self._write(s, {**resource, "id": rid}, None)

    def touch(self, s: Session, *keys: str) -> None:
        """Give `hub_state` keys fresh random values in this transaction (generation markers); one
        statement, keys in sorted order (concurrent writers lock them in the same order)."""
        from hub.store._tables import KeyValue

        if not keys:
            return
        table = KeyValue.__table__  # type: ignore[attr-defined]
        ordered = sorted(set(keys))
        if self.is_postgres:  # arrays: the same statement text for any number of keys
            s.execute(_TOUCH_PG, {"keys": ordered, "values": [uuid.uuid4().hex for _ in ordered]})
            return
        from sqlalchemy.dialects.sqlite import insert as upsert

        stmt = upsert(table).values([{"key": k, "value": uuid.uuid4().hex} for k in ordered])
        s.execute(stmt.on_conflict_do_update(index_elements=[table.c.key], set_={"value": stmt.excluded.value}))

    def lock_keys(self, s: Session, keys: list[str]) -> None:
        """Serialise transactions on names until commit (PostgreSQL advisory locks, taken in sorted order so
        two transactions never wait on each other). SQLite needs none: its writers take the database lock
        at BEGIN. Used by conditional creates, so two concurrent ones cannot both create."""
        if keys and self.is_postgres:
            s.execute(text("SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM unnest(CAST(:keys AS text[])) AS k"),
                      {"keys": sorted(set(keys))})

    def token_matches(self, s: Session, rtype: str, param: str, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
        """Ids of current resources whose token parameter has `system|value`, for many pairs in one query."""
        if not pairs:
            return {}
        rows = s.execute(select(_SI.c.system, _SI.c.value, _SI.c.rid).distinct().where(
            _SI.c.rtype == rtype, _SI.c.param == param, keys_in((_SI.c.system, _SI.c.value), pairs, self.is_postgres)))
        found: dict[tuple[str, str], list[str]] = {}
        for r in rows:
            found.setdefault((r.system, r.value), []).append(r.rid)
        return found

    def generations(self, s: Session, keys: list[str]) -> tuple[str | None, ...]:
        """The current values of `hub_state` keys (None where absent), in order."""
        from hub.store._tables import KeyValue

        table = KeyValue.__table__  # type: ignore[attr-defined]
        found = dict(s.execute(select(table.c.key, table.c.value).where(one_of(table.c.key, keys, self.is_postgres))).all())
        return tuple(found.get(k) for k in keys)

    def insert_many_new(self, s: Session, resources: list[dict[str, Any]]) -> list[Stored]:
        """Store resources with fresh ids in one batch (audit events): one INSERT per table."""
        now = utcnow()
        stamp = fhir_instant(now)
        stored: list[Stored] = []
        versions: list[dict[str, Any]] = []
        index: list[dict[str, Any]] = []
        for resource in resources:
            rtype, rid = resource["resourceType"], resource["id"]
            body = {"resourceType": rtype, "id": rid, "meta": {**(resource.get("meta") or {}), "versionId": "1", "lastUpdated": stamp}}
            body.update({k: v for k, v in resource.items() if k not in ("resourceType", "id", "meta")})
            versions.append({"rtype": rtype, "rid": rid, "vid": 1, "last_updated": now, "deleted": False, "current": True,
                             "patient_id": patient_of(body), "content": orjson.dumps(body).decode()})
            index.extend({"rtype": rtype, "rid": rid, "param": p, "system": sy, "value": v} for p, sy, v in index_rows(body))
            stored.append(Stored(rtype, rid, 1, now, False, body))
        self.insert_rows(s, _RV, versions)
        self.insert_rows(s, _SI, index)
        self._notify(s, [(st, None) for st in stored])
        return stored

    def update(self, s: Session, resource: dict[str, Any], *, if_match: int | None = None) -> tuple[Stored, bool]:
        """Update (or create with the client's id). Returns (stored, created)."""
        rtype, rid = resource["resourceType"], resource.get("id")
        if not rid:
            raise InvalidInput("update needs an id", [Issue("error", "required", "resource id is required for update", (f"{rtype}.id",))])
        current = self._current_row(s, rtype, rid, lock=True)
        if if_match is not None and (current is None or current.deleted or current.vid != if_match):
            have = "none" if current is None else str(current.vid)
            raise PreconditionFailed(f"If-Match version {if_match} does not match current version {have}")
        return self._write(s, resource, current), current is None or current.deleted

    def delete(self, s: Session, rtype: str, rid: str) -> Stored | None:
        current = self._current_row(s, rtype, rid, lock=True)
        if current is None or current.deleted:
            return None
        now = utcnow()
        previous = _stored(current)
        s.execute(_RETIRE, {"q_seq": current.seq})
        body = {"resourceType": rtype, "id": rid}
        s.execute(insert(_RV).values(
            rtype=rtype, rid=rid, vid=current.vid + 1, last_updated=now, deleted=True, current=True,
            patient_id=current.patient_id, content=orjson.dumps(body).decode(),
        ))
        s.execute(_DELETE_INDEX, {"q_rtype": rtype, "q_rid": rid})
        stored = Stored(rtype, rid, current.vid + 1, now, True, body)
        self._notify(s, [(stored, previous)])
        return stored

    def _write(self, s: Session, resource: dict[str, Any], current: Any) -> Stored:
        return self.write_many(s, [(resource, current)])[0]

    def write_many(self, s: Session, items: list[tuple[dict[str, Any], Any]]) -> list[Stored]:
        """Write new versions of many resources: `(resource with id, its current row or None)`, each
        (rtype, id) at most once. A fixed number of statements whatever the count; listeners get one call."""
        now = utcnow()
        stamp = fhir_instant(now)
        versions: list[dict[str, Any]] = []
        index: list[dict[str, Any]] = []
        retire: list[int] = []
        reindex: list[tuple[str, str]] = []
        changes: list[Change] = []
        for resource, current in items:
            rtype, rid = resource["resourceType"], resource["id"]
            vid = 1 if current is None else current.vid + 1
            meta = dict(resource.get("meta") or {})
            meta["versionId"] = str(vid)
            meta["lastUpdated"] = stamp
            body = {"resourceType": rtype, "id": rid, "meta": meta}
            body.update({k: v for k, v in resource.items() if k not in ("resourceType", "id", "meta")})
            previous = None
            if current is not None:
                previous = None if current.deleted else _stored(current)
                retire.append(current.seq)
                reindex.append((rtype, rid))
            pid = patient_of(body)
            versions.append({"rtype": rtype, "rid": rid, "vid": vid, "last_updated": now, "deleted": False, "current": True,
                             "patient_id": pid, "content": orjson.dumps(body).decode()})
            index.extend({"rtype": rtype, "rid": rid, "param": p, "system": sy, "value": v} for p, sy, v in index_rows(body))
            changes.append((Stored(rtype, rid, vid, now, False, body, pid), previous))
        if len({(st.rtype, st.rid) for st, _ in changes}) != len(changes):
            raise ValueError("write_many: a resource appears more than once in one batch")
        if len(retire) == 1:
            s.execute(_RETIRE, {"q_seq": retire[0]})
        elif retire:
            s.execute(update(_RV).where(one_of(_RV.c.seq, retire, self.is_postgres)).values(current=False))
        try:
            self.insert_rows(s, _RV, versions)
        except IntegrityError as exc:  # unique (rtype, rid, vid): a concurrent writer won
            raise Conflict(f"concurrent update of {', '.join(f'{st.rtype}/{st.rid}' for st, _ in changes[:5])}") from exc
        if len(reindex) == 1:
            s.execute(_DELETE_INDEX, {"q_rtype": reindex[0][0], "q_rid": reindex[0][1]})
        elif reindex:
            s.execute(delete(_SI).where(keys_in((_SI.c.rtype, _SI.c.rid), reindex, self.is_postgres)))
        self.insert_rows(s, _SI, index)
        self._notify(s, changes)
        return [st for st, _ in changes]

    # -- search --------------------------------------------------------------------------------
    def search(self, s: Session, query: SearchQuery) -> list[Stored]:
        stmt = self._search_stmt(query).order_by(ResourceVersion.seq)
        if query.sort in ("_lastUpdated", "-_lastUpdated"):
            col = ResourceVersion.last_updated
            stmt = self._search_stmt(query).order_by(col.desc() if query.sort.startswith("-") else col)
        stmt = stmt.offset(query.offset).limit(query.count)
        return [_stored(r) for r in s.execute(stmt)]

    def count(self, s: Session, query: SearchQuery) -> int:
        sub = self._search_stmt(query).subquery()
        return int(s.execute(select(func.count()).select_from(sub)).scalar_one())

    def _search_stmt(self, query: SearchQuery):  # type: ignore[no-untyped-def]
        defs = search_params().get(query.rtype, {})
        stmt = select(*_RV.c).where(
            ResourceVersion.rtype == query.rtype, ResourceVersion.current.is_(True), ResourceVersion.deleted.is_(False)
        )
        for c in query.criteria:
            if c.param == "_id":
                cond = ResourceVersion.rid.in_(c.values)
                stmt = stmt.where(~cond if c.modifier == "not" else cond)
                continue
            if c.param == "_lastUpdated":
                stmt = stmt.where(or_(*[_date_cond(ResourceVersion.last_updated, v, as_datetime=True) for v in c.values]))
                continue
            param = defs[c.param]
            base = and_(SearchIndex.rtype == query.rtype, SearchIndex.param == c.param)
            if c.modifier == "missing":
                exists = select(SearchIndex.rid).where(base)
                stmt = stmt.where(ResourceVersion.rid.in_(exists) if c.values[0] == "false" else ResourceVersion.rid.not_in(exists))
                continue
            ors = []
            for v in c.values:
                if c.type == "token":
                    system, code = split_token(v)
                    conds = []
                    if code is not None:
                        conds.append(SearchIndex.value == code)
                    if system == "":
                        conds.append(SearchIndex.system.is_(None))
                    elif system is not None:
                        conds.append(SearchIndex.system == system)
                    ors.append(and_(*conds))
                elif c.type == "reference":
                    ors.append(SearchIndex.value == normalise_ref_value(v, param.target_type))
                elif c.type == "string":
                    if c.modifier == "exact":
                        ors.append(SearchIndex.value == v.lower())
                    elif c.modifier == "contains":
                        ors.append(SearchIndex.value.contains(v.lower(), autoescape=True))
                    else:
                        ors.append(SearchIndex.value.startswith(v.lower(), autoescape=True))
                elif c.type == "date":
                    ors.append(_date_cond(SearchIndex.value, v))
                else:
                    ors.append(SearchIndex.value == v)
            sub = select(SearchIndex.rid).where(base, or_(*ors))
            stmt = stmt.where(ResourceVersion.rid.not_in(sub) if c.modifier == "not" else ResourceVersion.rid.in_(sub))
        return stmt

    # -- maintenance ---------------------------------------------------------------------------
    def analyze(self) -> None:
        """Refresh PostgreSQL's planner statistics of the hub's tables (after a bulk load, as pg_restore
        advises: until autovacuum gets to a new table, the planner guesses and picks scans that grow with
        the table). SQLite needs none."""
        if self.is_postgres:
            with self.engine.connect() as conn:
                conn.execute(text("ANALYZE resource_version, search_index, delivery, subscriber_holding, hub_state"))
                conn.commit()

    def reindex(self, s: Session, rtype: str) -> int:
        n = 0
        for row in s.execute(select(ResourceVersion).where(ResourceVersion.rtype == rtype, ResourceVersion.current.is_(True), ResourceVersion.deleted.is_(False))).scalars():
            body = orjson.loads(row.content)
            s.execute(delete(SearchIndex).where(SearchIndex.rtype == rtype, SearchIndex.rid == row.rid))
            s.add_all([SearchIndex(rtype=rtype, rid=row.rid, param=p, system=sy, value=v) for p, sy, v in index_rows(body)])
            s.execute(update(ResourceVersion).where(ResourceVersion.seq == row.seq).values(patient_id=patient_of(body)))
            n += 1
        return n


def _parse_date(text: str) -> tuple[datetime, datetime]:
    """The [start, end) range a FHIR date/dateTime of any precision denotes (UTC)."""
    from datetime import timedelta

    t = text.replace("Z", "+00:00")
    try:
        if len(t) == 4:
            return datetime(int(t), 1, 1, tzinfo=UTC), datetime(int(t) + 1, 1, 1, tzinfo=UTC)
        if len(t) == 7:
            y, m = int(t[:4]), int(t[5:7])
            return datetime(y, m, 1, tzinfo=UTC), datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
        if len(t) == 10:
            start = datetime.fromisoformat(t).replace(tzinfo=UTC)
            return start, start + timedelta(days=1)
        dt = datetime.fromisoformat(t)
    except ValueError as exc:
        raise InvalidInput(f"invalid date {text!r}", [Issue("error", "invalid", f"invalid date {text!r}", ("_lastUpdated",))]) from exc
    dt = dt.astimezone(UTC) if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
    return dt, dt + timedelta(seconds=1)


def _date_cond(col, spec: str, as_datetime: bool = False):  # type: ignore[no-untyped-def]
    from hub.store._query import DATE_PREFIXES

    prefix = spec[:2] if spec[:2] in DATE_PREFIXES else "eq"
    body = spec[2:] if spec[:2] in DATE_PREFIXES else spec
    if not as_datetime:
        if prefix == "eq":
            return col.startswith(body)
        if prefix in ("gt", "sa"):
            return and_(col > body, ~col.startswith(body))
        if prefix == "ge":
            return col >= body
        if prefix in ("lt", "eb"):
            return col < body
        if prefix == "le":
            return or_(col < body, col.startswith(body))
        return ~col.startswith(body)
    start, end = _parse_date(body)
    if prefix == "eq":
        return and_(col >= start, col < end)
    if prefix in ("gt", "sa"):
        return col >= end
    if prefix == "ge":
        return col >= start
    if prefix in ("lt", "eb"):
        return col < start
    if prefix == "le":
        return col < end
    return or_(col < start, col >= end)
