"""A StructureDefinition compiled into a tree of element constraints (the part a profile adds to the base).

The differential (or, without one, the snapshot) is merged over the base profile's tree, so a chain of
profiles compiles to one tree: our form of snapshot generation.
Spec: http://hl7.org/fhir/R4/profiling.html, http://hl7.org/fhir/R4/elementdefinition.html
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CORE_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
CUSTOM_CHECK_URL = "https://knutpunkt.se/fhir/StructureDefinition/custom-check"


@dataclass
class Constraint:
    key: str
    severity: str
    human: str
    expression: str | None
    custom: str | None = None  # name of a registered Python check


@dataclass
class PNode:
    """Constraints on one element (or slice) of a profile, with its children and slices."""

    name: str
    min: int | None = None
    max: int | None = None  # None = unbounded or unchanged
    max_set: bool = False
    fixed: Any = None
    pattern: Any = None
    binding: tuple[str, str] | None = None  # (strength, valueSet canonical)
    constraints: list[Constraint] = field(default_factory=list)
    type_codes: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)  # type.profile (extension definitions, datatype profiles)
    target_types: list[str] = field(default_factory=list)  # resource types from type.targetProfile
    slicing: dict[str, Any] | None = None  # {"discriminator": [(type, path)], "rules": "open"|"closed"|"openAtEnd"}
    slices: dict[str, PNode] = field(default_factory=dict)
    children: dict[str, PNode] = field(default_factory=dict)
    slice_index: Any = None  # {discriminating value: slice name} when one simple value discriminator

    has_rules: bool = True  # any rule on the value itself; recomputed by prune()

    def _rules(self) -> bool:
        return (self.fixed is not None or self.pattern is not None or self.binding is not None
                or bool(self.constraints) or bool(self.target_types) or bool(self.profiles))

    def is_empty(self) -> bool:
        return (self.min is None and not self.max_set and self.fixed is None and self.pattern is None
                and self.binding is None and not self.constraints and not self.profiles and not self.target_types
                and not self.slices and not self.children)

    def prune(self) -> None:
        """Drop children that constrain nothing (e.g. an element listed only for its short text)."""
        if self.binding is not None and self.binding[0] not in ("required", "extensible"):
            self.binding = None  # example and preferred bindings are not checked
        self.has_rules = self._rules()
        for name in list(self.children):
            child = self.children[name]
            child.prune()
            if child.is_empty() and not child.slicing:
                del self.children[name]
        for s in self.slices.values():
            s.prune()

    def child(self, name: str) -> PNode:
        node = self.children.get(name)
        if node is None:
            node = self.children[name] = PNode(name)
        return node

    def slice(self, name: str) -> PNode:
        node = self.slices.get(name)
        if node is None:
            node = self.slices[name] = PNode(self.name)
        return node


@dataclass
class CompiledProfile:
    url: str
    type: str  # the constrained type (resource type, 'Extension', datatype)
    root: PNode
    name: str = ""
    context_free: bool = False  # no constraints or nested profiles: results depend on the value alone


def context_free(node: PNode) -> bool:
    if node.constraints or node.profiles:
        return False
    return all(context_free(c) for c in node.children.values()) and all(context_free(s) for s in node.slices.values())


def _value_x(el: dict[str, Any], prefix: str) -> Any:
    for k, v in el.items():
        if k.startswith(prefix) and len(k) > len(prefix) and k[len(prefix)].isupper():
            return v
    return None


def _segments(el: dict[str, Any]) -> list[tuple[str, str | None]]:
    """[(element name, slice name)] below the root, from ElementDefinition.id (or path + sliceName)."""
    eid = el.get("id")
    if isinstance(eid, str) and eid:
        parts = eid.split(".")[1:]
        out: list[tuple[str, str | None]] = []
        for p in parts:
            name, _, sl = p.partition(":")
            out.append((name, sl or None))
        return out
    parts = str(el.get("path", "")).split(".")[1:]
    out = [(p, None) for p in parts]
    if out and el.get("sliceName"):
        out[-1] = (out[-1][0], el["sliceName"])
    return out


def _locate(root: PNode, segs: list[tuple[str, str | None]]) -> PNode:
    node = root
    for name, sl in segs:
        if sl is not None and name.endswith("[x]") and sl.startswith(name[:-3]) and sl[len(name[:-3]):][:1].isupper():
            node = node.child(sl)  # value[x]:valueIdentifier is the concrete element valueIdentifier
            continue
        node = node.child(name)
        if sl is not None:
            for part in sl.split("/"):
                node = node.slice(part)
    return node


def apply_element(root: PNode, el: dict[str, Any]) -> None:
    """Merge one differential ElementDefinition into the tree."""
    segs = _segments(el)
    node = _locate(root, segs) if segs else root
    if "min" in el:
        node.min = int(el["min"])
    if "max" in el:
        node.max = None if el["max"] == "*" else int(el["max"])
        node.max_set = True
    fixed = _value_x(el, "fixed")
    if fixed is not None:
        node.fixed = fixed
    pattern = _value_x(el, "pattern")
    if pattern is not None:
        node.pattern = pattern
    b = el.get("binding")
    if isinstance(b, dict) and b.get("valueSet"):
        node.binding = (b.get("strength", "example"), str(b["valueSet"]).split("|")[0])
    for c in el.get("constraint") or ():
        custom = None
        for ext in c.get("extension") or ():
            if ext.get("url") == CUSTOM_CHECK_URL:
                custom = ext.get("valueCode") or ext.get("valueString")
        if any(x.key == c.get("key") for x in node.constraints):
            continue
        node.constraints.append(Constraint(c.get("key", "?"), c.get("severity", "error"), c.get("human", ""),
                                           c.get("expression"), custom))
    types = el.get("type")
    if types:
        node.type_codes = [t.get("code") for t in types if t.get("code")]
        profiles = [p for t in types for p in t.get("profile") or ()]
        if profiles:
            node.profiles = profiles
        targets = [p for t in types for p in t.get("targetProfile") or ()]
        if targets:
            node.target_types = [p.rsplit("/", 1)[-1] if p.startswith(CORE_PREFIX) else p for p in targets]
    sl = el.get("slicing")
    if isinstance(sl, dict):
        node.slicing = {
            "discriminator": [(d.get("type"), d.get("path")) for d in sl.get("discriminator") or ()],
            "rules": sl.get("rules", "open"),
        }


def compile_elements(root: PNode, elements: list[dict[str, Any]]) -> PNode:
    for el in elements:
        apply_element(root, el)
    return root
