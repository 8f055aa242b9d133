"""A small HL7 v2 (ER7, pipe-delimited) reader: segments, fields, repetitions, components, escapes.

HL7 v2.5.1 chapter 2 (control): MSH-1 is the field separator, MSH-2 the encoding characters
(component, repetition, escape, subcomponent). Segments end with CR; LF and CRLF are accepted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hub.fhir.errors import InvalidInput, Issue

MAX_V2_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Delimiters:
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"


@dataclass
class Segment:
    """One segment: its name, raw fields (index = field number), line in the message and occurrence."""

    name: str
    fields: list[str]
    line: int
    occurrence: int
    delims: Delimiters = field(default_factory=Delimiters)

    def raw(self, n: int) -> str:
        return self.fields[n] if n < len(self.fields) else ""

    def repetitions(self, n: int) -> list[str]:
        value = self.raw(n)
        if self.name == "MSH" and n <= 2:
            return [value] if value else []
        return [r for r in value.split(self.delims.repetition) if r]

    def component(self, n: int, c: int = 1, rep: str | None = None, sub: int = 1) -> str:
        """Component `c` (subcomponent `sub`, 1-based) of field `n`, first repetition unless `rep`; unescaped."""
        value = rep if rep is not None else (self.repetitions(n) or [""])[0]
        parts = value.split(self.delims.component)
        part = parts[c - 1] if c - 1 < len(parts) else ""
        subs = part.split(self.delims.subcomponent)
        return unescape(subs[sub - 1], self.delims).strip() if sub - 1 < len(subs) else ""

    def where(self, n: int | None = None, c: int | None = None) -> str:
        loc = f"{self.name}[{self.occurrence}]"
        if n is not None:
            loc += f"-{n}"
        if c is not None:
            loc += f".{c}"
        return loc


def unescape(value: str, d: Delimiters) -> str:
    """Replace the v2 escape sequences \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ and \\.br\\ (line break)."""
    if d.escape not in value:
        return value
    table = {"F": d.field, "S": d.component, "T": d.subcomponent, "R": d.repetition, "E": d.escape, ".br": "\n"}
    esc = re.escape(d.escape)
    return re.sub(f"{esc}(F|S|T|R|E|\\.br){esc}", lambda m: table[m.group(1)], value)


def _fail(message: str, where: str, line: int | None = 1) -> InvalidInput:
    return InvalidInput(message, [Issue("error", "structure", message, (where,), line)])


def parse_message(payload: bytes) -> list[Segment]:
    """Segments of one HL7 v2 message; InvalidInput when it does not start with a usable MSH."""
    if len(payload) > MAX_V2_BYTES:
        raise _fail(f"HL7 v2 message of {len(payload)} bytes exceeds the limit of {MAX_V2_BYTES} bytes", "MSH", None)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = payload.decode("latin-1")  # 8859/1 is the common v2 character set in Sweden
    text = text.lstrip("\ufeff\x0b").rstrip("\x1c\r\n ")  # BOM and MLLP framing
    lines = [ln for ln in re.split(r"\r\n|\r|\n", text)]
    if not lines or not lines[0].startswith("MSH") or len(lines[0]) < 8:
        raise _fail("an HL7 v2 message must start with an MSH segment", "MSH")
    head = lines[0]
    sep = head[3]
    enc = head[4:head.index(sep, 4)] if sep in head[4:] else ""
    if len(enc) < 4 or sep.isalnum() or len(set(sep + enc[:4])) != 5:
        raise _fail("MSH-1/MSH-2 do not define five distinct delimiters", "MSH[1]-2")
    delims = Delimiters(sep, enc[0], enc[1], enc[2], enc[3])
    segments: list[Segment] = []
    seen: dict[str, int] = {}
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        name = line[:3]
        if not re.fullmatch(r"[A-Z][A-Z0-9]{2}", name) or (len(line) > 3 and line[3] != sep):
            raise _fail(f"line {i} is not an HL7 v2 segment", f"line {i}", i)
        seen[name] = seen.get(name, 0) + 1
        parts = line.split(sep)
        # MSH-1 is the separator itself, so MSH field n sits at split index n-1; pad to keep index = field number.
        fields = [name, sep, *parts[1:]] if name == "MSH" else parts
        segments.append(Segment(name, fields, i, seen[name], delims))
    return segments
