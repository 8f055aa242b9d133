"""Checks every write passes before it is stored: resource shape, profile validation, route rules."""

from __future__ import annotations

import re
from typing import Any

from hub.fhir.errors import InvalidInput, Issue, Unprocessable
from hub.routing import check_subscription

_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def check_id(rid: str, where: str = "id") -> None:
    """FHIR id: 1–64 of [A-Za-z0-9-.] (http://hl7.org/fhir/R4/datatypes.html#id)."""
    if not _ID.match(rid):
        raise InvalidInput(f"invalid id {rid!r}", [Issue("error", "value", f"invalid resource id {rid!r}", (where,))])


def check_resource(resource: dict[str, Any], rtype: str, *, validate: bool = True) -> None:
    """Reject a resource that is not of `rtype`, fails profile validation (422) or is not a usable route."""
    if resource.get("resourceType") != rtype:
        raise InvalidInput(
            "resource type mismatch",
            [Issue("error", "invalid", f"expected a {rtype}, got {resource.get('resourceType')!r}", ("resourceType",))],
        )
    issues: list[Issue] = []
    if validate:
        from hub.validation import validate_resource

        issues.extend(i for i in validate_resource(resource) if i.severity in ("error", "fatal"))
    if rtype == "Subscription":
        issues.extend(check_subscription(resource))
    if rtype == "Consent":
        ref = (resource.get("patient") or {}).get("reference")
        if not isinstance(ref, str) or not ref.startswith("Patient/"):
            # a directive the enforcement point cannot find by patient would be silently ignored
            issues.append(Issue("error", "required", "Consent.patient must be a literal reference Patient/<id>", ("Consent.patient.reference",)))
    if issues:
        raise Unprocessable(f"{rtype} failed validation", issues)
