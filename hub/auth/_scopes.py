"""SMART v2 scopes (`system/AllergyIntolerance.rs`, `system/*.cruds`) and their v1 forms (`.read`, `.write`, `.*`).

Spec: https://build.fhir.org/ig/HL7/smart-app-launch/scopes-and-launch-context.html
"""

from __future__ import annotations

_V1 = {"read": "rs", "write": "cud", "*": "cruds"}


def allows(scopes: tuple[str, ...] | list[str], rtype: str, action: str, *, allow_wildcard: bool = True) -> bool:
    """Whether any scope grants `action` (one of c r u d s) on `rtype` (`*` counts unless told otherwise).

    Fail closed where the hub cannot honour a restriction: `patient/` scopes (no patient launch context)
    and granular scopes with a `?` query (e.g. `.rs?category=…`, not enforced) grant nothing.
    """
    for scope in scopes:
        context, _, rest = scope.partition("/")
        if context not in ("system", "user") or not rest or "?" in rest:
            continue
        res, _, perms = rest.partition(".")
        perms = _V1.get(perms, perms)
        if (res == rtype or (res == "*" and allow_wildcard)) and action in perms:
            return True
    return False
