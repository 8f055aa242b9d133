"""FHIR date/dateTime/instant values as half-open intervals of epoch seconds.

A value covers its whole precision (http://hl7.org/fhir/R4/datatypes.html#dateTime): `2024` is the year,
`2024-05-01` the day. Values without a time zone are read as UTC. A malformed value raises ValueError.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime
from functools import lru_cache

_EPOCH_DAY = date(1970, 1, 1).toordinal()
NEG_INF = float("-inf")
POS_INF = float("inf")

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?$"
)


def interval(value: object) -> tuple[float, float]:
    """[lo, hi) in epoch seconds covered by a FHIR date, dateTime or instant string."""
    if not isinstance(value, str):
        raise ValueError(f"not a FHIR date/dateTime: {value!r}")
    return _interval(value)


@lru_cache(maxsize=16384)
def _interval(value: str) -> tuple[float, float]:
    m = _PARTIAL.match(value)
    if m:
        year = int(m.group(1))
        if m.group(2) is None:
            return datetime(year, 1, 1, tzinfo=UTC).timestamp(), datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()
        month = int(m.group(2))
        if m.group(3) is None:
            first = datetime(year, month, 1, tzinfo=UTC).timestamp()
            return first, first + calendar.monthrange(year, month)[1] * 86400.0
        day = (date(year, month, int(m.group(3))).toordinal() - _EPOCH_DAY) * 86400.0
        return day, day + 86400.0
    m = _DATETIME.match(value)
    if not m:
        raise ValueError(f"not a FHIR date/dateTime: {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    start = parsed.timestamp()
    if m.group(1) is None:
        return start, start + 60.0
    if m.group(2):
        return start, start + 10.0 ** -len(m.group(2))
    return start, start + 1.0


def period(value: object) -> tuple[float, float]:
    """[lo, hi) of a FHIR Period; a missing end is open (http://hl7.org/fhir/R4/datatypes.html#Period)."""
    if not isinstance(value, dict):
        raise ValueError("Period is not an object")
    start, end = value.get("start"), value.get("end")
    if start is None and end is None:
        raise ValueError("Period without start and end")
    if ("start" in value and start is None) or ("end" in value and end is None):
        raise ValueError("Period with a null bound")
    lo = interval(start)[0] if start is not None else NEG_INF
    hi = interval(end)[1] if end is not None else POS_INF
    if lo >= hi:
        raise ValueError("Period start is after its end")
    return lo, hi


_last: tuple[object, float] = (None, 0.0)


def timestamp(now: datetime) -> float:
    """Epoch seconds of `now`; a naive datetime is taken as UTC. The last answer is reused for the same
    (immutable) datetime object, as callers pass one clock reading for many decisions."""
    global _last
    last = _last
    if last[0] is now:
        return last[1]
    if not isinstance(now, datetime):
        raise TypeError("now must be a datetime")
    value = (now if now.tzinfo is not None else now.replace(tzinfo=UTC)).timestamp()
    _last = (now, value)
    return value
