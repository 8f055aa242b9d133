"""`Consent/$evaluate`: a dry run of the PDL consent filter for informaticians and support.

Input Parameters: `patient` (Reference), `careGiver`, `careUnit`, `practitioner` (HSA-ids as string or
Identifier), `purpose` (code), optional `recipient` (Reference to an Organization, e.g. a registry) and
`resource` (Reference). Output Parameters: one `result` per resource of the patient with `resource`,
`decision` (permit|deny), `rule`, `consent` (each deciding Consent), `emergency` and `masked`.
Rules: domain.md section 5. Nothing is audited: it is a question about the rules, not an access.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlmodel import Session

from hub.consent import Decision, Requester
from hub.enforcement import NON_CLINICAL_TYPES
from hub.fhir.errors import InvalidInput, Issue, NotFound
from hub.interactions._context import Caller, Result
from hub.store import ResourceVersion, Stored, normalise_reference
from hub.wiring import Hub

HSA_SYSTEM = "urn:oid:1.2.752.29.4.19"
_KNOWN = frozenset({"patient", "careGiver", "careUnit", "practitioner", "purpose", "recipient", "resource"})


def evaluate(hub: Hub, caller: Caller, parameters: dict[str, Any], now: datetime | None = None) -> Result:
    """Decide every resource of the patient (or the one named) for the described requester; no audit."""
    caller.require("Consent", "r")
    args = _arguments(parameters)
    patient_id = _reference_id(args, "patient", "Patient")
    now = now or datetime.now(UTC)
    with hub.store.transaction() as s:
        patient = hub.store.read_optional(s, "Patient", patient_id)
        if patient is None:
            raise NotFound(f"Patient/{patient_id} is not known")
        requester = _requester(hub, s, args)
        if "resource" in args:
            items = [_named_resource(hub, s, args, patient_id)]
        else:
            items = [patient, *_patient_resources(s, patient_id)]
        decided = hub.enforcer.decisions(s, items, requester, now)  # a dry run: nothing is audited
    results = [_result(d.stored, d.decision, d.decision is not None and d.decision.permit) for d in decided]
    return Result(200, {"resourceType": "Parameters", "parameter": results})


def _arguments(parameters: dict[str, Any]) -> dict[str, dict[str, Any]]:
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise InvalidInput("expected Parameters", [Issue("error", "invalid", "the body must be a Parameters resource", ("Parameters",))])
    args: dict[str, dict[str, Any]] = {}
    for i, p in enumerate(parameters.get("parameter") or []):
        name = p.get("name") if isinstance(p, dict) else None
        where = f"Parameters.parameter[{i}]"
        if name not in _KNOWN:
            raise InvalidInput("unknown parameter", [Issue("error", "not-supported", f"unknown parameter {name!r}", (where,))])
        if name in args:
            raise InvalidInput("repeated parameter", [Issue("error", "invalid", f"parameter {name!r} given more than once", (where,))])
        args[name] = p
    for required in ("patient", "purpose"):
        if required not in args:
            raise InvalidInput("missing parameter", [Issue("error", "required", f"parameter {required!r} is required", ("Parameters.parameter",))])
    return args


def _text(args: dict[str, dict[str, Any]], name: str) -> str | None:
    p = args.get(name)
    if p is None:
        return None
    for key in ("valueString", "valueCode", "valueId", "valueUri"):
        if isinstance(p.get(key), str) and p[key]:
            return str(p[key])
    ident = p.get("valueIdentifier")
    if isinstance(ident, dict) and isinstance(ident.get("value"), str) and ident["value"]:
        return str(ident["value"])
    coding = p.get("valueCoding")
    if isinstance(coding, dict) and isinstance(coding.get("code"), str) and coding["code"]:
        return str(coding["code"])
    raise InvalidInput("bad parameter value", [Issue("error", "value", f"parameter {name!r} has no usable value", (f"Parameters.parameter.where(name='{name}')",))])


def _reference_id(args: dict[str, dict[str, Any]], name: str, rtype: str) -> str:
    ref = _reference(args, name)
    if not ref.startswith(rtype + "/"):
        raise InvalidInput("bad reference", [Issue("error", "value", f"parameter {name!r} must reference a {rtype}", (f"Parameters.parameter.where(name='{name}')",))])
    return ref.split("/", 1)[1]


def _reference(args: dict[str, dict[str, Any]], name: str) -> str:
    p = args[name]
    raw = (p.get("valueReference") or {}).get("reference") if isinstance(p.get("valueReference"), dict) else None
    raw = raw or p.get("valueString")
    norm = normalise_reference(raw) if isinstance(raw, str) else None
    if not norm or "/" not in norm:
        raise InvalidInput("bad reference", [Issue("error", "value", f"parameter {name!r} needs a literal reference Type/id", (f"Parameters.parameter.where(name='{name}')",))])
    return norm


def _requester(hub: Hub, s: Session, args: dict[str, dict[str, Any]]) -> Requester:
    """The Requester as `Caller.requester` builds it from token claims, plus a recipient's identifiers."""
    care_unit, care_giver = _text(args, "careUnit"), _text(args, "careGiver")
    orgs: set[tuple[str, str]] = {(HSA_SYSTEM, care_unit)} if care_unit else set()
    if "recipient" in args:
        org_id = _reference_id(args, "recipient", "Organization")
        org = hub.store.read_optional(s, "Organization", org_id)
        if org is None:
            raise NotFound(f"Organization/{org_id} is not known")
        orgs |= {(i["system"], i["value"]) for i in org.resource.get("identifier") or [] if i.get("system") and i.get("value")}
    return Requester(
        care_giver=care_giver,
        care_unit=care_unit,
        practitioner=_text(args, "practitioner"),
        purpose=_text(args, "purpose") or "",
        organization=frozenset(orgs),
    )


def _named_resource(hub: Hub, s: Session, args: dict[str, dict[str, Any]], patient_id: str) -> Stored:
    rtype, rid = _reference(args, "resource").split("/", 1)
    st = hub.store.read_optional(s, rtype, rid)
    if st is None:
        raise NotFound(f"{rtype}/{rid} is not known")
    belongs = (rtype == "Patient" and rid == patient_id) or _patient_of_row(s, rtype, rid) == patient_id
    if not belongs or rtype in NON_CLINICAL_TYPES:
        raise InvalidInput("resource not of patient", [Issue("error", "value", f"{rtype}/{rid} is not patient data of Patient/{patient_id}", ("Parameters.parameter.where(name='resource')",))])
    return st


def _patient_of_row(s: Session, rtype: str, rid: str) -> str | None:
    row = s.execute(select(ResourceVersion.patient_id).where(
        ResourceVersion.rtype == rtype, ResourceVersion.rid == rid, ResourceVersion.current.is_(True))).first()
    return row[0] if row else None


def _patient_resources(s: Session, patient_id: str) -> list[Stored]:
    """Every current clinical resource that names the patient, in store order."""
    rows = s.execute(
        select(ResourceVersion).where(
            ResourceVersion.patient_id == patient_id,
            ResourceVersion.current.is_(True),
            ResourceVersion.deleted.is_(False),
            ResourceVersion.rtype.not_in(sorted(NON_CLINICAL_TYPES | {"Patient"})),
        ).order_by(ResourceVersion.seq)
    ).scalars()
    return [Stored(r.rtype, r.rid, r.vid, r.last_updated, r.deleted, orjson.loads(r.content)) for r in rows]


def _result(st: Stored, decision: Decision | None, released: bool) -> dict[str, Any]:
    decision = decision or Decision(False, "error")
    parts: list[dict[str, Any]] = [
        {"name": "resource", "valueReference": {"reference": st.ref}},
        {"name": "decision", "valueCode": "permit" if released and decision.permit else "deny"},
        {"name": "rule", "valueCode": decision.rule},
    ]
    parts += [{"name": "consent", "valueReference": {"reference": f"Consent/{cid}"}} for cid in decision.consent_ids]
    parts.append({"name": "emergency", "valueBoolean": bool(decision.emergency)})
    parts.append({"name": "masked", "valueBoolean": bool(decision.mask)})
    return {"name": "result", "part": parts}
