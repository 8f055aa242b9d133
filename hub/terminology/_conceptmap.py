"""ConceptMap indexing and $translate (http://hl7.org/fhir/R4/conceptmap-operation-translate.html).

Each group is indexed as source code → targets; a group's `unmapped` (R4 modes `provided`, `fixed`,
`other-map`) answers codes the group does not list. A group without `source` answers only `system=None`
(and `system=None` searches every group), which lets adapters translate free text (e.g. `Livshotande`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.terminology._protocol import TranslateMatch

# Equivalences that are not a usable match (R4 concept-map-equivalence).
NO_MATCH = frozenset({"unmatched", "disjoint"})


@dataclass
class _Group:
    source: str | None
    target: str | None
    elements: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    displays: dict[str, str | None] = field(default_factory=dict)
    unmapped: dict[str, Any] | None = None


class ConceptMapIndex:
    """One ConceptMap with its groups keyed for O(1) element lookup."""

    def __init__(self, cm: dict[str, Any]) -> None:
        self.url: str = cm["url"]
        self.id: str | None = cm.get("id")
        self.source_vs: str | None = cm.get("sourceUri") or cm.get("sourceCanonical")
        self.target_vs: str | None = cm.get("targetUri") or cm.get("targetCanonical")
        self.groups: list[_Group] = []
        for g in cm.get("group") or ():
            grp = _Group(g.get("source"), g.get("target"), unmapped=g.get("unmapped"))
            for el in g.get("element") or ():
                code = el.get("code")
                if code is None:
                    continue
                grp.elements.setdefault(code, []).extend(el.get("target") or [{"equivalence": "unmatched"}])
                grp.displays[code] = el.get("display")
            self.groups.append(grp)

    def source_systems(self) -> set[str | None]:
        return {g.source for g in self.groups}

    def translate(
        self,
        system: str | None,
        code: str,
        target_system: str | None,
        other_map: Callable[[str, str | None, str, str | None, frozenset[str]], list[TranslateMatch]],
        seen: frozenset[str] = frozenset(),
    ) -> list[TranslateMatch]:
        """Matches of (system, code) in this map, optionally only into `target_system`."""
        out: list[TranslateMatch] = []
        seen = seen | {self.url}
        for g in self.groups:
            if system is not None and g.source != system:  # source-less groups answer system=None only
                continue
            if target_system is not None and g.target is not None and g.target != target_system:
                continue
            targets = g.elements.get(code)
            if targets is None and system is None:
                targets = _casefold_get(g.elements, code)
            if targets is not None:
                for t in targets:
                    eq = t.get("equivalence", "equivalent")
                    has_code = eq not in NO_MATCH and t.get("code") is not None
                    extra = {"comment": t["comment"]} if t.get("comment") else {}
                    if t.get("dependsOn"):
                        extra["dependsOn"] = t["dependsOn"]
                    out.append(
                        TranslateMatch(
                            equivalence=eq,
                            system=g.target if has_code else None,
                            code=t.get("code") if has_code else None,
                            display=t.get("display") if has_code else None,
                            source=self.url,
                            extra=extra,
                        )
                    )
            elif g.unmapped:
                out.extend(self._unmapped(g, system, code, target_system, other_map, seen))
        return out

    def _unmapped(
        self,
        g: _Group,
        system: str | None,
        code: str,
        target_system: str | None,
        other_map: Callable[[str, str | None, str, str | None, frozenset[str]], list[TranslateMatch]],
        seen: frozenset[str],
    ) -> list[TranslateMatch]:
        um = g.unmapped or {}
        mode = um.get("mode")
        if mode == "provided":
            return [TranslateMatch("equal", g.target or system, code, None, self.url, {"unmapped": "provided"})]
        if mode == "fixed" and um.get("code"):
            return [
                TranslateMatch("inexact", g.target, um["code"], um.get("display"), self.url, {"unmapped": "fixed"})
            ]
        if mode == "other-map" and um.get("url") and um["url"] not in seen:
            return other_map(um["url"], system, code, target_system, seen)
        return []


def _casefold_get(elements: dict[str, list[dict[str, Any]]], text: str) -> list[dict[str, Any]] | None:
    """Free-text sources: match element codes ignoring case and surrounding spaces."""
    want = text.strip().casefold()
    for k, v in elements.items():
        if k.casefold() == want:
            return v
    return None
