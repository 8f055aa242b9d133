"""The base-structure pass: walks a resource dict against compiled TypeDefs and collects every issue.

Rules: unknown elements, JSON arrays vs single values, primitive formats, cardinality (min 1),
choice types, required code lists, empty elements (ele-1). Spec: http://hl7.org/fhir/R4/json.html
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.fhir.errors import Issue
from hub.validation._structure import COMPLEX, PRIMITIVE, RESOURCE, Field, TypeDef, is_resource_type, typedef


class Ctx:
    """Issues collected for one validation run, plus the references and resources seen on the way."""

    __slots__ = ("issues", "refs", "resources", "hooks", "current", "root", "exts")

    def __init__(self, hooks: dict[str, Callable[[dict[str, Any], str, Ctx], None]]) -> None:
        self.issues: list[Issue] = []
        # (path, reference dict, allowed target types, index of the owning resource frame)
        self.refs: list[tuple[str, dict[str, Any], tuple[str, ...] | None, int]] = []
        # (path, resource dict, parent frame index or -1, how: "root" | "contained" | "entry" | "inline")
        self.resources: list[tuple[str, dict[str, Any], int, str]] = []
        self.hooks = hooks
        self.current: dict[str, Any] = {}
        self.root: dict[str, Any] = {}
        self.exts: list[tuple[str, dict[str, Any]]] = []

    def error(self, code: str, msg: str, path: str, severity: str = "error") -> None:
        self.issues.append(Issue(severity, code, msg, (path,)))


_MISSING: Any = object()
_RESOURCE_TD: dict[str, Any] = {}


def walk_resource(res: Any, path: str, ctx: Ctx, parent: int = -1, how: str = "root") -> None:
    """Validate one resource (and everything inside it) against the base structure."""
    if not isinstance(res, dict):
        ctx.error("structure", "a resource must be a JSON object", path)
        return
    rt = res.get("resourceType")
    if not isinstance(rt, str):
        ctx.error("structure", "resourceType is missing", path)
        return
    td = _RESOURCE_TD.get(rt, _MISSING)
    if td is _MISSING:
        td = _RESOURCE_TD[rt] = typedef(rt) if is_resource_type(rt) else None
    if td is None:
        ctx.error("structure", f"unknown resource type '{rt}'", path)
        return
    if parent == -1 and how == "root":
        path = rt
    frame = len(ctx.resources)
    ctx.resources.append((path, res, parent, how))
    outer, outer_root = ctx.current, ctx.root
    ctx.current = res
    if how != "contained":
        ctx.root = res
    _walk(res, td, path, ctx, frame)
    hook = ctx.hooks.get(rt)
    if hook is not None:
        hook(res, path, ctx)
    ctx.current, ctx.root = outer, outer_root


def _walk(obj: dict[str, Any], td: TypeDef, path: str, ctx: Ctx, frame: int) -> None:
    fields = td.fields
    seen_choice: set[str] | None = None
    for key, val in obj.items():
        f = fields.get(key)
        if f is None:
            if key == "resourceType" and td.is_resource:
                continue
            if key[:1] == "_":
                base = fields.get(key[1:])
                if base is not None and base.kind == PRIMITIVE:
                    _primitive_ext(base, val, obj.get(key[1:]), f"{path}.{key[1:]}", ctx, frame)
                    if base.choice is not None and key[1:] not in obj:
                        seen_choice = _choice_seen(seen_choice, base, td, path, ctx)
                    continue
            ctx.error("structure", f"unknown element '{key}'", f"{path}.{key}")
            continue
        if f.choice is not None:
            seen_choice = _choice_seen(seen_choice, f, td, path, ctx)
        mode = f.mode
        if mode == 0:  # single primitive; the path string is built only on error
            if type(val) is str and val in f.ok:
                continue
            if f.check(val) is None and (f.enum is None or val in f.enum):
                if type(val) is str and len(f.ok) < 512:
                    f.ok.add(val)  # values repeat (systems, codes): remember the valid ones
                continue
            if type(val) is list:
                ctx.error("structure", f"'{key}' must not be a JSON array", f"{path}.{key}")
            elif val is None:
                ctx.error("structure", "null is not a valid value", f"{path}.{key}")
            else:
                _primitive(f, val, f"{path}.{key}", ctx)
            continue
        if mode == 2:  # single complex
            if type(val) is dict and val and f.td is not None:
                p = f"{path}.{key}"
                _walk(val, f.td, p, ctx, frame)
                post = f.post
                if post == 1:
                    ctx.refs.append((p, val, f.ref_types, frame))
                elif post == 2:
                    ctx.exts.append((p, val))
                hook = ctx.hooks.get(f.type)
                if hook is not None:
                    hook(val, p, ctx)
                continue
            if type(val) is list:
                ctx.error("structure", f"'{key}' must not be a JSON array", f"{path}.{key}")
                continue
            _value(f, val, f"{path}.{key}", ctx, frame, td.name)
            continue
        p = f"{path}.{key}"
        if not f.many:  # xhtml, a single resource
            if type(val) is list:
                ctx.error("structure", f"'{key}' must not be a JSON array", p)
            elif f.kind == PRIMITIVE:
                if val is None:
                    ctx.error("structure", "null is not a valid value", p)
                else:
                    _primitive(f, val, p, ctx)
            else:
                _value(f, val, p, ctx, frame, td.name)
            continue
        if type(val) is not list:
            ctx.error("structure", f"'{key}' must be a JSON array", p)
            continue
        if not val:
            ctx.error("structure", f"array '{key}' must not be empty", p)
            continue
        if mode == 1:  # repeating primitive
            check, enum, ok = f.check, f.enum, f.ok
            for i, item in enumerate(val):
                if type(item) is str and item in ok:
                    continue
                if item is None:
                    ext = obj.get("_" + key)
                    if not (isinstance(ext, list) and i < len(ext) and ext[i] is not None):
                        ctx.error("structure", "null is only allowed where _element carries the value's id/extension", f"{p}[{i}]")
                    continue
                if check(item) is None and (enum is None or item in enum):
                    if type(item) is str and len(ok) < 512:
                        ok.add(item)
                    continue
                _primitive(f, item, f"{p}[{i}]", ctx)
        elif mode == 3 and f.td is not None:  # repeating complex
            sub, post, hooks = f.td, f.post, ctx.hooks
            hook = hooks.get(f.type)
            for i, item in enumerate(val):
                ip = f"{p}[{i}]"
                if type(item) is dict and item:
                    _walk(item, sub, ip, ctx, frame)
                    if post == 1:
                        ctx.refs.append((ip, item, f.ref_types, frame))
                    elif post == 2:
                        ctx.exts.append((ip, item))
                    if hook is not None:
                        hook(item, ip, ctx)
                else:
                    _value(f, item, ip, ctx, frame, td.name)
        else:
            for i, item in enumerate(val):
                _value(f, item, f"{p}[{i}]", ctx, frame, td.name)
    for name in td.required:
        if name not in obj and ("_" + name) not in obj:
            ctx.error("required", f"missing required element '{name}' (min 1)", path)
    for group in td.choices_required:
        if not any(n in obj or ("_" + n) in obj for n in td.choices[group]):
            ctx.error("required", f"missing required element '{group}[x]'", path)


def _choice_seen(seen: set[str] | None, f: Field, td: TypeDef, path: str, ctx: Ctx) -> set[str]:
    """Only one type of a choice element (value[x]) may appear."""
    if seen is None:
        seen = set()
    group = f.choice or ""
    if group in seen:
        ctx.error("structure", f"only one of {group}[x] is allowed (found another beside {f.name})", path)
    seen.add(group)
    return seen


def _primitive(f: Field, val: Any, path: str, ctx: Ctx) -> None:
    reason = f.check(val)
    if reason is not None:
        ctx.error("value", f"{f.type} value {_short(val)} {reason}", path)
        return
    if f.enum is not None and val not in f.enum:
        ctx.error("code-invalid", f"code '{val}' is not in the required value set ({', '.join(sorted(f.enum))})", path)
    elif f.type == "xhtml":
        hook = ctx.hooks.get("xhtml")
        if hook is not None:
            hook({"div": val}, path, ctx)


def _primitive_ext(f: Field, ext: Any, value: Any, path: str, ctx: Ctx, frame: int) -> None:
    """`_name`: the id/extensions of a primitive (arrays line up with the value array)."""
    el = typedef("Element")
    assert el is not None
    items = ext if f.many else [ext]
    if f.many and type(ext) is not list:
        ctx.error("structure", f"'_{f.name}' must be a JSON array", path)
        return
    if f.many and (type(value) is not list or len(value) != len(ext)):
        if value is not None:
            ctx.error("structure", f"'_{f.name}' must have as many items as '{f.name}'", path)
    for i, item in enumerate(items):
        p = f"{path}[{i}]" if f.many else path
        if item is None:
            if f.many and (type(value) is not list or i >= len(value) or value[i] is None):
                ctx.error("structure", "a null in both the value and '_' arrays", p)
            continue
        if type(item) is not dict:
            ctx.error("structure", "primitive extension must be a JSON object", p)
            continue
        has_value = value[i] is not None if f.many and type(value) is list and i < len(value) else value is not None
        if not item or ("extension" not in item and not has_value):
            ctx.error("invariant", "ele-1: all FHIR elements must have a @value or children", p)
            continue
        _walk(item, el, p, ctx, frame)


def _value(f: Field, val: Any, path: str, ctx: Ctx, frame: int, owner: str) -> None:
    kind = f.kind
    if kind == COMPLEX:
        if type(val) is not dict:
            ctx.error("structure", f"'{f.name}' must be a JSON object ({f.type})", path)
            return
        if not val:
            ctx.error("invariant", "ele-1: all FHIR elements must have a @value or children", path)
            return
        td = f.td
        if td is None:
            td = f.td = typedef(f.type)
            if td is None:
                return
        _walk(val, td, path, ctx, frame)
        t = f.type
        if f.post == 1:
            ctx.refs.append((path, val, f.ref_types, frame))
        elif f.post == 2:
            ctx.exts.append((path, val))
        hook = ctx.hooks.get(t)
        if hook is not None:
            hook(val, path, ctx)
    elif kind == RESOURCE:
        how = "contained" if f.name == "contained" else ("entry" if owner == "Bundle.entry" else "inline")
        walk_resource(val, path, ctx, frame, how)
    elif kind == PRIMITIVE:  # pragma: no cover - handled by the caller
        _primitive(f, val, path, ctx)


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."
