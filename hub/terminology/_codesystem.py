"""An in-memory index of one CodeSystem: displays, designations, properties and the is-a hierarchy.

Hierarchy comes from nested `concept.concept` and from the `parent` / `child` / `subsumedBy` concept
properties (http://hl7.org/fhir/R4/codesystem.html#hierarchy). The raw concept list is not kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from hub.terminology._protocol import LookupResult

_PARENT_PROPS = frozenset({"parent", "subsumedBy"})
_VALUE_KEYS = (
    "valueCode", "valueString", "valueCoding", "valueBoolean", "valueInteger", "valueDecimal", "valueDateTime",
)


def _prop_value(prop: dict[str, Any]) -> Any:
    for key in _VALUE_KEYS:
        if key in prop:
            return prop[key]
    return None


class CodeSystemIndex:
    """Codes of one CodeSystem (url + version) with O(1) lookup and child/parent dicts."""

    __slots__ = (
        "url", "version", "name", "title", "content", "value_set", "displays", "designations", "properties",
        "parents", "children",
    )

    def __init__(self, url: str, version: str | None = None, content: str = "complete") -> None:
        self.url = url
        self.version = version
        self.name: str | None = None
        self.title: str | None = None
        self.content = content
        self.value_set: str | None = None
        self.displays: dict[str, str | None] = {}
        self.designations: dict[str, tuple[tuple[str | None, str], ...]] = {}
        self.properties: dict[str, tuple[tuple[str, Any], ...]] = {}
        self.parents: dict[str, list[str]] = {}
        self.children: dict[str, list[str]] = {}

    @classmethod
    def from_resource(cls, cs: dict[str, Any]) -> CodeSystemIndex:
        idx = cls(cs["url"], cs.get("version"), cs.get("content", "complete"))
        idx.name, idx.title, idx.value_set = cs.get("name"), cs.get("title"), cs.get("valueSet")
        stack: list[tuple[str | None, list[dict[str, Any]]]] = [(None, cs.get("concept") or [])]
        while stack:
            parent, concepts = stack.pop()
            for c in concepts:
                idx._add_concept(c, parent)
                if c.get("concept"):
                    stack.append((c["code"], c["concept"]))
        return idx

    def _add_concept(self, c: dict[str, Any], parent: str | None) -> None:
        code = c["code"]
        self.displays[code] = c.get("display")
        if c.get("designation"):
            self.designations[code] = tuple((d.get("language"), d["value"]) for d in c["designation"] if "value" in d)
        props = []
        for p in c.get("property") or ():
            pcode, value = p.get("code"), _prop_value(p)
            if pcode in _PARENT_PROPS and isinstance(value, str):
                self.add_edge(value, code)
            elif pcode == "child" and isinstance(value, str):
                self.add_edge(code, value)
            else:
                props.append((pcode, value))
        if props:
            self.properties[code] = tuple(props)
        if parent is not None:
            self.add_edge(parent, code)

    def add_edge(self, parent: str, child: str) -> None:
        """Record `child` is-a `parent` (idempotent)."""
        ps = self.parents.setdefault(child, [])
        if parent not in ps:
            ps.append(parent)
            self.children.setdefault(parent, []).append(child)

    def __contains__(self, code: object) -> bool:
        return code in self.displays

    def __len__(self) -> int:
        return len(self.displays)

    def codes(self) -> Iterator[str]:
        return iter(self.displays)

    @property
    def complete(self) -> bool:
        """Whether every code of the system is present (`content` = complete)."""
        return self.content == "complete"

    def descendants(self, code: str) -> set[str]:
        """All codes below `code` (transitive children, `code` itself excluded)."""
        out: set[str] = set()
        stack = list(self.children.get(code, ()))
        while stack:
            c = stack.pop()
            if c not in out:
                out.add(c)
                stack.extend(self.children.get(c, ()))
        return out

    def ancestors(self, code: str) -> set[str]:
        """All codes above `code` (transitive parents, `code` itself excluded)."""
        out: set[str] = set()
        stack = list(self.parents.get(code, ()))
        while stack:
            c = stack.pop()
            if c not in out:
                out.add(c)
                stack.extend(self.parents.get(c, ()))
        return out

    def subsumes(self, a: str, b: str) -> bool:
        """True when `a` subsumes `b` (a == b or a is an ancestor of b)."""
        return a == b or a in self.ancestors(b)

    def property_values(self, code: str, prop: str) -> list[Any]:
        """Values of a concept property; `parent`/`child` are answered from the hierarchy."""
        if prop in _PARENT_PROPS:
            return list(self.parents.get(code, ()))
        if prop == "child":
            return list(self.children.get(code, ()))
        return [v for p, v in self.properties.get(code, ()) if p == prop]

    def display_matches(self, code: str, display: str) -> bool:
        """Display check for $validate-code: the display or any designation, case and spacing ignored."""
        want = " ".join(display.split()).casefold()
        candidates = [self.displays.get(code)] + [v for _, v in self.designations.get(code, ())]
        return any(c is not None and " ".join(c.split()).casefold() == want for c in candidates)

    def lookup(self, code: str) -> LookupResult | None:
        if code not in self.displays:
            return None
        props: list[tuple[str, Any]] = list(self.properties.get(code, ()))
        props += [("parent", p) for p in self.parents.get(code, ())]
        props += [("child", c) for c in self.children.get(code, ())]
        return LookupResult(
            system=self.url,
            code=code,
            display=self.displays[code],
            version=self.version,
            designations=self.designations.get(code, ()),
            properties=tuple(props),
        )

    @classmethod
    def merged(cls, parts: Iterable[CodeSystemIndex]) -> CodeSystemIndex:
        """One view over several versions/fragments of the same system (later parts win on display)."""
        parts = list(parts)
        out = cls(parts[-1].url, parts[-1].version, "complete" if any(p.complete for p in parts) else "fragment")
        out.name, out.title, out.value_set = parts[-1].name, parts[-1].title, parts[-1].value_set
        for p in parts:
            for code, disp in p.displays.items():
                if disp is not None or code not in out.displays:
                    out.displays[code] = disp
            out.designations.update(p.designations)
            out.properties.update(p.properties)
            for child, ps in p.parents.items():
                for parent in ps:
                    out.add_edge(parent, child)
        return out
