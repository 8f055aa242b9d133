"""Python forms of the common base invariants (same meaning as the FHIRPath in invariants.json, faster).

Each check takes the element dict and returns True when the invariant holds.
Spec: http://hl7.org/fhir/R4/extensibility.html#Extension (ext-1), allergyintolerance.html (ait-1/2),
datatypes.html (per-1, qty-3, att-1, cpt-2).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

_AI_VER = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"


def _has_value_x(el: dict[str, Any]) -> bool:
    for k in el:
        if k[:5] == "value" or k[:6] == "_value":
            return True
    return False


def ext_1(el: dict[str, Any]) -> bool:
    return ("extension" in el) != _has_value_x(el)


def _entered_in_error(res: dict[str, Any]) -> bool:
    vs = res.get("verificationStatus")
    if not isinstance(vs, dict):
        return False
    for c in vs.get("coding") or ():
        if isinstance(c, dict) and c.get("system") == _AI_VER and c.get("code") == "entered-in-error":
            return True
    return False


def ait_1(res: dict[str, Any]) -> bool:
    return "clinicalStatus" in res or _entered_in_error(res)


def ait_2(res: dict[str, Any]) -> bool:
    return "clinicalStatus" not in res or not _entered_in_error(res)


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def date_order(start: Any, end: Any) -> bool | None:
    """start <= end for FHIR date/dateTime strings; None when the precisions make it undecidable."""
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    if len(start) > 10 and len(end) > 10:
        a, b = _instant(start), _instant(end)
        if a is not None and b is not None and (a.tzinfo is None) == (b.tzinfo is None):
            return a <= b
        return None
    n = min(len(start), len(end), 10)
    if start[:n] != end[:n]:
        return start[:n] < end[:n]
    return True if len(start) == len(end) else None


def per_1(el: dict[str, Any]) -> bool:
    return date_order(el.get("start"), el.get("end")) is not False


def qty_3(el: dict[str, Any]) -> bool:
    return "code" not in el or "system" in el


def att_1(el: dict[str, Any]) -> bool:
    return "data" not in el or "contentType" in el


def cpt_2(el: dict[str, Any]) -> bool:
    return "value" not in el or "system" in el


def inv_1(el: dict[str, Any]) -> bool:
    value = _has_value_x(el)
    res = "resource" in el
    if "part" in el:
        return not value and not res
    return value != res


def attachment_size(el: dict[str, Any], path: str, ctx: Any) -> None:
    """Attachment.size must equal the number of bytes in data (http://hl7.org/fhir/R4/datatypes.html#Attachment)."""
    data, size = el.get("data"), el.get("size")
    if isinstance(data, str) and isinstance(size, int) and not isinstance(size, bool):
        import base64
        import binascii

        try:
            n = len(base64.b64decode("".join(data.split()), validate=True))
        except (binascii.Error, ValueError):
            return
        if n != size:
            ctx.error("value", f"Attachment.size is {size} but data holds {n} bytes", path + ".size")


_CODED = frozenset({"code", "Coding", "CodeableConcept", "Quantity", "string", "uri", "Duration"})
_ELD_SEG = r"[^\s\.,:;'\"\/|?!@#$%&*()\[\]{}]{1,64}"
_ELD_19 = re.compile(rf"{_ELD_SEG}(\.{_ELD_SEG}(\[x\])?(\:[^\s\.]+)?)*")


def _has_prefix(el: dict[str, Any], prefix: str) -> bool:
    n = len(prefix)
    return any(k.startswith(prefix) and k[n:n + 1].isupper() for k in el)


def eld_2(el: dict[str, Any]) -> bool:
    mn, mx = el.get("min"), el.get("max")
    if not isinstance(mn, int) or not isinstance(mx, str) or mx == "*" or not mx.isdigit():
        return True
    return mn <= int(mx)


def eld_6(el: dict[str, Any]) -> bool:
    return not _has_prefix(el, "fixed") or len(el.get("type") or ()) <= 1


def eld_7(el: dict[str, Any]) -> bool:
    return not _has_prefix(el, "pattern") or len(el.get("type") or ()) <= 1


def eld_8(el: dict[str, Any]) -> bool:
    return not (_has_prefix(el, "pattern") and _has_prefix(el, "fixed"))


def eld_11(el: dict[str, Any]) -> bool:
    types = [t.get("code") for t in el.get("type") or () if isinstance(t, dict) and t.get("code")]
    return "binding" not in el or not types or any(t in _CODED for t in types)


def eld_15(el: dict[str, Any]) -> bool:
    return not (_has_prefix(el, "defaultValue") and "meaningWhenMissing" in el)


def eld_19(el: dict[str, Any]) -> bool:
    path = el.get("path")
    return not isinstance(path, str) or _ELD_19.fullmatch(path) is not None


EXTRA_HOOKS: dict[str, Any] = {"Attachment": attachment_size}

COMPILED: dict[str, Callable[[dict[str, Any]], bool]] = {
    "ext-1": ext_1,
    "ait-1": ait_1,
    "ait-2": ait_2,
    "per-1": per_1,
    "qty-3": qty_3,
    "att-1": att_1,
    "cpt-2": cpt_2,
    "inv-1": inv_1,
    "eld-2": eld_2,
    "eld-6": eld_6,
    "eld-7": eld_7,
    "eld-8": eld_8,
    "eld-11": eld_11,
    "eld-15": eld_15,
    "eld-19": eld_19,
}
