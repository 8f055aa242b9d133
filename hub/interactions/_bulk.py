"""Many transaction Bundles committed together (bulk ingest), with the outcome of processing them one by
one in order (http://hl7.org/fhir/R4/http.html#transaction): each Bundle is all-or-nothing on its own, a
Bundle that fails its checks is rejected alone, and the accepted ones are written in one database
transaction with a fixed number of statements per chunk instead of a dozen round trips per Bundle.

The bulk path takes Bundles of creates (optionally conditional on one `identifier=system|value`, as ingest
links a Patient) and updates by id. Any other Bundle, or one that would make the result depend on the
order inside a chunk, is processed alone in its place in the order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from hub.fhir.errors import FhirError, Forbidden, InvalidInput, Issue, PreconditionFailed
from hub.interactions import _crud
from hub.interactions._context import Caller, Result
from hub.interactions._transaction import _bad, _rewrite, _transaction, in_entry
from hub.interactions._writes import check_id, check_resource
from hub.store import Stored, extract, fhir_instant, search_params
from hub.wiring import Hub

Outcome = Result | FhirError
Condition = tuple[str, str, str]  # (rtype, identifier system, identifier value)


@dataclass
class Entry:
    i: int
    method: str  # POST | PUT
    rtype: str
    rid: str  # PUT: the given id; POST: the id it gets when it is created
    condition: Condition | None
    resource: dict[str, Any]  # references rewritten as if every entry is created, id set
    problem: FhirError | None  # why the entry fails its checks (it counts only if the entry is written)


@dataclass
class Prepared:
    """A transaction Bundle checked and rewritten ahead of the database (in any process): what remains is
    to look up its conditions, swap links to existing resources into its references, and write it."""

    entries: list[Entry]
    conditional_types: frozenset[str]
    plain_types: frozenset[str]  # types written without a condition (they could change a condition's matches)


@dataclass
class _Doc:
    index: int  # position in the caller's list
    prepared: Prepared


@dataclass
class _Planned:
    doc: _Doc
    writes: list[tuple[Entry, dict[str, Any]]] = field(default_factory=list)  # entry, resource to store
    linked: dict[int, tuple[str, str]] = field(default_factory=dict)  # entry index → the match it links to
    stored: list[tuple[bool, Stored]] = field(default_factory=list)  # per write: (created, new version)


def process_transactions(hub: Hub, caller: Caller, items: list[dict[str, Any] | Prepared], base: str = "") -> list[Outcome]:
    """Process transaction Bundles (or Bundles `prepare_transaction` already took) in order; one Result
    (transaction-response) or FhirError per item."""
    out: list[Outcome | None] = [None] * len(items)
    batch: list[_Doc] = []
    cond: set[str] = set()  # types the batch links to by condition
    plain: set[str] = set()  # types the batch writes without one
    for index, item in enumerate(items):
        prepared = item if isinstance(item, Prepared) else prepare_transaction(item, caller, validate=hub.settings.validate_on_write)
        if prepared is not None and (prepared.conditional_types & plain or prepared.plain_types & cond):
            _commit(hub, caller, batch, base, out)  # a write could change what a condition matches
            batch, cond, plain = [], set(), set()
        if prepared is not None:
            batch.append(_Doc(index, prepared))
            cond |= prepared.conditional_types
            plain |= prepared.plain_types
            continue
        _commit(hub, caller, batch, base, out)  # what came before is written first
        batch, cond, plain = [], set(), set()
        try:
            if not _is_transaction(item):
                raise InvalidInput("expected a transaction Bundle", [Issue("error", "invalid", "Bundle.type must be transaction", ("Bundle.type",))])
            out[index] = _transaction(hub, caller, item.get("entry") or [], base)  # type: ignore[union-attr]
        except FhirError as exc:
            out[index] = exc
    _commit(hub, caller, batch, base, out)
    return [o for o in out if o is not None]


def _is_transaction(bundle: Any) -> bool:
    return isinstance(bundle, dict) and bundle.get("resourceType") == "Bundle" and bundle.get("type") == "transaction"


def _allowed(caller: Caller, rtype: str, action: str) -> bool:
    try:
        caller.require(rtype, action)
    except Forbidden:
        return False
    return True


def prepare_transaction(bundle: Any, caller: Caller, *, validate: bool) -> Prepared | None:
    """Check and rewrite a transaction Bundle without the database, when the bulk path can take it exactly;
    None sends it down the single path (which reports every shape, scope and id error in the usual way).

    Every entry gets the id it has when it is created; a conditional entry that later links to an existing
    resource has its provisional reference swapped for the match's, which changes an id in a reference and
    nothing a profile checks, so validating here gives the single path's result."""
    if not _is_transaction(bundle):
        return None
    shapes: list[tuple[int, str, str, str, Condition | None, dict[str, Any], str | None]] = []
    for i, entry in enumerate(bundle.get("entry") or []):
        req = entry.get("request") if isinstance(entry, dict) else None
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(req, dict) or not isinstance(res, dict) or req.get("ifMatch") or not isinstance(req.get("url"), str):
            return None
        rtype, _, rest = req["url"].lstrip("/").partition("/")
        if "?" in req["url"] or res.get("resourceType") != rtype:
            return None
        condition = None
        if req.get("method") == "POST" and not rest:
            if not _allowed(caller, rtype, "c"):
                return None
            if req.get("ifNoneExist"):
                condition = _identifier_condition(rtype, req["ifNoneExist"], res)
                if condition is None:
                    return None
            rid = str(uuid.uuid4())
        elif req.get("method") == "PUT" and rest and "/" not in rest and res.get("id") in (None, rest):
            if not _allowed(caller, rtype, "u"):
                return None
            try:
                check_id(rest)
            except FhirError:
                return None
            rid = rest
        else:
            return None
        shapes.append((i, req["method"], rtype, rid, condition, res, entry.get("fullUrl")))
    conditional = frozenset(s[2] for s in shapes if s[4])
    plain = frozenset(s[2] for s in shapes if not s[4])
    if conditional & plain:
        return None
    mapping = {url: f"{rtype}/{rid}" for _, _, rtype, rid, _, _, url in shapes if url}
    entries: list[Entry] = []
    for i, method, rtype, rid, condition, res, _ in shapes:
        unresolved: list[str] = []
        rewritten = _rewrite(res, mapping, unresolved)  # builds new containers: the input stays as it was
        problem: FhirError | None = None
        if unresolved:
            problem = _bad(i, f"unresolved reference(s) {sorted(set(unresolved))}", "resource")
        else:
            rewritten["id"] = rid
            try:
                check_resource(rewritten, rtype, validate=validate)
            except FhirError as exc:
                problem = in_entry(exc, i)
        entries.append(Entry(i, method, rtype, rid, condition, rewritten, problem))
    return Prepared(entries, conditional, plain)


def _identifier_condition(rtype: str, query: str, resource: dict[str, Any]) -> Condition | None:
    """`identifier=system|value` that the resource itself carries (so a created one matches it later)."""
    pairs = parse_qsl(query.split("?", 1)[-1], keep_blank_values=True)
    param = search_params().get(rtype, {}).get("identifier")
    if len(pairs) != 1 or pairs[0][0] != "identifier" or param is None or param.type != "token":
        return None
    system, sep, value = pairs[0][1].partition("|")
    if not sep or not system or not value or (system, value) not in extract(param, resource):
        return None
    return (rtype, system, value)


def _commit(hub: Hub, caller: Caller, batch: list[_Doc], base: str, out: list[Outcome | None]) -> None:
    """Write a batch in one database transaction; if the database refuses it (a concurrent writer won a
    race), every Bundle of it is tried again alone, so one conflict cannot reject the others."""
    if not batch:
        return
    try:
        with hub.store.transaction() as s:
            results, written = _write(hub, s, caller, batch, base)
    except (FhirError, DBAPIError) as exc:
        if len(batch) > 1:
            for doc in batch:
                _commit(hub, caller, [doc], base, out)
            return
        if not isinstance(exc, FhirError):
            raise
        out[batch[0].index] = exc
        return
    _crud.after_writes(hub, written)
    for index, outcome in results.items():
        out[index] = outcome


def _write(hub: Hub, s: Session, caller: Caller, batch: list[_Doc], base: str) -> tuple[dict[int, Outcome], list[Stored]]:
    store = hub.store
    conditions = sorted({e.condition for d in batch for e in d.prepared.entries if e.condition})
    store.lock_keys(s, [_crud.condition_key(c[0], [("identifier", f"{c[1]}|{c[2]}")]) for c in conditions])
    found: dict[Condition, set[str]] = {c: set() for c in conditions}
    for rtype in sorted({c[0] for c in conditions}):
        matched = store.token_matches(s, rtype, "identifier", [(c[1], c[2]) for c in conditions if c[0] == rtype])
        for (system, value), rids in matched.items():
            found[(rtype, system, value)].update(rids)

    results: dict[int, Outcome] = {}
    plans: list[_Planned] = []
    chunk: list[_Planned] = []
    chunk_keys: set[tuple[str, str]] = set()

    def flush() -> None:
        current = store.current_rows(s, [(e.rtype, e.rid) for p in chunk for e, _ in p.writes])
        items = [(res, current.get((e.rtype, e.rid))) for p in chunk for e, res in p.writes]
        stored = iter(store.write_many(s, items))
        for p in chunk:
            p.stored = [(current.get((e.rtype, e.rid)) is None or current[(e.rtype, e.rid)].deleted, next(stored)) for e, _ in p.writes]
        chunk.clear()
        chunk_keys.clear()

    for doc in batch:
        planned = _Planned(doc)
        try:
            _plan(planned, found)
        except FhirError as exc:
            results[doc.index] = exc
            continue
        keys = {(e.rtype, e.rid) for e, _ in planned.writes}
        if keys & chunk_keys:  # the same resource twice: the earlier version is written first
            flush()
        chunk.append(planned)
        chunk_keys.update(keys)
        plans.append(planned)
        for e, res in planned.writes:  # a later Bundle's condition finds what this one creates
            if e.condition:
                for system, value in extract(search_params()[e.rtype]["identifier"], res):
                    found.setdefault((e.rtype, system or "", value), set()).add(e.rid)
    if chunk:
        flush()

    # a match that already existed is shown only if the caller may see it (as the single path does)
    new_versions = {(st.rtype, st.rid): st for p in plans for _, st in p.stored}
    linked = sorted({key for p in plans for key in p.linked.values()})
    known = {**store.read_many(s, [k for k in linked if k not in new_versions]), **{k: new_versions[k] for k in linked if k in new_versions}}
    visible = {(r.stored.rtype, r.stored.rid) for r in hub.enforcer.filter(s, [known[k] for k in linked if k in known], caller.requester)}
    for p in plans:
        made = {e.i: st for (e, _), st in zip(p.writes, p.stored, strict=True)}
        entries: list[dict[str, Any]] = []
        for e in p.doc.prepared.entries:
            if e.i in p.linked:
                key = p.linked[e.i]
                if key in visible:
                    st = known[key]
                    entries.append({"fullUrl": f"{base}/{st.rtype}/{st.rid}",
                                    "response": {"status": "200", "location": f"{st.rtype}/{st.rid}/_history/{st.vid}", "etag": st.etag}})
                else:  # withheld: linked to, but nothing about it is shown
                    entries.append({"response": {"status": "200", "outcome": _crud._exists_outcome()}})
                continue
            new, st = made[e.i]
            entries.append({"fullUrl": f"{base}/{st.rtype}/{st.rid}",
                            "response": {"status": "201" if new else "200", "location": f"{st.rtype}/{st.rid}/_history/{st.vid}",
                                         "etag": st.etag, "lastModified": fhir_instant(st.last_updated)}})
        results[p.doc.index] = Result(200, {"resourceType": "Bundle", "type": "transaction-response", "entry": entries})
    return results, [st for p in plans for _, st in p.stored]


def _plan(planned: _Planned, found: dict[Condition, set[str]]) -> None:
    """Link conditional entries to their matches (or create them), then the first problem of an entry
    that is written rejects the Bundle, as in the single path."""
    links: dict[str, str] = {}  # provisional reference → the existing match's
    entries = planned.doc.prepared.entries
    for e in entries:
        if e.condition:
            matches = found.get(e.condition, set())
            if len(matches) > 1:
                raise PreconditionFailed(f"entry {e.i}: ifNoneExist matched {len(matches)} resources")
            if matches:
                existing = next(iter(matches))
                planned.linked[e.i] = (e.rtype, existing)
                links[f"{e.rtype}/{e.rid}"] = f"{e.rtype}/{existing}"
    for e in entries:
        if e.i in planned.linked:
            continue
        if e.problem is not None:
            raise e.problem
        planned.writes.append((e, _rewrite(e.resource, links, []) if links else e.resource))
