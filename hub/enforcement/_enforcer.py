"""Enforcer: decide + mask + audit for a set of stored resources and one requester."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

from hub.consent import Decision, PatientPolicy, Requester, compile_policy, decide, mask
from hub.store import AuditLink, Store, Stored, normalise_reference, parse_query, patient_of

# Types that carry no patient data of their own; every other type is decided per resource (fail closed).
NON_CLINICAL_TYPES = frozenset(
    {
        "Subscription", "Organization", "Practitioner", "PractitionerRole", "Location", "Endpoint",
        "CodeSystem", "ValueSet", "ConceptMap", "NamingSystem", "StructureDefinition",
        "CapabilityStatement", "OperationDefinition", "SearchParameter", "OperationOutcome", "Parameters",
        "Consent", "AuditEvent",
    }
)
_PROTECTED = {"sekretessmarkering", "skyddadFolkbokforing"}
_DIRECTIVES = "directives:"
_ALL_DIRECTIVES = "directives:*"  # Organizations/Practitioners (actors) changed
_POLICY_CACHE_SIZE = 20_000
MAX_DIRECTIVES = 1000


@dataclass(frozen=True)
class Released:
    """A resource as it may be shown to the requester (masked when needed), with the decision."""

    stored: Stored
    resource: dict[str, Any]
    decision: Decision | None


class Enforcer:
    """Decides what a requester may see; denied resources are simply dropped by the caller."""

    def __init__(self, store: Store, source: str = "knutpunkt") -> None:
        self.store = store
        self.source = source
        self._policies: dict[str, tuple[tuple[str | None, ...], Any]] = {}
        store.add_listener(self.on_change)  # the cache is only safe with the markers moving on every write

    # -- keeping compiled policies exact -------------------------------------------------------
    def on_change(self, s: Session, changes: list[tuple[Stored, Stored | None]]) -> None:
        """Store listener: every write that can change a decision moves a generation marker in the same
        transaction, so a cached compiled policy is used only while nothing it was built from changed."""
        keys: set[str] = set()
        for new, previous in changes:
            if new.rtype == "Consent":
                pids = {st.patient_id or patient_of(st.resource) for st in (new, previous) if st is not None} - {None}
                keys.update(_DIRECTIVES + p for p in pids if p)
                if not pids:  # a directive whose patient cannot be told: invalidate every policy
                    keys.add(_ALL_DIRECTIVES)
            elif new.rtype == "Patient":
                keys.add(_DIRECTIVES + new.rid)
            elif new.rtype in ("Organization", "Practitioner"):
                keys.add(_ALL_DIRECTIVES)
        self.store.touch(s, *keys)

    # -- policy loading ------------------------------------------------------------------------
    def generations_for(self, s: Session, patient_ids: list[str]) -> dict[str, tuple[str | None, ...]]:
        """The policy generation markers of many patients in one query (for a batch)."""
        keys = [_DIRECTIVES + p for p in patient_ids]
        values = self.store.generations(s, [*keys, _ALL_DIRECTIVES])
        return {p: (values[i], values[-1]) for i, p in enumerate(patient_ids)}

    def _policy(self, s: Session, patient_id: str | None, generation: tuple[str | None, ...] | None = None) -> Any:
        if patient_id is None:
            return compile_policy([], {}, patient_protected=False)
        if generation is None:
            generation = self.store.generations(s, [_DIRECTIVES + patient_id, _ALL_DIRECTIVES])
        cached = self._policies.get(patient_id)
        if cached is not None and cached[0] == generation:
            return cached[1]
        policy = self._load_policy(s, patient_id)
        if len(self._policies) >= _POLICY_CACHE_SIZE:
            self._policies.clear()
        self._policies[patient_id] = (generation, policy)
        return policy

    def _load_policy(self, s: Session, patient_id: str) -> Any:
        return self._load_policies(s, [patient_id])[patient_id]

    def _load_policies(self, s: Session, patient_ids: list[str]) -> dict[str, Any]:
        """Compile the policies of several patients from the store with one query per kind of input."""
        limit = (MAX_DIRECTIVES + 1) * len(patient_ids)
        refs = ",".join(f"Patient/{p}" for p in patient_ids)
        found = self.store.search(s, parse_query("Consent", [("patient", refs), ("_count", str(limit))], max_count=limit))
        by_patient: dict[str, list[dict[str, Any]]] = {p: [] for p in patient_ids}
        for st in found:
            pid = st.patient_id or patient_of(st.resource)
            if pid in by_patient:
                by_patient[pid].append(st.resource)
        actor_keys = sorted({
            (ref.partition("/")[0], ref.partition("/")[2])
            for consents in by_patient.values() for c in consents for ref in _references(c)
            if ref.startswith(("Organization/", "Practitioner/"))
        })
        actors = {f"{k[0]}/{k[1]}": st.resource for k, st in self.store.read_many(s, actor_keys).items()}
        patients = self.store.read_many(s, [("Patient", p) for p in patient_ids])
        out: dict[str, Any] = {}
        for pid, consents in by_patient.items():
            if len(consents) > MAX_DIRECTIVES:  # more directives than the hub reads: never decide on a partial set
                out[pid] = PatientPolicy(readable=False, problem=f"more than {MAX_DIRECTIVES} directives", protected=True)
                continue
            orgs = {ref: actors[ref] for c in consents for ref in _references(c) if ref in actors}
            patient = patients.get(("Patient", pid))
            out[pid] = compile_policy(consents, orgs, patient_protected=patient is not None and _is_protected(patient.resource))
        return out

    def prime(self, s: Session, generations: dict[str, tuple[str | None, ...]]) -> None:
        """Load in bulk the policies whose cached copy is missing or older than `generations`."""
        stale = [p for p, g in generations.items() if (self._policies.get(p) or ((), None))[0] != g]
        if not stale:
            return
        if len(self._policies) + len(stale) >= _POLICY_CACHE_SIZE:
            self._policies.clear()
        for pid, policy in self._load_policies(s, stale).items():
            self._policies[pid] = (generations[pid], policy)

    def _patient_id(self, s: Session, st: Stored) -> str | None:
        """The patient a clinical resource is about: its patient search parameter, else the one Patient it
        references, else (Provenance) the patient of its targets. Ambiguous or unknown → _UNKNOWN."""
        from hub.store import patient_of

        pid = st.patient_id or patient_of(st.resource)
        if pid:
            return pid
        refs = _patient_refs(st.resource)
        if len(refs) == 1:
            return refs.pop()
        if refs:
            return _UNKNOWN
        targets: set[str] = set()
        for ref in _references(st.resource.get("target", [])):
            rtype, _, rid = ref.partition("/")
            target = self.store.read_optional(s, rtype, rid)
            if target is not None:
                tp = patient_of(target.resource)
                if tp:
                    targets.add(tp)
        return targets.pop() if len(targets) == 1 else _UNKNOWN

    # -- deciding ------------------------------------------------------------------------------
    def decisions(
        self,
        s: Session,
        items: Iterable[Stored],
        requester: Requester,
        now: datetime | None = None,
        *,
        policies: dict[str | None, Any] | None = None,
        generations: dict[str, tuple[str | None, ...]] | None = None,
    ) -> list[Decided]:
        """Decide every item without auditing (a dry run, or the first half of `filter`). Non-clinical
        types get no decision; patient data whose patient cannot be told apart is denied (fail closed)."""
        now = now or datetime.now(UTC)
        policies = {} if policies is None else policies  # compiled per patient, shared within one transaction
        out: list[Decided] = []
        for st in items:
            if st.rtype in NON_CLINICAL_TYPES:
                out.append(Decided(st, None, None))
                continue
            pid: str | None = None
            try:
                pid = st.rid if st.rtype == "Patient" else self._patient_id(s, st)
                if pid == _UNKNOWN:  # patient data whose patient cannot be determined: never released
                    out.append(Decided(st, None, _NO_PATIENT))
                    continue
                if pid not in policies:
                    policies[pid] = self._policy(s, pid, (generations or {}).get(pid or ""))
                decision = decide(policies[pid], st.resource, requester, now)
            except Exception:  # fail closed: anything unexpected denies
                decision = _ERROR
            out.append(Decided(st, pid, decision))
        return out

    def filter(
        self,
        s: Session,
        items: Iterable[Stored],
        requester: Requester,
        *,
        action: str = "R",
        audit: bool = True,
        now: datetime | None = None,
    ) -> list[Released]:
        """Released resources among `items`, in order; every decision is audited in `s` (one batch)."""
        now = now or datetime.now(UTC)
        decided = self.decisions(s, items, requester, now)
        if audit:
            self.audit_decided(s, decided, requester, action, now)
        return [r for r in map(release, decided) if r is not None]

    def audit_decided(self, s: Session, decided: list[Decided], requester: Requester, action: str, now: datetime) -> None:
        """Audit the decisions `decisions()` made (non-clinical items carry none and are skipped)."""
        self.audit_many(s, [(d.decision, d.patient_id, d.stored.ref) for d in decided if d.decision is not None], requester, action, now)

    def decide_one(self, s: Session, st: Stored, requester: Requester, *, action: str, now: datetime | None = None) -> Released | None:
        released = self.filter(s, [st], requester, action=action, now=now)
        return released[0] if released else None

    # -- audit ---------------------------------------------------------------------------------
    def audit(self, s: Session, decision: Decision, requester: Requester, patient_id: str | None, entity_ref: str | None, action: str, now: datetime) -> None:
        """Audit one decision (see `audit_many`)."""
        self.audit_many(s, [(decision, patient_id, entity_ref)], requester, action, now)

    def audit_many(self, s: Session, decided: list[tuple[Decision, str | None, str | None]], requester: Requester, action: str, now: datetime) -> None:
        """Audit decisions in one batch: one AuditEvent per patient and identical decision (outcome, rule,
        deciding Consents, emergency) of this request, naming every resource it covered as an entity (as
        IHE BALP does for a query). Every decision is recorded; a 100-resource search is a few events."""
        if not decided:
            return
        from hub.audit import GENESIS_HASH, build_audit_event, chain_hash

        groups: dict[tuple[Any, ...], list[str | None]] = {}
        for decision, patient_id, entity_ref in decided:
            groups.setdefault((decision, patient_id), []).append(entity_ref)
        events = []
        for (decision, patient_id), refs in groups.items():
            event = build_audit_event(
                decision=decision,
                requester=requester,
                patient_ref=f"Patient/{patient_id}" if patient_id else "",
                entity_ref=refs[0],
                action=action,
                source=self.source,
                now=now,
            )
            entities = [e for e in event.get("entity", []) if (e.get("what") or {}).get("reference")]
            template = next((e for e in entities if e["what"]["reference"] == refs[0]), None)
            if template is not None:
                at = entities.index(template) + 1
                extra = [{**template, "what": {"reference": r}} for r in dict.fromkeys(refs[1:]) if r and r != refs[0]]
                entities[at:at] = extra
            event["entity"] = entities
            event["id"] = str(uuid.uuid4())
            events.append(event)
        stored = self.store.insert_many_new(s, events)
        if self.store.is_postgres:  # serialise chain appends across processes
            s.execute(text("SELECT pg_advisory_xact_lock(7710001)"))
        chain = AuditLink.__table__  # type: ignore[attr-defined]
        prev = s.execute(select(chain.c.hash).order_by(chain.c.seq.desc()).limit(1)).scalar() or GENESIS_HASH
        links = []
        for st in stored:
            h = chain_hash(prev, st.resource)
            links.append({"event_id": st.rid, "prev_hash": prev, "hash": h})
            prev = h
        self.store.insert_rows(s, chain, links)  # COPY on PostgreSQL: the chain lock is held for less time


class DecisionBatch:
    """Decisions made inside one transaction (a batch of deliveries) with one policy per patient, audited
    together by `flush()` before the transaction commits. Same `decide_one` signature as `Enforcer`."""

    def __init__(self, enforcer: Enforcer, s: Session) -> None:
        self.enforcer = enforcer
        self.session = s
        self.now = datetime.now(UTC)  # one decision time for the batch: one audit append per requester
        self.policies: dict[str | None, Any] = {}
        self.generations: dict[str, tuple[str | None, ...]] = {}
        self.pending: dict[tuple[Requester, str], list[tuple[Decision, str | None, str | None]]] = {}

    def prime(self, patient_ids: list[str]) -> None:
        """Fetch the batch's generation markers in one query and load stale policies in bulk."""
        generations = self.enforcer.generations_for(self.session, sorted(set(patient_ids)))
        self.generations.update(generations)
        self.enforcer.prime(self.session, generations)

    def decide_one(self, s: Session, st: Stored, requester: Requester, *, action: str, now: datetime | None = None) -> Released | None:
        d = self.enforcer.decisions(s, [st], requester, self.now, policies=self.policies, generations=self.generations)[0]
        if d.decision is not None:
            self.pending.setdefault((requester, action), []).append((d.decision, d.patient_id, d.stored.ref))
        return release(d)

    def flush(self) -> None:
        for (requester, action), decided in self.pending.items():
            self.enforcer.audit_many(self.session, decided, requester, action, self.now)
        self.pending.clear()


@dataclass(frozen=True)
class Decided:
    """One item's decision: None for non-clinical types (not decided)."""

    stored: Stored
    patient_id: str | None
    decision: Decision | None


def release(d: Decided) -> Released | None:
    """The resource as it may be shown (masked when the decision says so), or None when withheld."""
    if d.decision is None:
        return Released(d.stored, d.stored.resource, None)
    if d.decision.permit:
        return Released(d.stored, mask(d.stored.resource) if d.decision.mask else d.stored.resource, d.decision)
    return None


_NO_PATIENT = Decision(permit=False, rule="no-patient", consent_ids=(), emergency=False, mask=False)
_ERROR = Decision(permit=False, rule="error", consent_ids=(), emergency=False, mask=False)


def _references(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                norm = normalise_reference(v)
                if norm:
                    yield norm
            else:
                yield from _references(v)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


_UNKNOWN = "\x00unknown"


def _patient_refs(node: Any) -> set[str]:
    return {r.split("/", 1)[1] for r in _references(node) if r.startswith("Patient/")}


def _is_protected(patient: dict[str, Any]) -> bool:
    return any(isinstance(c, dict) and c.get("code") in _PROTECTED for c in (patient.get("meta") or {}).get("security", []) or [])
