"""The local terminology service: everything in memory, loaded from `terminology/`, extras and packages.

Operations follow http://hl7.org/fhir/R4/terminology-service.html ($lookup, $validate-code, $expand,
$translate). Value sets compile once into member dicts; any register/unregister drops the caches.
Extra sources: `KNUTPUNKT_TERMINOLOGY_EXTRA` (paths joined by `os.pathsep`: folders, `.tgz` packages or
JSON files); when it is unset, a `snomed-rf2` folder in the working directory (the default output of
`knutpunkt terminology import-rf2`) is loaded if present.
"""

from __future__ import annotations

import os
import threading
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from hub import paths
from hub.fhir.errors import InvalidInput, NotFound
from hub.terminology._codesystem import CodeSystemIndex
from hub.terminology._conceptmap import ConceptMapIndex
from hub.terminology._expansion import render_expansion
from hub.terminology._loader import TERMINOLOGY_TYPES, iter_package, iter_source
from hub.terminology._naming import NamingIndex
from hub.terminology._protocol import LookupResult, TranslateMatch, ValidateCodeResult
from hub.terminology._valueset import CompiledValueSet, CompileError, compile_valueset

EXTRA_ENV = "KNUTPUNKT_TERMINOLOGY_EXTRA"
DEFAULT_RF2_DIR = "snomed-rf2"
_FHIR_VS = "?fhir_vs"
_MEMO_MISSES = 10_000  # remembered non-member answers per value set
_ABSENT: Any = object()


def _split(url: str) -> tuple[str, str | None]:
    base, _, version = url.partition("|")
    return base, version or None


class LocalTerminologyService:
    """In-memory implementation of `TerminologyService` with register/unregister and package loading."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._cs: dict[str, dict[str | None, CodeSystemIndex]] = {}
        self._vs: dict[str, dict[str, Any]] = {}
        self._cm: dict[str, ConceptMapIndex] = {}
        self._ns: dict[str, dict[str, Any]] = {}
        self._naming = NamingIndex()
        self._compiled: dict[str, CompiledValueSet] = {}
        self._views: dict[str, CodeSystemIndex] = {}
        self._maps_by_source: dict[str | None, list[ConceptMapIndex]] | None = None

    # ---- loading -------------------------------------------------------------------------------
    def register(self, resource: dict[str, Any]) -> None:
        """Add or replace a CodeSystem, ValueSet, ConceptMap or NamingSystem (others are ignored)."""
        rt = resource.get("resourceType")
        if rt not in TERMINOLOGY_TYPES:
            return
        with self._lock:
            if rt == "NamingSystem":
                key = resource.get("url") or resource.get("name") or resource.get("id") or str(uuid.uuid4())
                self._ns[key] = resource
                self._naming.add(resource)
            elif not resource.get("url"):
                raise InvalidInput(f"{rt} without url cannot be registered")
            elif rt == "CodeSystem":
                idx = CodeSystemIndex.from_resource(resource)
                self._cs.setdefault(idx.url, {})[idx.version] = idx
            elif rt == "ValueSet":
                self._vs[resource["url"]] = resource
            else:
                self._cm[resource["url"]] = ConceptMapIndex(resource)
            self._invalidate()

    def unregister(self, resource_type: str, url: str) -> bool:
        """Remove a resource by type and canonical url (`url|version` removes one CodeSystem version)."""
        base, version = _split(url)
        with self._lock:
            removed = False
            if resource_type == "CodeSystem" and base in self._cs:
                versions = self._cs[base]
                if version is None:
                    del self._cs[base]
                    removed = True
                elif version in versions:
                    del versions[version]
                    removed = True
                    if not versions:
                        del self._cs[base]
            elif resource_type == "ValueSet":
                removed = self._vs.pop(base, None) is not None
            elif resource_type == "ConceptMap":
                removed = self._cm.pop(base, None) is not None
            elif resource_type == "NamingSystem":
                removed = self._ns.pop(base, None) is not None
                self._naming = NamingIndex()
                for ns in self._ns.values():
                    self._naming.add(ns)
            self._invalidate()
            return removed

    def _invalidate(self) -> None:
        self._compiled = {}
        self._views = {}
        self._maps_by_source = None

    def load_path(self, path: str | Path) -> int:
        """Register every terminology resource in a folder (recursive), package or JSON file; returns the count."""
        n = 0
        for res in iter_source(Path(path)):
            self.register(res)
            n += 1
        return n

    def load_package(self, path: str | Path) -> int:
        """Register the terminology resources of a FHIR NPM package tarball (`package/*.json`)."""
        n = 0
        for res in iter_package(Path(path)):
            self.register(res)
            n += 1
        return n

    # ---- code systems ----------------------------------------------------------------------------
    def codesystem(self, url: str, version: str | None = None) -> CodeSystemIndex | None:
        """The index for a system (all loaded versions/fragments merged when no version is given)."""
        base, v = _split(url)
        version = version or v
        versions = self._cs.get(base)
        if not versions:
            return None
        if version is not None:
            return versions.get(version)
        view = self._views.get(base)
        if view is None:
            parts = list(versions.values())
            view = parts[0] if len(parts) == 1 else CodeSystemIndex.merged(parts)
            self._views[base] = view
        return view

    def has_codesystem(self, url: str) -> bool:
        return _split(url)[0] in self._cs

    def lookup(self, system: str, code: str, version: str | None = None) -> LookupResult | None:
        cs = self.codesystem(system, version) or self.codesystem(self._canonical(system), version)
        return cs.lookup(code) if cs is not None else None

    def subsumes(self, system: str, code_a: str, code_b: str) -> bool | None:
        """True/False when a subsumes b in `system`; None when the system or a code is unknown."""
        cs = self.codesystem(system)
        if cs is None or code_a not in cs or code_b not in cs:
            return None
        return cs.subsumes(code_a, code_b)

    # ---- value sets --------------------------------------------------------------------------------
    def _vs_resource(self, url: str) -> dict[str, Any] | None:
        found = self._vs.get(url)
        if found is not None:
            return found
        if _FHIR_VS in url:  # implicit SNOMED-style value sets: <system>?fhir_vs[=isa/<code>]
            system, _, rest = url.partition(_FHIR_VS)
            include: dict[str, Any] = {"system": system}
            if rest.startswith("=isa/"):
                include["filter"] = [{"property": "concept", "op": "is-a", "value": rest[5:]}]
            elif rest:
                return None
            return {"resourceType": "ValueSet", "url": url, "status": "active", "compose": {"include": [include]}}
        for versions in self._cs.values():  # CodeSystem.valueSet: the "all codes" value set
            for idx in versions.values():
                if idx.value_set == url:
                    return {
                        "resourceType": "ValueSet", "url": url, "status": "active", "name": idx.name,
                        "compose": {"include": [{"system": idx.url}]},
                    }
        return None

    def has_valueset(self, url: str) -> bool:
        base = _split(url)[0]
        return base in self._compiled or base in self._vs or self._vs_resource(base) is not None

    def _canonical(self, system: str) -> str:
        """`urn:oid:` systems with a known URI (NamingSystem) → that URI; otherwise unchanged."""
        return self._naming.oid_to_uri(system) if system.startswith("urn:oid:") else system

    def compiled(self, url: str, _stack: tuple[str, ...] = ()) -> CompiledValueSet | None:
        """The compiled value set (cached), or None when unknown. Raises InvalidInput on cycles/bad filters."""
        base = _split(url)[0]
        got = self._compiled.get(base)
        if got is not None:
            return got
        with self._lock:
            vs = self._vs_resource(base)
            if vs is None:
                return None
            if base in _stack:
                raise InvalidInput(f"value set {base} includes itself")
            try:
                got = compile_valueset(vs, self.codesystem, lambda u: self.compiled(u, (*_stack, base)))
            except CompileError as e:
                raise InvalidInput(f"value set {base}: {e}") from e
            self._compiled[base] = got
            return got

    def _require(self, url: str) -> CompiledValueSet:
        got = self.compiled(url)
        if got is None:
            raise NotFound(f"ValueSet {url} is not known")
        return got

    def validate_code(
        self, valueset_url: str, system: str | None, code: str, display: str | None = None
    ) -> ValidateCodeResult:
        """Is (system, code) in the value set? Raises NotFound for an unknown value set."""
        vs = self._compiled.get(valueset_url)
        if vs is not None and display is None and system is not None:
            hit = vs.results.get((system, code))
            if hit is not None:
                return hit  # type: ignore[no-any-return]
        vs = vs or self._require(valueset_url)
        result = self._check(vs, system, code, display)
        if display is None and system is not None and len(vs.results) < len(vs.members) + _MEMO_MISSES:
            vs.results[(system, code)] = result
        return result

    def _check(self, vs: CompiledValueSet, system: str | None, code: str, display: str | None) -> ValidateCodeResult:
        if system is None:
            systems = vs.systems_for(code)
            if len(systems) != 1:
                msg = "no system given and the code is ambiguous" if systems else None
                return ValidateCodeResult(False, msg or f"code {code} is not in value set {vs.url}")
            system = systems[0]
        members = vs.members
        key = (system, code)
        shown = members.get(key, _ABSENT)
        if shown is _ABSENT and system not in vs.open_systems and system != self._canonical(system):
            system = self._canonical(system)  # e.g. urn:oid:1.2.752.116.2.1.1 → http://snomed.info/sct
            key = (system, code)
            shown = members.get(key, _ABSENT)
        if shown is not _ABSENT:
            if display is None:
                return ValidateCodeResult(True, None, shown)
            cs = self.codesystem(system)
            if (cs is not None and code in cs and cs.display_matches(code, display)) or (
                (cs is None or code not in cs) and (shown is None or _same(shown, display))
            ):
                return ValidateCodeResult(True, None, shown)
            return ValidateCodeResult(False, f"display '{display}' is not valid for {system}#{code}", shown)
        if system in vs.open_systems:
            cs = self.codesystem(system)
            if cs is not None and (cs.complete or code in cs):  # the loaded hierarchy decides
                return ValidateCodeResult(False, f"{system}#{code} is not in value set {vs.url}")
            return ValidateCodeResult(True, f"{system} is not fully available here; code {code} was not verified")
        return ValidateCodeResult(False, f"{system}#{code} is not in value set {vs.url}")

    def expand(
        self, valueset_url: str, filter: str | None = None, offset: int = 0, count: int | None = None
    ) -> dict[str, Any]:
        """A ValueSet with `expansion` (total, offset, contains); `filter` matches code or display text."""
        vs = self._require(valueset_url)
        return render_expansion(vs, self._vs_resource(vs.url) or {"url": vs.url}, filter, offset, count)

    def _compile_inline(self, resource: dict[str, Any]) -> CompiledValueSet:
        if resource.get("resourceType") != "ValueSet":
            raise InvalidInput("valueSet must be a ValueSet resource")
        try:
            return compile_valueset({"url": "", **resource}, self.codesystem, self.compiled)
        except CompileError as e:
            raise InvalidInput(f"value set: {e}") from e

    def expand_resource(
        self, resource: dict[str, Any], filter: str | None = None, offset: int = 0, count: int | None = None
    ) -> dict[str, Any]:
        """$expand of a ValueSet given inline (not registered, not cached)."""
        return render_expansion(self._compile_inline(resource), resource, filter, offset, count)

    def validate_code_resource(
        self, resource: dict[str, Any], system: str | None, code: str, display: str | None = None
    ) -> ValidateCodeResult:
        """$validate-code against a ValueSet given inline (not registered, not cached)."""
        return self._check(self._compile_inline(resource), system, code, display)

    # ---- concept maps --------------------------------------------------------------------------------
    def translate(
        self,
        system: str | None,
        code: str,
        conceptmap_url: str | None = None,
        target_system: str | None = None,
    ) -> list[TranslateMatch]:
        """Matches from one ConceptMap (by url) or from every map with a group for `system`
        (a `urn:oid:` system with a known URI is retried under that URI)."""
        found = self._translate(conceptmap_url, system, code, target_system, frozenset())
        if not found and system is not None and system != self._canonical(system):
            found = self._translate(conceptmap_url, self._canonical(system), code, target_system, frozenset())
        return found

    def _translate(
        self, url: str | None, system: str | None, code: str, target: str | None, seen: frozenset[str]
    ) -> list[TranslateMatch]:
        if url is not None:
            cm = self._cm.get(_split(url)[0])
            if cm is None:
                raise NotFound(f"ConceptMap {url} is not known")
            return cm.translate(system, code, target, self._translate, seen)
        out: list[TranslateMatch] = []
        for cm in self._maps_for(system):
            out.extend(cm.translate(system, code, target, self._translate, seen))
        return out

    def _maps_for(self, system: str | None) -> list[ConceptMapIndex]:
        idx = self._maps_by_source
        if idx is None:
            idx = {}
            for cm in self._cm.values():
                for s in cm.source_systems():
                    idx.setdefault(s, []).append(cm)
            self._maps_by_source = idx
        if system is None:
            return list(self._cm.values())
        return idx.get(system, [])

    def has_conceptmap(self, url: str) -> bool:
        return _split(url)[0] in self._cm

    def conceptmap(self, url: str) -> ConceptMapIndex | None:
        return self._cm.get(_split(url)[0])

    def url_for_id(self, resource_type: str, id_: str) -> str | None:
        """Canonical url of a loaded ValueSet or ConceptMap by its logical id (instance-level operations)."""
        if resource_type == "ValueSet":
            return next((u for u, r in self._vs.items() if r.get("id") == id_), None)
        if resource_type == "ConceptMap":
            return next((u for u, m in self._cm.items() if m.id == id_), None)
        return None

    # ---- identifiers -----------------------------------------------------------------------------------
    def oid_to_uri(self, oid: str) -> str:
        return self._naming.oid_to_uri(oid)

    def uri_to_oid(self, uri: str) -> str | None:
        return self._naming.uri_to_oid(uri)


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def extra_sources() -> list[Path]:
    """Extra terminology sources from `KNUTPUNKT_TERMINOLOGY_EXTRA`, else `./snomed-rf2` if it exists."""
    env = os.environ.get(EXTRA_ENV)
    if env is not None:
        return [Path(p) for p in env.split(os.pathsep) if p.strip()]
    default = Path.cwd() / DEFAULT_RF2_DIR
    return [default] if default.is_dir() else []


def build_local_service(extra: list[Path] | None = None) -> LocalTerminologyService:
    """A fresh service loaded from `hub.paths.terminology_dir()` and the extra sources."""
    svc = LocalTerminologyService()
    svc.load_path(paths.terminology_dir())
    for src in extra_sources() if extra is None else extra:
        svc.load_path(src)
    return svc


@lru_cache(maxsize=1)
def default_local_service() -> LocalTerminologyService:
    """The process-wide service (built on first use; `default_local_service.cache_clear()` resets it)."""
    return build_local_service()
