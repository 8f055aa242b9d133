"""Compiling a patient's PDL directives (Consent resources, domain.md section 5) into look-up tables.

Only `status = active` Consents count. Any active Consent the engine does not fully understand (unknown
category, element or modifier, missing or unresolvable actor, malformed period) makes the policy
unreadable, and an unreadable policy denies everything (rule 1, fail closed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from hub.consent._actors import Actor, Unreadable, read_actor
from hub.consent._codes import (
    ACT_REASON_SYSTEM,
    BLOCK_TYPE_URL,
    CONSENT_SCOPE_SYSTEM,
    CONSENT_STATUSES,
    DIRECTIVE_SYSTEM,
    HQUALIMP,
    INFORMATION_TYPE_SYSTEM,
)
from hub.consent._model import Block, Grant, OptOut, PatientPolicy
from hub.consent._time import NEG_INF, POS_INF, period

_CONSENT_KEYS = frozenset(
    {"resourceType", "id", "meta", "text", "language", "implicitRules", "contained", "extension",
     "identifier", "status", "scope", "category", "patient", "dateTime", "performer", "organization",
     "sourceAttachment", "sourceReference", "policy", "policyRule", "verification", "provision"}
)
_BLOCK_KEYS = frozenset({"id", "type", "actor", "dataPeriod", "period", "provision", "extension"})
_EXCLUSION_KEYS = frozenset({"id", "type", "code"})
_REVOKE_KEYS = frozenset({"id", "type", "actor", "period"})
_CONSENT_PROVISION_KEYS = frozenset({"id", "type", "actor", "period"})
_OPT_OUT_KEYS = frozenset({"id", "type", "actor", "purpose", "period"})


def compile_policy(
    consents: Iterable[dict[str, Any]],
    organizations: Mapping[str, dict[str, Any]] | None = None,
    patient_protected: bool = False,
) -> PatientPolicy:
    """Compile one patient's Consents; `organizations` maps literal references ("Organization/x") to the
    Organization (or Practitioner) resources actors point at. Never raises: problems → unreadable policy."""
    try:
        return _compile(list(consents), organizations or {}, patient_protected)
    except Unreadable as exc:
        return PatientPolicy(readable=False, problem=str(exc), protected=patient_protected)
    except Exception as exc:  # noqa: BLE001 - fail closed on anything unexpected
        return PatientPolicy(readable=False, problem=f"error: {exc!r}", protected=patient_protected)


def _compile(consents: list[Any], resources: Mapping[str, dict[str, Any]], protected: bool) -> PatientPolicy:
    inner: dict[str, list[Block]] = defaultdict(list)
    outer: dict[str, list[Block]] = defaultdict(list)
    grants: dict[str, list[Grant]] = defaultdict(list)
    opt_outs: list[OptOut] = []
    patients: set[object] = set()
    ids: set[str] = set()
    for consent in consents:
        if not isinstance(consent, dict) or consent.get("resourceType") != "Consent":
            raise Unreadable("not a Consent resource")
        status = consent.get("status")
        if status not in CONSENT_STATUSES:
            raise Unreadable(f"unknown Consent.status {status!r}")
        if status != "active":
            continue
        cid = consent.get("id")
        if not isinstance(cid, str) or not cid:
            raise Unreadable("active Consent without id")
        _check_envelope(consent, cid)
        patients.add(_patient_key(consent, cid))
        ids.add(cid)
        kind = _directive_kind(consent, cid)
        prov = consent.get("provision")
        if not isinstance(prov, dict):
            raise Unreadable(f"Consent/{cid}: no provision")
        if kind == "block":
            for block in _block(consent, prov, cid, resources):
                (inner if block.inner else outer)[block.target].append(block)
        elif kind == "consent":
            grant = _consent(consent, prov, cid, resources)
            for unit in grant.units:
                grants[unit].append(grant)
        else:
            opt_outs.append(_opt_out(consent, prov, cid, resources))
    if len(patients) > 1:
        raise Unreadable("directives name more than one patient")

    def freeze(table: dict[str, list[Any]]) -> Mapping[str, tuple[Any, ...]]:
        return MappingProxyType({k: tuple(sorted(v, key=_order)) for k, v in table.items()})

    return PatientPolicy(
        readable=True,
        protected=protected,
        inner_blocks=freeze(inner),
        outer_blocks=freeze(outer),
        consents=freeze(grants),
        opt_outs=tuple(sorted(opt_outs, key=_order)),
        consent_ids=tuple(sorted(ids)),
    )


def _order(item: Block | Grant | OptOut) -> tuple[str, str]:
    return item.consent_id, repr(item)


def _check_envelope(consent: dict[str, Any], cid: str) -> None:
    unknown = set(consent) - _CONSENT_KEYS
    if unknown:
        raise Unreadable(f"Consent/{cid}: elements not understood: {sorted(unknown)}")
    scopes = (consent.get("scope") or {}).get("coding") or ()
    if not any(c.get("system") == CONSENT_SCOPE_SYSTEM and c.get("code") == "patient-privacy" for c in scopes):
        raise Unreadable(f"Consent/{cid}: scope is not patient-privacy")


def _patient_key(consent: dict[str, Any], cid: str) -> object:
    patient = consent.get("patient")
    if not isinstance(patient, dict):
        raise Unreadable(f"Consent/{cid}: no patient")
    if isinstance(patient.get("reference"), str):
        return patient["reference"]
    ident = patient.get("identifier")
    if isinstance(ident, dict) and ident.get("system") and ident.get("value"):
        return (ident["system"], ident["value"])
    raise Unreadable(f"Consent/{cid}: patient reference not understood")


def _directive_kind(consent: dict[str, Any], cid: str) -> str:
    codes = [
        c.get("code")
        for cc in consent.get("category") or ()
        for c in (cc.get("coding") or ())
        if c.get("system") == DIRECTIVE_SYSTEM
    ]
    if len(codes) != 1 or codes[0] not in ("block", "consent", "registry-opt-out"):
        raise Unreadable(f"Consent/{cid}: needs exactly one known pdl-directive category, got {codes}")
    return str(codes[0])


def _keys(prov: dict[str, Any], allowed: frozenset[str], cid: str, what: str) -> None:
    unknown = set(prov) - allowed
    if unknown:
        raise Unreadable(f"Consent/{cid}: {what} elements not understood: {sorted(unknown)}")


def _type(prov: dict[str, Any], expected: str, cid: str) -> None:
    if prov.get("type") != expected:
        raise Unreadable(f"Consent/{cid}: provision.type must be {expected}")


def _validity(prov: dict[str, Any], key: str = "period") -> tuple[float, float]:
    if key not in prov:
        return NEG_INF, POS_INF
    try:
        return period(prov[key])
    except ValueError as exc:
        raise Unreadable(f"provision.{key}: {exc}") from None


def _actors(consent: dict[str, Any], prov: dict[str, Any], role: str, resources: Mapping[str, dict[str, Any]]) -> list[Actor]:
    actors = [read_actor(a, consent, resources) for a in prov.get("actor") or ()]
    if any(a.role != role for a in actors):
        raise Unreadable(f"provision actor role must be {role}")
    return actors


def _block_type(consent: dict[str, Any], prov: dict[str, Any], cid: str) -> bool:
    values = [
        e.get("valueCode")
        for holder in (consent, prov)
        for e in holder.get("extension") or ()
        if e.get("url") == BLOCK_TYPE_URL
    ]
    if len(values) != 1 or values[0] not in ("inner", "outer"):
        raise Unreadable(f"Consent/{cid}: block needs one pdl-block-type inner|outer")
    if any(e.get("url") != BLOCK_TYPE_URL for e in prov.get("extension") or ()):
        raise Unreadable(f"Consent/{cid}: provision extension not understood")
    return bool(values[0] == "inner")


def _block(consent: dict[str, Any], prov: dict[str, Any], cid: str, resources: Mapping[str, dict[str, Any]]) -> list[Block]:
    """`block` (spärr): deny for information from the CST organisations, with exclusions and revokes."""
    _keys(prov, _BLOCK_KEYS, cid, "block provision")
    _type(prov, "deny", cid)
    inner = _block_type(consent, prov, cid)
    actors = _actors(consent, prov, "CST", resources)
    targets = sorted({h for a in actors if a.kind in ("", "Organization") for h in a.hsa_ids})
    if not actors or any(a.kind == "Practitioner" or not a.hsa_ids for a in actors):
        raise Unreadable(f"Consent/{cid}: block needs CST Organization actors with HSA-ids")
    data_period = _validity(prov, "dataPeriod") if "dataPeriod" in prov else None
    lo, hi = _validity(prov)
    excluded: set[str] = set()
    revokes: list[Grant] = []
    for sub in prov.get("provision") or ():
        if not isinstance(sub, dict):
            raise Unreadable(f"Consent/{cid}: nested provision is not an object")
        _type(sub, "permit", cid)
        if "code" in sub and "actor" not in sub:
            _keys(sub, _EXCLUSION_KEYS, cid, "exclusion provision")
            excluded |= _information_types(sub["code"], cid)
        elif "actor" in sub and "code" not in sub:
            _keys(sub, _REVOKE_KEYS, cid, "revoke provision")
            if "period" not in sub:
                raise Unreadable(f"Consent/{cid}: temporary revoke without period")
            revokes.append(_grant(consent, sub, cid, resources, need_unit=False))
        else:
            raise Unreadable(f"Consent/{cid}: nested provision must have code or actor")
    revokes.sort(key=_order)
    return [
        Block(cid, inner, target, data_period, frozenset(excluded), tuple(revokes), lo, hi) for target in targets
    ]


def _information_types(codes: object, cid: str) -> set[str]:
    out: set[str] = set()
    for cc in codes if isinstance(codes, list) else ():
        for c in cc.get("coding") or ():
            if c.get("system") != INFORMATION_TYPE_SYSTEM or not isinstance(c.get("code"), str):
                raise Unreadable(f"Consent/{cid}: excluded code not from pdl-information-type")
            out.add(c["code"])
    if not out:
        raise Unreadable(f"Consent/{cid}: exclusion without information type")
    return out


def _grant(
    consent: dict[str, Any], prov: dict[str, Any], cid: str, resources: Mapping[str, dict[str, Any]], need_unit: bool
) -> Grant:
    actors = _actors(consent, prov, "IRCP", resources)
    units: set[str] = set()
    practitioners: set[str] = set()
    for actor in actors:
        if actor.kind == "Organization" and actor.hsa_ids:
            units |= actor.hsa_ids
        elif actor.kind == "Practitioner":
            practitioners |= actor.values
        else:
            raise Unreadable(f"Consent/{cid}: IRCP actor must be a typed Organization (HSA-id) or Practitioner")
    if (need_unit and not units) or not (units or practitioners):
        raise Unreadable(f"Consent/{cid}: permit without care unit actor")
    lo, hi = _validity(prov)
    return Grant(cid, frozenset(units), frozenset(practitioners), lo, hi)


def _consent(consent: dict[str, Any], prov: dict[str, Any], cid: str, resources: Mapping[str, dict[str, Any]]) -> Grant:
    """`consent` (samtycke): permit for the IRCP care unit (and practitioner) during provision.period."""
    _keys(prov, _CONSENT_PROVISION_KEYS, cid, "consent provision")
    _type(prov, "permit", cid)
    return _grant(consent, prov, cid, resources, need_unit=True)


def _opt_out(consent: dict[str, Any], prov: dict[str, Any], cid: str, resources: Mapping[str, dict[str, Any]]) -> OptOut:
    """`registry-opt-out` (PDL 7 kap.): deny HQUALIMP for the IRCP registry, or for all without actor."""
    _keys(prov, _OPT_OUT_KEYS, cid, "registry-opt-out provision")
    _type(prov, "deny", cid)
    purposes = {(c.get("system"), c.get("code")) for c in prov.get("purpose") or ()}
    if purposes != {(ACT_REASON_SYSTEM, HQUALIMP)}:
        raise Unreadable(f"Consent/{cid}: registry-opt-out purpose must be HQUALIMP")
    actors = _actors(consent, prov, "IRCP", resources)
    if any(a.kind == "Practitioner" for a in actors):
        raise Unreadable(f"Consent/{cid}: registry-opt-out actor must be an Organization")
    orgs = frozenset(i for a in actors for i in a.identifiers)
    lo, hi = _validity(prov)
    return OptOut(cid, orgs, lo, hi)
