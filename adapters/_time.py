"""Source timestamps to FHIR dateTime with the Europe/Stockholm offset (http://hl7.org/fhir/R4/datatypes.html#dateTime).

RIV-TA TimeStampType is `YYYYMMDDhhmmss` local Swedish time, DateType `YYYYMMDD`; HL7 v2 DTM is `YYYY[MM[DD[HH[MM[SS]]]]]`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TIMESTAMP = re.compile(r"^(19|20)\d\d(0[1-9]|1[012])(0[1-9]|[12][0-9]|3[01])(0[0-9]|1[0-9]|2[0123])[0-5][0-9][0-5][0-9]$")
DATE = re.compile(r"^(19|20)\d\d(0[1-9]|1[012])(0[1-9]|[12][0-9]|3[01])$")


def parse_timestamp(value: str) -> datetime:
    """`YYYYMMDDhhmmss` (Swedish local time) as an aware datetime; ValueError when not a real instant."""
    if len(value) != 14 or not (value.isascii() and value.isdigit()):
        raise ValueError(f"'{value}' is not YYYYMMDDhhmmss")
    # int fields, not strptime: strptime consults the locale on every call (hot in bulk ingest)
    return datetime(int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[8:10]), int(value[10:12]), int(value[12:14]), tzinfo=STOCKHOLM)


def timestamp_to_fhir(value: str) -> str:
    """`YYYYMMDDhhmmss` → `YYYY-MM-DDThh:mm:ss+01:00` (or +02:00 in summer time)."""
    return parse_timestamp(value).isoformat()


def date_to_fhir(value: str) -> str:
    """`YYYYMMDD` → FHIR date `YYYY-MM-DD` (ValueError for an impossible date)."""
    if len(value) != 8 or not (value.isascii() and value.isdigit()):
        raise ValueError(f"'{value}' is not YYYYMMDD")
    return date(int(value[:4]), int(value[4:6]), int(value[6:8])).isoformat()


_V2_DTM = re.compile(r"^(\d{4}|\d{6}|\d{8}|\d{10}|\d{12}|\d{14})(\.\d{1,4})?([+-]\d{4})?$")


def v2_dtm_to_fhir(value: str) -> str:
    """An HL7 v2 DTM `YYYY[MM[DD[HH[MM[SS]]]]]` (fraction and offset ignored) → FHIR date or dateTime in Stockholm time."""
    m = _V2_DTM.match(value.strip())
    if not m:
        raise ValueError(f"'{value}' is not an HL7 v2 date/time")
    s = m.group(1)
    if len(s) == 4:
        return s
    if len(s) == 6:
        return datetime.strptime(s, "%Y%m").strftime("%Y-%m")
    if len(s) == 8:
        return date_to_fhir(s)
    return timestamp_to_fhir(s.ljust(14, "0"))
