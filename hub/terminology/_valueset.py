"""Compiling a ValueSet's compose into a member dict (http://hl7.org/fhir/R4/valueset.html#compositions).

A compiled value set is an insertion-ordered dict (system, code) → display plus the systems included
whole that cannot be enumerated here (content not complete or not loaded): membership in those is
accepted, expansion lists only what is known. Compiled sets are cached by the service until the next
register/unregister.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hub.terminology._codesystem import CodeSystemIndex

Key = tuple[str, str]


@dataclass
class CompiledValueSet:
    url: str
    version: str | None = None
    name: str | None = None
    members: dict[Key, str | None] = field(default_factory=dict)
    open_systems: frozenset[str] = frozenset()
    warnings: list[str] = field(default_factory=list)
    results: dict[tuple[str, str], Any] = field(default_factory=dict)  # memo of display-less $validate-code
    _by_code: dict[str, list[str]] | None = None
    _contains: list[dict[str, Any]] | None = None

    def systems_for(self, code: str) -> list[str]:
        """Systems in which `code` is a member (for $validate-code without a system)."""
        if self._by_code is None:
            by: dict[str, list[str]] = {}
            for s, c in self.members:
                by.setdefault(c, []).append(s)
            self._by_code = by
        return self._by_code.get(code, [])

    def contains(self) -> list[dict[str, Any]]:
        """The flat expansion.contains list (built once, shared: treat as read-only)."""
        if self._contains is None:
            self._contains = [
                {"system": s, "code": c, "display": d} if d is not None else {"system": s, "code": c}
                for (s, c), d in self.members.items()
            ]
        return self._contains


CodeSystemResolver = Callable[[str], CodeSystemIndex | None]
ValueSetResolver = Callable[[str], CompiledValueSet | None]


class CompileError(Exception):
    """A compose the service cannot evaluate (unknown nested value set, unsupported filter)."""


def compile_valueset(vs: dict[str, Any], code_systems: CodeSystemResolver, valuesets: ValueSetResolver) -> CompiledValueSet:
    """Evaluate include/exclude (concept lists, filters, nested value sets) into a CompiledValueSet."""
    out = CompiledValueSet(vs["url"], vs.get("version"), vs.get("name"))
    compose = vs.get("compose")
    if not compose:
        _from_expansion(out, (vs.get("expansion") or {}).get("contains") or ())
        return out
    members: dict[Key, str | None] = {}
    opened: set[str] = set()
    for inc in compose.get("include") or ():
        got, open_sys = _evaluate(inc, code_systems, valuesets, out.warnings)
        members.update(got)
        opened |= open_sys
    for exc in compose.get("exclude") or ():
        got, _ = _evaluate(exc, code_systems, valuesets, out.warnings)
        for k in got:
            members.pop(k, None)
    out.members, out.open_systems = members, frozenset(opened)
    return out


def _from_expansion(out: CompiledValueSet, contains: Iterable[dict[str, Any]]) -> None:
    for c in contains:
        if c.get("system") and c.get("code") and not c.get("abstract"):
            out.members[(c["system"], c["code"])] = c.get("display")
        _from_expansion(out, c.get("contains") or ())


def _evaluate(
    inc: dict[str, Any], code_systems: CodeSystemResolver, valuesets: ValueSetResolver, warnings: list[str]
) -> tuple[dict[Key, str | None], set[str]]:
    """One include/exclude: (members, systems accepted without enumeration)."""
    system = inc.get("system")
    nested = [_nested(u, valuesets) for u in inc.get("valueSet") or ()]
    result: dict[Key, str | None] = {}
    opened: set[str] = set()
    if system:
        cs = code_systems(system)
        if inc.get("concept"):
            for c in inc["concept"]:
                code = c["code"]
                if cs is not None and cs.complete and code not in cs:
                    warnings.append(f"{system}#{code} is not in the code system; left out")
                    continue
                result[(system, code)] = c.get("display") or (cs.displays.get(code) if cs else None)
        elif inc.get("filter"):
            if cs is None:
                warnings.append(f"code system {system} not available: filters not evaluated")
                opened.add(system)
            else:
                codes: set[str] | None = None
                for f in inc["filter"]:
                    got = apply_filter(cs, f)
                    codes = got if codes is None else codes & got
                for code in cs.codes():  # definition order
                    if codes and code in codes:
                        result[(system, code)] = cs.displays[code]
                if not cs.complete:  # codes outside a fragment cannot be judged here
                    opened.add(system)
        else:
            if cs is not None:
                result = {(system, code): d for code, d in cs.displays.items()}
            if cs is None or not cs.complete:
                opened.add(system)
        for n in nested:
            result = {k: v for k, v in result.items() if k in n.members or k[0] in n.open_systems}
            opened &= set(n.open_systems)
        return result, opened
    if nested:
        first, rest = nested[0], nested[1:]
        result = {k: v for k, v in first.members.items() if all(k in n.members for n in rest)}
        opened = set(first.open_systems).intersection(*(n.open_systems for n in rest))
    return result, opened


def _nested(url: str, valuesets: ValueSetResolver) -> CompiledValueSet:
    got = valuesets(url)
    if got is None:
        raise CompileError(f"included value set {url} is not known")
    return got


def apply_filter(cs: CodeSystemIndex, f: dict[str, Any]) -> set[str]:
    """Codes of `cs` passing one compose filter (R4 filter-operator: is-a, descendent-of, =, in, regex …)."""
    prop, op, value = f.get("property"), f.get("op"), f.get("value", "")
    if op in ("is-a", "descendent-of", "is-not-a", "generalizes") and prop not in ("concept", "code", None):
        raise CompileError(f"filter {prop} {op} is only supported on property 'concept'")
    if op == "is-a":
        return (cs.descendants(value) | {value}) if value in cs else set()
    if op == "descendent-of":
        return cs.descendants(value) if value in cs else set()
    if op == "is-not-a":
        return set(cs.codes()) - cs.descendants(value) - {value}
    if op == "generalizes":
        return (cs.ancestors(value) | {value}) if value in cs else set()
    if op in ("=", "in", "not-in", "regex", "exists"):
        return _property_filter(cs, prop or "", op, value)
    raise CompileError(f"filter operator {op} is not supported")


def _property_filter(cs: CodeSystemIndex, prop: str, op: str, value: str) -> set[str]:
    wanted = {v.strip() for v in value.split(",")} if op in ("in", "not-in") else {value}
    pattern = re.compile(value) if op == "regex" else None
    out: set[str] = set()
    for code in cs.codes():
        if prop in ("code", "concept"):
            values: list[Any] = [code]
        elif prop == "display":
            values = [cs.displays.get(code)]
        else:
            values = cs.property_values(code, prop)
        strs = [_as_str(v) for v in values if v is not None]
        if op == "exists":
            ok = bool(strs) == (value.lower() != "false")
        elif op == "regex":
            ok = any(pattern.fullmatch(s) for s in strs) if pattern else False
        elif op == "not-in":
            ok = not any(s in wanted for s in strs)
        else:
            ok = any(s in wanted for s in strs)
        if ok:
            out.add(code)
    return out


def _as_str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return str(v.get("code", ""))
    return str(v)
