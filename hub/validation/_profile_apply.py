"""Checks a resource against a compiled profile tree: cardinality, fixed/pattern, slicing, bindings,
constraints, extension definitions and reference targets. Spec: http://hl7.org/fhir/R4/profiling.html
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.validation._bindings import check_binding
from hub.validation._invariants import FhirPathCheck
from hub.validation._profile_model import CompiledProfile, Constraint, PNode
from hub.validation._walker import Ctx

Items = list[tuple[str, Any]]


class ProfileRun:
    """State for applying profiles to one resource: the resolver for other profiles, terminology, checks."""

    def __init__(self, ctx: Ctx, resolve: Callable[[str], CompiledProfile | None],
                 check_code: Callable[[str, str | None, str], bool | None],
                 custom: dict[str, Callable[[Any], bool]], fhirpath: dict[str, FhirPathCheck],
                 ext_cache: dict[tuple[str, bytes], list[tuple[str, str, str, str]]] | None = None) -> None:
        self.ctx = ctx
        self.resolve = resolve
        self.check_code = check_code
        self.custom = custom
        self.fhirpath = fhirpath
        self.checked_ext: set[int] = set()
        self.ext_cache = ext_cache if ext_cache is not None else {}
        self.base_targets: dict[int, tuple[str, ...]] = {id(r): t for _, r, t, _ in ctx.refs if t}

    def run(self, profile: CompiledProfile, resource: dict[str, Any], path: str) -> None:
        self.item(profile.root, path, resource, profile.url)

    # -- one element value ---------------------------------------------------------------------
    def item(self, node: PNode, path: str, v: Any, purl: str) -> None:
        if not node.has_rules:
            if node.children and isinstance(v, dict):
                for name, child in node.children.items():
                    self.element(child, path, v, name, purl)
            return
        ctx = self.ctx
        if node.fixed is not None and v != node.fixed:
            ctx.error("value", f"value must be exactly {_short(node.fixed)} (profile {purl})", path)
        if node.pattern is not None and not matches_pattern(v, node.pattern):
            ctx.error("value", f"value must match the pattern {_short(node.pattern)} (profile {purl})", path)
        if node.binding is not None and node.binding[0] in ("required", "extensible"):
            self.binding(node.binding, path, v)
        for c in node.constraints:
            self.constraint(c, path, v)
        if node.target_types and isinstance(v, dict):
            self.target(node.target_types, path, v)
        if node.profiles and isinstance(v, dict) and "url" in v:
            for purl2 in node.profiles:
                prof = self.resolve(purl2)
                if prof is not None and prof.type == "Extension" and v.get("url") == purl2:
                    self.checked_ext.add(id(v))
                    self.extension(prof, path, v)
        if node.children and isinstance(v, dict):
            for name, child in node.children.items():
                self.element(child, path, v, name, purl)

    def extension(self, prof: CompiledProfile, path: str, v: dict[str, Any]) -> None:
        """Check an extension against its definition; results of context-free definitions are memoised
        by content (information-source extensions repeat across a care unit's resources)."""
        if not prof.context_free:
            self.item(prof.root, path, v, prof.url)
            return
        import orjson

        key = (prof.url, orjson.dumps(v))
        hit = self.ext_cache.get(key)
        if hit is not None:
            for sev, code, msg, rel in hit:
                self.ctx.error(code, msg, path + rel, sev)
            return
        issues = self.ctx.issues
        start = len(issues)
        self.item(prof.root, path, v, prof.url)
        found = issues[start:]
        if all(i.expression and i.expression[0].startswith(path) for i in found):
            if len(self.ext_cache) > 20_000:
                self.ext_cache.clear()
            self.ext_cache[key] = [(i.severity, i.code, i.diagnostics, i.expression[0][len(path):]) for i in found]

    # -- one element name under a parent value ------------------------------------------------
    def element(self, node: PNode, parent_path: str, parent: dict[str, Any], name: str, purl: str) -> None:
        if name[-1] != "]":
            v = parent.get(name)
            if v is None and ("_" + name) not in parent and not node.slices:
                if node.min:
                    self.cardinality(node, [], parent_path, name, purl)
                return
            if type(v) is not list and v is not None and not node.slices and not node.slicing and not node.max_set:
                self.item(node, f"{parent_path}.{name}", v, purl)
                return
        items = _items(parent, name, parent_path)
        if name[-1] == "]" and node.type_codes and items:
            allowed = {t[:1].upper() + t[1:] for t in node.type_codes}
            prefix = name[:-3]
            for p, _ in items:
                tname = p.rsplit(".", 1)[-1].split("[", 1)[0][len(prefix):]
                if tname not in allowed:
                    self.ctx.error("structure", f"type {tname} is not allowed for {name} (allowed: {', '.join(sorted(allowed))}; profile {purl})", p)
        self.cardinality(node, items, parent_path, name, purl)
        if node.slices or node.slicing:
            self.sliced(node, items, parent_path, name, purl)
        for p, v in items:
            self.item(node, p, v, purl)

    def cardinality(self, node: PNode, items: Items, parent_path: str, name: str, purl: str) -> None:
        n = len(items)
        if node.min is not None and n < node.min:
            self.ctx.error("required", f"{name}: minimum required = {node.min}, but only found {n} (profile {purl})",
                           parent_path)
        if node.max_set and node.max is not None and n > node.max:
            where = items[node.max][0] if node.max < n else parent_path
            self.ctx.error("structure", f"{name}: maximum allowed = {node.max}, but found {n} (profile {purl})", where)

    def sliced(self, node: PNode, items: Items, parent_path: str, name: str, purl: str) -> None:
        disc = (node.slicing or {}).get("discriminator") or []
        rules = (node.slicing or {}).get("rules", "open")
        by_slice: dict[str, Items] = {s: [] for s in node.slices}
        index = node.slice_index
        if index is None:
            index = node.slice_index = _slice_index(node, disc)
        for p, v in items:
            hit = None
            if index is not False:
                key = v.get(disc[0][1]) if isinstance(v, dict) else None
                hit = index.get(key) if isinstance(key, str) else None
            else:
                for sname, snode in node.slices.items():
                    if self.in_slice(snode, disc, v):
                        hit = sname
                        break
            if hit is None:
                if rules == "closed":
                    self.ctx.error("structure", f"{name}: element matches no slice and slicing is closed (profile {purl})", p)
            else:
                by_slice[hit].append((p, v))
        for sname, snode in node.slices.items():
            got = by_slice[sname]
            self.cardinality(snode, got, parent_path, f"{name}:{sname}", purl)
            for p, v in got:
                self.item(snode, p, v, purl)

    def in_slice(self, snode: PNode, disc: list[tuple[str, str]], v: Any) -> bool:
        if not disc:
            return snode.fixed is None and snode.pattern is None or matches_pattern(v, snode.pattern or snode.fixed)
        for dtype, dpath in disc:
            dpath = dpath or "$this"
            target = snode if dpath == "$this" else _descend(snode, dpath)
            values = [v] if dpath == "$this" else _values_at(v, dpath)
            if dtype in ("value", "pattern"):
                wants = _wanted(snode, dpath)
                if not wants:
                    continue
                if not any(matches_pattern(x, w) for x in values for w in wants):
                    return False
            elif dtype == "exists":
                must = target is not None and (target.min or 0) >= 1
                must_not = target is not None and target.max_set and target.max == 0
                if must and not values or must_not and values:
                    return False
            elif dtype == "type":
                codes = target.type_codes if target is not None else []
                if codes and not any(_type_of(x) in codes for x in values):
                    return False
            elif dtype == "profile":
                continue
        return True

    # -- rules ---------------------------------------------------------------------------------
    def binding(self, binding: tuple[str, str], path: str, v: Any) -> None:
        check_binding(self.ctx, self.check_code, binding, path, v)

    def constraint(self, c: Constraint, path: str, v: Any) -> None:
        if c.custom:
            fn = self.custom.get(c.custom)
            ok: bool | None = fn(v) if fn is not None else None
        elif c.expression:
            check = self.fhirpath.get(c.expression)
            if check is None:
                check = self.fhirpath[c.expression] = FhirPathCheck(c.expression)
            ok = check(v, self.ctx.current, self.ctx.root)
        else:
            return
        if ok is False:
            sev = "error" if c.severity == "error" else "warning"
            self.ctx.error("invariant", f"{c.key}: {c.human or c.expression}", path, sev)

    def target(self, types: list[str], path: str, v: dict[str, Any]) -> None:
        ref = v.get("reference")
        if not isinstance(ref, str) or ref.startswith("#") or "Resource" in types:
            return
        from hub.validation._references import parse_reference

        rtype = parse_reference(ref)[1]
        base_allowed = self.base_targets.get(id(v))
        if base_allowed and rtype not in base_allowed and "Resource" not in base_allowed:
            return  # already reported by the base pass
        if rtype is not None and rtype not in types:
            self.ctx.error("structure", f"reference to {rtype} is not allowed by the profile (allowed: {', '.join(types)})", path)


def _wanted(snode: PNode, dpath: str) -> list[Any]:
    """The fixed/pattern values a slice requires at the discriminator path (from the element there, or
    from a pattern on an element above it)."""
    if dpath == "$this":
        want = snode.fixed if snode.fixed is not None else snode.pattern
        return [want] if want is not None else []
    parts = dpath.split(".")
    node: PNode | None = snode
    for i in range(len(parts) + 1):
        if node is None:
            break
        here = node.fixed if node.fixed is not None else node.pattern
        if here is not None:
            rest = ".".join(parts[i:])
            return [here] if not rest else _values_at(here, rest)
        if i < len(parts):
            node = node.children.get(parts[i])
    if dpath == "url" and snode.profiles:
        return [snode.profiles[0]]
    return []


def _slice_index(node: PNode, disc: list[tuple[str, str]]) -> dict[str, str] | bool:
    """{value: slice} for the common case of one value discriminator on a direct string child (url, system)."""
    if len(disc) != 1 or disc[0][0] not in ("value", "pattern") or not disc[0][1] or "." in disc[0][1]:
        return False
    dpath = disc[0][1]
    index: dict[str, str] = {}
    for sname, snode in node.slices.items():
        target = snode.children.get(dpath)
        want = None
        if target is not None:
            want = target.fixed if target.fixed is not None else target.pattern
        if want is None and dpath == "url" and snode.profiles:
            want = snode.profiles[0]
        if not isinstance(want, str) or want in index:
            return False
        index[want] = sname
    return index


def _items(parent: dict[str, Any], name: str, parent_path: str) -> Items:
    keys: list[str]
    if name.endswith("[x]"):
        prefix = name[:-3]
        keys = [k for k in parent if k.startswith(prefix) and len(k) > len(prefix) and k[len(prefix)].isupper()]
    else:
        keys = [name]
    out: Items = []
    for k in keys:
        v = parent.get(k)
        if v is None:
            ext = parent.get("_" + k)
            if ext is not None:
                out.append((f"{parent_path}.{k}", ext))
            continue
        if type(v) is list:
            out.extend((f"{parent_path}.{k}[{i}]", x) for i, x in enumerate(v) if x is not None)
        else:
            out.append((f"{parent_path}.{k}", v))
    return out


def _descend(node: PNode, dpath: str) -> PNode | None:
    for part in dpath.split("."):
        if part.startswith("extension(") or part == "$this":
            continue
        nxt = node.children.get(part)
        if nxt is None:
            return None
        node = nxt
    return node


def _values_at(v: Any, dpath: str) -> list[Any]:
    cur = [v]
    for part in dpath.split("."):
        nxt: list[Any] = []
        for x in cur:
            if isinstance(x, dict):
                if part.endswith("[x]") or part not in x and any(k.startswith(part) for k in x):
                    pre = part[:-3] if part.endswith("[x]") else part
                    val = [x[k] for k in x if k.startswith(pre) and len(k) > len(pre) and k[len(pre)].isupper()]
                else:
                    val = [x.get(part)]
                for y in val:
                    if type(y) is list:
                        nxt.extend(y)
                    elif y is not None:
                        nxt.append(y)
        cur = nxt
    return cur


def _type_of(v: Any) -> str:
    if isinstance(v, dict):
        return str(v.get("resourceType", ""))
    return {bool: "boolean", int: "integer", float: "decimal", str: "string"}.get(type(v), "")


def matches_pattern(v: Any, pattern: Any) -> bool:
    """FHIR pattern[x] semantics: every property in the pattern is present with that value (lists: each
    pattern item matched by some instance item)."""
    if isinstance(pattern, dict):
        if not isinstance(v, dict):
            return False
        return all(k in v and matches_pattern(v[k], pv) for k, pv in pattern.items())
    if isinstance(pattern, list):
        if not isinstance(v, list):
            return False
        return all(any(matches_pattern(x, pv) for x in v) for pv in pattern)
    return v == pattern


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."
