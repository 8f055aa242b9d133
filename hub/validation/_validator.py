"""The Validator: holds StructureDefinitions (from `profiles/` and FHIR packages), compiles each profile
once, and runs the base pass, references, invariants and profiles for a resource.
Spec: http://hl7.org/fhir/R4/validation.html
"""

from __future__ import annotations

import copy
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.fhir.errors import Issue
from hub.validation._compiled import EXTRA_HOOKS
from hub.validation._custom import CUSTOM_CHECKS
from hub.validation._invariants import FhirPathCheck, Hook, base_hooks, chain
from hub.validation._profile_apply import ProfileRun
from hub.validation._profile_model import CORE_PREFIX, CompiledProfile, PNode, compile_elements, context_free
from hub.validation._references import check_references
from hub.validation._walker import Ctx, walk_resource


class Validator:
    """Validates FHIR resources (dicts) against the base R4 structure and the profiles it holds."""

    def __init__(self, terminology: Any | None = None) -> None:
        self._sds: dict[str, dict[str, Any]] = {}
        self._compiled: dict[str, CompiledProfile | None] = {}
        self._terminology = terminology
        self._code_cache: dict[tuple[str, str | None, str], bool | None] = {}
        self._fhirpath: dict[str, FhirPathCheck] = {}
        self._ext_cache: dict[tuple[str, bytes], list[tuple[str, str, str, str]]] = {}
        self.custom_checks: dict[str, Callable[[Any], bool]] = dict(CUSTOM_CHECKS)
        hooks: dict[str, list[Hook]] = base_hooks()
        from hub.validation._narrative import check_narrative

        hooks.setdefault("xhtml", []).append(check_narrative)
        from hub.validation._sdcheck import check_structure_definition

        hooks.setdefault("StructureDefinition", []).append(check_structure_definition)
        from hub.validation._bindings import base_binding_hooks

        for name, extra in base_binding_hooks(self._check_code).items():
            hooks.setdefault(name, []).extend(extra)
        for name, extra_hook in EXTRA_HOOKS.items():
            hooks.setdefault(name, []).append(extra_hook)
        self._hooks: dict[str, Hook] = {k: chain(v) for k, v in hooks.items()}

    # -- loading ---------------------------------------------------------------------------------
    def add_structure_definition(self, sd: dict[str, Any]) -> None:
        url = sd.get("url")
        if sd.get("resourceType") != "StructureDefinition" or not isinstance(url, str):
            raise ValueError("not a StructureDefinition with a url")
        self._sds[url] = sd
        self._compiled.clear()
        self._ext_cache.clear()

    def load_directory(self, path: str | Path) -> int:
        """Load every StructureDefinition JSON under a directory (recursively, skipping `examples/`)."""
        n = 0
        for f in sorted(Path(path).rglob("*.json")):
            if "examples" in f.relative_to(path).parts:
                continue
            try:
                data = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and data.get("resourceType") == "StructureDefinition":
                self.add_structure_definition(data)
                n += 1
        return n

    def load_package(self, path: str | Path, terminology: bool = True) -> int:
        """Load the StructureDefinitions of a FHIR NPM package (.tgz); returns how many. With `terminology`,
        its CodeSystems/ValueSets also go to the terminology service (when that service can load packages)."""
        if terminology:
            ts = self._terminology_service()
            loader = getattr(ts, "load_package", None)
            if callable(loader):
                loader(path)
                self._code_cache.clear()
        n = 0
        with tarfile.open(path, "r:gz") as tar:
            for member in tar.getmembers():
                if not member.isfile() or not member.name.endswith(".json"):
                    continue
                fh = tar.extractfile(member)
                if fh is None:
                    continue
                try:
                    data = json.loads(fh.read())
                except ValueError:
                    continue
                if isinstance(data, dict) and data.get("resourceType") == "StructureDefinition" and "url" in data:
                    self.add_structure_definition(data)
                    n += 1
        return n

    def profile_urls(self) -> list[str]:
        """Canonical URLs of the loaded resource profiles (not extensions or datatype profiles), sorted."""
        return sorted(u for u, sd in self._sds.items() if sd.get("kind") == "resource" and sd.get("derivation") == "constraint")

    def knows(self, url: str) -> bool:
        return url.split("|")[0] in self._sds

    def structure_definition(self, url: str) -> dict[str, Any] | None:
        return self._sds.get(url.split("|")[0])

    # -- compiling -------------------------------------------------------------------------------
    def compiled(self, url: str) -> CompiledProfile | None:
        """The compiled tree of a profile (merged over its base profiles); None when unknown."""
        url = url.split("|")[0]
        if url in self._compiled:
            return self._compiled[url]
        self._compiled[url] = None  # guards against cycles
        sd = self._sds.get(url)
        result = None
        if sd is not None:
            base = sd.get("baseDefinition")
            parent = self.compiled(base) if isinstance(base, str) and not base.startswith(CORE_PREFIX) else None
            root = copy.deepcopy(parent.root) if parent is not None else PNode(sd.get("type", ""))
            elements = (sd.get("differential") or {}).get("element") or (sd.get("snapshot") or {}).get("element") or []
            compile_elements(root, elements)
            _drop_base_minimums(root, sd.get("type", ""))
            root.prune()
            result = CompiledProfile(url, sd.get("type", ""), root, sd.get("name", ""), context_free(root))
        self._compiled[url] = result
        return result

    def snapshot(self, url: str) -> dict[str, Any] | None:
        """The StructureDefinition with a snapshot generated from its base and differential; None if unknown."""
        from hub.validation._snapshot import generate_snapshot

        sd = self._sds.get(url.split("|")[0])
        if sd is None:
            return None
        base = sd.get("baseDefinition")
        parent = self.snapshot(base) if isinstance(base, str) and base in self._sds and base != url else None
        return generate_snapshot(sd, parent)

    # -- validating ------------------------------------------------------------------------------
    def validate(self, resource: Any, profile: str | None = None) -> list[Issue]:
        """Every issue for the resource: base structure, invariants, references, known profiles."""
        try:
            return self._validate(resource, profile)
        except RecursionError:
            return [Issue("fatal", "too-costly", "the resource is nested too deeply to validate", ())]

    def _validate(self, resource: Any, profile: str | None) -> list[Issue]:
        ctx = Ctx(self._hooks)
        walk_resource(resource, "", ctx)
        if not isinstance(resource, dict) or not ctx.resources:
            return ctx.issues
        check_references(ctx)
        run = ProfileRun(ctx, self.compiled, self._check_code, self.custom_checks, self._fhirpath, self._ext_cache)
        for path, res, _parent, _how in list(ctx.resources):
            urls: list[str] = []
            meta = res.get("meta")
            if isinstance(meta, dict) and isinstance(meta.get("profile"), list):
                urls = [u for u in meta["profile"] if isinstance(u, str)]
            if profile is not None and res is resource:
                urls.append(profile)
            if len(urls) > 1:
                urls = self._without_ancestors(urls)
            for i, url in enumerate(urls):
                prof = self.compiled(url)
                if prof is None:
                    if url == profile and res is resource:
                        ctx.error("not-found", f"profile {url} is not known", path)
                    elif not url.startswith(CORE_PREFIX):
                        ctx.error("not-found", f"profile {url} is not known; not checked", f"{path}.meta.profile[{i}]", "warning")
                    continue
                if prof.type != res.get("resourceType"):
                    ctx.error("invalid", f"profile {url} constrains {prof.type}, not {res.get('resourceType')}", path)
                    continue
                ctx.current = ctx.root = res
                run.run(prof, res, path)
        self._extensions(ctx, run)
        return ctx.issues

    def _without_ancestors(self, urls: list[str]) -> list[str]:
        """Drop a profile when another listed profile derives from it (its rules are already included)."""
        covered: set[str] = set()
        for u in urls:
            sd = self._sds.get(u.split("|")[0])
            seen = 0
            while sd is not None and seen < 20:
                base = sd.get("baseDefinition")
                if not isinstance(base, str):
                    break
                covered.add(base)
                sd = self._sds.get(base)
                seen += 1
        return [u for u in urls if u.split("|")[0] not in covered]

    def _extensions(self, ctx: Ctx, run: ProfileRun) -> None:
        """Extensions not already checked through a profile slice: url form, and known definitions."""
        for path, ext in ctx.exts:
            url = ext.get("url")
            if not isinstance(url, str):
                continue
            if id(ext) in run.checked_ext:
                continue
            prof = self.compiled(url) if url in self._sds else None
            if prof is not None and prof.type == "Extension":
                run.item(prof.root, path, ext, url)
            elif ":" not in url and not _is_nested(path):
                ctx.error("structure", f"extension url '{url}' must be an absolute URI", path)

    def _terminology_service(self) -> Any:
        if self._terminology is None:
            from hub.terminology import default_service

            self._terminology = default_service()
        return self._terminology

    def _check_code(self, valueset: str, system: str | None, code: str) -> bool | None:
        key = (valueset, system, code)
        hit = self._code_cache.get(key, _MISSING)
        if hit is not _MISSING:
            return hit  # type: ignore[no-any-return]
        ts = self._terminology_service()
        result: bool | None
        if not ts.has_valueset(valueset):
            result = None
        else:
            result = bool(ts.validate_code(valueset, system, code).result)
        if len(self._code_cache) > 50_000:
            self._code_cache.clear()
        self._code_cache[key] = result
        return result


_MISSING: Any = object()


def _drop_base_minimums(node: PNode, type_key: str) -> None:
    """A profile min the base structure already enforces is not reported twice."""
    from hub.validation._structure import COMPLEX, typedef

    td = typedef(type_key)
    if td is None:
        return
    for name, child in node.children.items():
        f = td.fields.get(name)
        if f is None:
            continue
        if f.required and child.min == 1 and not child.slices:
            child.min = None
        if f.kind == COMPLEX:
            _drop_base_minimums(child, f.type)


def _is_nested(path: str) -> bool:
    """An extension inside a complex extension (relative url such as 'careGiver' is allowed there)."""
    parent = path.rsplit(".extension[", 1)[0]
    return parent.rsplit(".", 1)[-1].startswith("extension[")
