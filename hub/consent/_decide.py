"""The PDL decision for one resource and one requester (domain.md section 5, rules 1-7, deny-overrides).

Patientdatalagen (SFS 2008:355) ch. 4 (inner blocks), ch. 6 (sammanhållen journalföring: outer blocks,
consent, emergency access) and ch. 7 (quality registries). Any exception while deciding denies (`error`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from hub.consent._codes import ETREAT, HQUALIMP, HSA_SYSTEM, PURPOSES, Rule
from hub.consent._model import Block, Decision, PatientPolicy, Requester
from hub.consent._source import clinical_times, information_source, labels
from hub.consent._time import timestamp

_ERROR = Decision(False, Rule.ERROR)
_UNREADABLE = Decision(False, Rule.UNREADABLE)
_UNSUPPORTED = Decision(False, Rule.UNSUPPORTED_PURPOSE)
_UNKNOWN = Decision(False, Rule.UNKNOWN_REQUESTER)
_NO_SOURCE = Decision(False, Rule.NO_INFORMATION_SOURCE)
_CONFIDENTIAL = Decision(False, Rule.CONFIDENTIAL)
_NO_CONSENT = Decision(False, Rule.NO_CONSENT)
_SAME_UNIT = Decision(True, Rule.SAME_UNIT)
_SAME_UNIT_E = Decision(True, Rule.SAME_UNIT, emergency=True)
_SAME_GIVER = Decision(True, Rule.SAME_CARE_GIVER)
_REGISTRY = Decision(True, Rule.REGISTRY_PERMIT)
_MISSING: Any = object()


def decide(policy: PatientPolicy, resource: dict[str, Any], requester: Requester, now: datetime) -> Decision:
    """May `requester` see `resource` now? Rules 1-7 of domain.md section 5 in order, deny-overrides.

    A Patient carries no information source and is decided apart: denied on an unreadable policy, an
    unsupported purpose, a `V` label or (purpose HQUALIMP) a covering registry-opt-out; otherwise
    permitted (`patient-demographics`) with `mask=True` when it is labelled `sekretessmarkering` or
    `skyddadFolkbokforing` (any system) or the policy was compiled with `patient_protected`.
    `emergency` is True for every decision made under purpose ETREAT (to be audited as emergency access).
    Fail-closed additions to the rule text: purposes other than TREAT/ETREAT/HQUALIMP deny
    (`unsupported-purpose`); TREAT/ETREAT without care giver and care unit deny (`unknown-requester`);
    a block covers information whose source care unit *or* care giver is the blocked Organization.
    """
    try:
        return _emergency(_decide(policy, resource, requester, timestamp(now)), requester)
    except Exception:  # noqa: BLE001 - rule 1: any error denies
        return _ERROR


def decide_many(
    policy: PatientPolicy, resources: Iterable[dict[str, Any]], requester: Requester, now: datetime
) -> list[Decision]:
    """`decide` for each resource of one patient, in order (one clock reading for the whole set)."""
    try:
        ts = timestamp(now)
    except Exception:  # noqa: BLE001
        return [_ERROR for _ in resources]
    out = []
    for resource in resources:
        try:
            out.append(_emergency(_decide(policy, resource, requester, ts), requester))
        except Exception:  # noqa: BLE001
            out.append(_ERROR)
    return out


def _emergency(decision: Decision, req: Requester) -> Decision:
    """Every decision under purpose ETREAT is flagged, so it is audited as emergency access."""
    if decision.emergency or req.purpose != ETREAT:
        return decision
    return Decision(decision.permit, decision.rule, decision.consent_ids, True, decision.mask)


def _decide(policy: PatientPolicy, resource: dict[str, Any], req: Requester, now: float) -> Decision:
    # Rule 1: unreadable directives, unsupported purpose or unknown requester deny.
    if not policy.readable:
        return _UNREADABLE
    purpose = req.purpose
    if purpose not in PURPOSES:
        return _UNSUPPORTED
    registry = purpose == HQUALIMP
    if registry:
        if not (req.organization or req.care_unit or req.care_giver):
            return _UNKNOWN
    elif not req.care_unit or not req.care_giver:
        return _UNKNOWN
    if resource.get("resourceType") == "Patient":
        return _decide_patient(policy, resource, req, now)
    source = information_source(resource)
    if source is None:
        return _NO_SOURCE
    giver, unit, itype = source
    emergency = purpose == ETREAT

    # Rule 2: confidentiality V → only the source care unit (never a registry).
    if labels(resource)[0] and (registry or req.care_unit != unit):
        return _CONFIDENTIAL

    # Rule 3: quality registries; blocks do not apply, opt-outs do.
    if registry:
        return _registry(policy, req, now) or _REGISTRY

    # Rule 4: the source care unit itself.
    if req.care_unit == unit:
        return _SAME_UNIT_E if emergency else _SAME_UNIT

    # Rule 5: blocks on the source care unit (inner) and care giver (outer).
    same_giver = req.care_giver == giver
    denied: list[str] = []
    lifted: list[str] = []
    passed_by_emergency = False
    times: Any = _MISSING
    # A block names an Organization; whatever its declared type, it covers information whose source care
    # unit or care giver is that Organization (a mislabelled block must not vanish: fail closed).
    inner_blocks, outer_blocks = policy.inner_blocks, policy.outer_blocks
    candidates: list[Block] = [*inner_blocks.get(unit, ()), *inner_blocks.get(giver, ())]
    if not same_giver:
        candidates += outer_blocks.get(giver, ())
        candidates += outer_blocks.get(unit, ())
    for block in candidates:
        if not block.lo <= now < block.hi or itype in block.excluded_types:
            continue
        if block.data_period is not None:
            if times is _MISSING:
                times = clinical_times(resource)
            if times is not None and not _overlaps(block.data_period, times):
                continue
        if any(g.matches(req.care_unit, req.practitioner, now) for g in block.revokes):
            lifted.append(block.consent_id)
        elif block.inner and same_giver and emergency:
            passed_by_emergency = True
            lifted.append(block.consent_id)
        else:
            denied.append(block.consent_id)
    if denied:
        return Decision(False, Rule.BLOCKED, _ids(denied), emergency)

    # Rule 6: another care giver needs a consent for the requester's unit (and practitioner) or ETREAT.
    if not same_giver:
        used = [g.consent_id for g in policy.consents.get(req.care_unit or "", ()) if g.matches(
            req.care_unit, req.practitioner, now)]
        if used:
            rule = Rule.BLOCK_REVOKED if lifted else Rule.CONSENT
            return Decision(True, rule, _ids(used + lifted), emergency)
        if emergency:
            return Decision(True, Rule.EMERGENCY, _ids(lifted), True)
        return _NO_CONSENT

    # Rule 7: same care giver, another unit, not blocked.
    if not lifted:
        return _SAME_GIVER if not emergency else Decision(True, Rule.SAME_CARE_GIVER, (), True)
    rule = Rule.EMERGENCY if passed_by_emergency else Rule.BLOCK_REVOKED
    return Decision(True, rule, _ids(lifted), emergency)


def _decide_patient(policy: PatientPolicy, resource: dict[str, Any], req: Requester, now: float) -> Decision:
    confidential, protected = labels(resource)
    if confidential:
        return _CONFIDENTIAL
    masked = protected or policy.protected
    if req.purpose == HQUALIMP:
        opted_out = _registry(policy, req, now)
        if opted_out is not None:
            return opted_out
        return Decision(True, Rule.REGISTRY_PERMIT, (), False, masked)
    return Decision(True, Rule.PATIENT, (), req.purpose == ETREAT, masked)


def _registry(policy: PatientPolicy, req: Requester, now: float) -> Decision | None:
    """Rule 3: the deny of every active registry-opt-out covering this registry, or None."""
    if not policy.opt_outs:
        return None
    keys = set(req.organization)
    if req.care_unit:
        keys.add((HSA_SYSTEM, req.care_unit))
    if req.care_giver:
        keys.add((HSA_SYSTEM, req.care_giver))
    hits = [
        o.consent_id
        for o in policy.opt_outs
        if o.lo <= now < o.hi and (not o.organizations or not keys.isdisjoint(o.organizations))
    ]
    return Decision(False, Rule.REGISTRY_OPT_OUT, _ids(hits)) if hits else None


def _overlaps(window: tuple[float, float], times: list[tuple[float, float]]) -> bool:
    lo, hi = window
    return any(t_lo < hi and lo < t_hi for t_lo, t_hi in times)


def _ids(ids: list[str]) -> tuple[str, ...]:
    return tuple(sorted(set(ids)))
