"""What a resource says about itself for the filter: information source, labels and clinical time."""

from __future__ import annotations

from typing import Any

from hub.consent._codes import (
    CONFIDENTIALITY_SYSTEM,
    HSA_SYSTEMS,
    INFORMATION_SOURCE_URL,
    PROTECTED_PERSON_CODES,
)
from hub.consent._time import interval, period


def information_source(resource: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """(care giver HSA-id, care unit HSA-id, information type) from the information-source extension;
    None when absent, repeated or incomplete (domain.md section 5: such a resource is never released)."""
    found = None
    for ext in resource.get("extension") or ():
        if ext["url"] == INFORMATION_SOURCE_URL:
            if found is not None:
                return None
            found = ext
    if found is None:
        return None
    giver = unit = itype = None
    for sub in found.get("extension") or ():
        url = sub["url"]
        if url == "informationType":
            if itype is not None or type(sub.get("valueCode")) is not str:
                return None
            itype = sub["valueCode"]
        elif url == "careUnit" or url == "careGiver":
            ident = sub.get("valueIdentifier")
            if ident is None or ident.get("system") not in HSA_SYSTEMS:
                return None
            if url == "careUnit":
                if unit is not None:
                    return None
                unit = ident.get("value")
            else:
                if giver is not None:
                    return None
                giver = ident.get("value")
    if type(giver) is not str or type(unit) is not str or not giver.strip() or not unit.strip():
        return None
    return giver.strip().upper(), unit.strip().upper(), itype


def labels(resource: dict[str, Any]) -> tuple[bool, bool]:
    """(confidentiality V, protected person) from meta.security. A bare code `V` without system counts."""
    meta = resource.get("meta")
    if not meta:
        return False, False
    confidential = protected = False
    for coding in meta.get("security") or ():
        code = coding.get("code")
        if code == "V" and coding.get("system") in (CONFIDENTIALITY_SYSTEM, None):
            confidential = True
        elif code in PROTECTED_PERSON_CODES:
            protected = True
    return confidential, protected


def clinical_times(resource: dict[str, Any]) -> list[tuple[float, float]] | None:
    """Intervals the resource's information belongs to, for dataPeriod overlap; None = unknown.

    AllergyIntolerance recordedDate, onsetDateTime, onsetPeriod; Flag period; else meta.lastUpdated.
    Any unparsable value makes the time unknown (the caller then lets the block apply: fail closed).
    """
    try:
        out: list[tuple[float, float]] = []
        for key in ("recordedDate", "onsetDateTime"):
            if resource.get(key) is not None:
                out.append(interval(resource[key]))
        for key in ("onsetPeriod", "period"):
            if resource.get(key) is not None:
                out.append(period(resource[key]))
        if not out:
            updated = (resource.get("meta") or {}).get("lastUpdated")
            if updated is None:
                return None
            out.append(interval(updated))
        return out
    except (ValueError, AttributeError, TypeError):
        return None
