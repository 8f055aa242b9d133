"""Reference and contained-resource rules, checked after the structure walk.

ref-1 and the target-type rule (http://hl7.org/fhir/R4/references.html), dom-2..dom-5 for contained
resources (http://hl7.org/fhir/R4/domainresource.html), and reference resolution inside Bundles by
fullUrl (http://hl7.org/fhir/R4/bundle.html#references).
"""

from __future__ import annotations

import re
from typing import Any

from hub.validation._walker import Ctx

_REL = re.compile(r"(?:(.*)/)?([A-Z][A-Za-z]+)/([A-Za-z0-9\-\.]{1,64})(?:/_history/([A-Za-z0-9\-\.]{1,64}))?")


def parse_reference(ref: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(base, type, id, version) of a RESTful reference; all None when it is not one."""
    m = _REL.fullmatch(ref)
    if not m:
        return None, None, None, None
    return m.group(1), m.group(2), m.group(3), m.group(4)


def _root_frame(ctx: Ctx, frame: int) -> int:
    """The resource that owns the contained group a frame belongs to."""
    while ctx.resources[frame][3] == "contained" and ctx.resources[frame][2] >= 0:
        frame = ctx.resources[frame][2]
    return frame


def check_references(ctx: Ctx) -> None:
    """Run ref-1, target types, dom-2..dom-5 and Bundle resolution over what the walk collected."""
    resources = ctx.resources
    referenced_local: dict[int, set[str]] = {}
    for path, ref, allowed, frame in ctx.refs:
        value = ref.get("reference")
        if not isinstance(value, str):
            continue
        root = _root_frame(ctx, frame)
        if value.startswith("#"):
            referenced_local.setdefault(root, set()).add(value[1:])
            if value == "#":
                continue
            target = _contained_by_id(resources[root][1], value[1:])
            if target is None:
                ctx.error("invariant", f"ref-1: no contained resource with id '{value[1:]}' for local reference", path)
            else:
                _check_type(ctx, path, target.get("resourceType"), allowed)
            continue
        _, rtype, _, _ = parse_reference(value)
        if rtype is not None:
            _check_type(ctx, path, rtype, allowed)
    for i, (path, res, _parent, how) in enumerate(resources):
        contained = res.get("contained")
        if how == "contained":
            if "contained" in res:
                ctx.error("invariant", "dom-2: a contained resource must not contain resources", path)
            meta = res.get("meta")
            if isinstance(meta, dict):
                if "versionId" in meta or "lastUpdated" in meta:
                    ctx.error("invariant", "dom-4: a contained resource must not have meta.versionId or meta.lastUpdated", path)
                if "security" in meta:
                    ctx.error("invariant", "dom-5: a contained resource must not have security labels", path)
        if isinstance(contained, list) and how != "contained":
            seen = referenced_local.get(i, set())
            for j, c in enumerate(contained):
                if not isinstance(c, dict):
                    continue
                cid = c.get("id")
                if not isinstance(cid, str):  # absent, or not a string (the structure walk reports that)
                    continue
                if cid not in seen and not _refers_to_container(c) and not _mentions(res, "#" + str(cid)):
                    ctx.error("invariant", f"dom-3: contained resource '{cid}' is not referenced from the resource",
                              f"{path}.contained[{j}]")
    _check_bundles(ctx)
    _check_parameters(ctx)


def _check_parameters(ctx: Ctx) -> None:
    """Inside a Parameters resource, relative references between its parameter resources must resolve
    to one of them (the Parameters is the whole context, like a Bundle)."""
    resources = ctx.resources
    members: dict[int, list[int]] = {}
    for i, (_, _res, parent, how) in enumerate(resources):
        if how == "inline" and parent >= 0 and resources[parent][1].get("resourceType") == "Parameters":
            members.setdefault(parent, []).append(i)
    if not members:
        return
    owner = {m: p for p, ms in members.items() for m in ms}
    for path, ref, _allowed, frame in ctx.refs:
        value = ref.get("reference")
        if not isinstance(value, str) or value.startswith("#"):
            continue
        base, rtype, rid, _ = parse_reference(value)
        if rtype is None or base is not None:
            continue
        member = _root_frame(ctx, frame)
        if member not in owner:
            continue
        found = any(resources[m][1].get("resourceType") == rtype and resources[m][1].get("id") == rid
                    for m in members[owner[member]])
        if not found:
            ctx.error("not-found", f"reference '{value}' does not resolve to a resource in the Parameters", path)


def _mentions(res: Any, token: str) -> bool:
    """Any string in the resource (canonical, uri, narrative) that refers to `#id`."""
    stack = [res]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(v for k, v in node.items() if k != "contained")
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and token in node:
            if node == token or f'"{token}"' in node or f"'{token}'" in node:
                return True
    return False


def _refers_to_container(res: Any) -> bool:
    stack = [res]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("reference") == "#":
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _contained_by_id(res: dict[str, Any], cid: str) -> dict[str, Any] | None:
    for c in res.get("contained") or ():
        if isinstance(c, dict) and c.get("id") == cid:
            return c
    return None


def _check_type(ctx: Ctx, path: str, rtype: Any, allowed: tuple[str, ...] | None) -> None:
    if not allowed or not isinstance(rtype, str) or "Resource" in allowed:
        return
    if rtype not in allowed:
        ctx.error("structure", f"reference to a {rtype} is not allowed here (allowed: {', '.join(allowed)})", path)


def _check_bundles(ctx: Ctx) -> None:
    resources = ctx.resources
    entries_of: dict[int, list[int]] = {}
    for i, (_, _, parent, how) in enumerate(resources):
        if how == "entry" and parent >= 0:
            entries_of.setdefault(parent, []).append(i)
    if not entries_of:
        return
    owner: dict[int, int] = {}
    for b, ids in entries_of.items():
        for e in ids:
            owner[e] = b
            full = _full_url(ctx, e)
            _, ftype, fid, _ = parse_reference(full) if full else (None, None, None, None)
            path, res = ctx.resources[e][0], ctx.resources[e][1]
            if fid is not None and (ftype != res.get("resourceType") or fid != res.get("id")):
                ctx.error("invalid", f"entry fullUrl '{full}' does not match the resource's type and id", path)
    for path, ref, allowed, frame in ctx.refs:
        value = ref.get("reference")
        if not isinstance(value, str) or value.startswith("#"):
            continue
        entry = _root_frame(ctx, frame)
        while entry >= 0 and entry not in owner:
            entry = resources[entry][2]
        if entry < 0:
            continue
        bundle = owner[entry]
        _resolve_in_bundle(ctx, path, value, allowed, bundle, entry, entries_of[bundle])


def _full_url(ctx: Ctx, frame: int) -> str | None:
    path, res, parent, _ = ctx.resources[frame]
    bundle = ctx.resources[parent][1]
    idx = int(path.rsplit("entry[", 1)[1].split("]", 1)[0])
    entry = (bundle.get("entry") or [])[idx]
    full = entry.get("fullUrl") if isinstance(entry, dict) else None
    return full if isinstance(full, str) else None


def _resolve_by_id(ctx: Ctx, path: str, rtype: str, rid: str | None, allowed: tuple[str, ...] | None,
                   entries: list[int]) -> None:
    """A relative reference from an entry without a RESTful fullUrl: an entry whose resource has that type
    and id, else an entry whose fullUrl is `urn:uuid:<id>`; nothing found = a server reference."""
    res = ctx.resources
    if any(res[e][1].get("resourceType") == rtype and res[e][1].get("id") == rid for e in entries):
        return
    for e in entries:
        if _full_url(ctx, e) == f"urn:uuid:{rid}":
            target = res[e][1].get("resourceType")
            if target != rtype:
                ctx.error("structure", f"reference '{rtype}/{rid}' resolves to the entry urn:uuid:{rid}, a {target}", path)
            else:
                _check_type(ctx, path, target, allowed)
            return


def _resolve_in_bundle(ctx: Ctx, path: str, value: str, allowed: tuple[str, ...] | None,
                       bundle: int, entry: int, entries: list[int]) -> None:
    base, rtype, rid, version = parse_reference(value)
    target_url = value
    if rtype is not None and base is None:
        own = _full_url(ctx, entry)
        obase = parse_reference(own)[0] if own else None
        if obase is None:
            _resolve_by_id(ctx, path, rtype, rid, allowed, entries)
            return
        target_url = f"{obase}/{rtype}/{rid}"
    elif rtype is not None:
        target_url = f"{base}/{rtype}/{rid}"
    matches = [e for e in entries if _full_url(ctx, e) == target_url]
    btype = ctx.resources[bundle][1].get("type")
    if not matches:
        if value.startswith("urn:") and btype in ("document", "message"):
            ctx.error("not-found", f"reference '{value}' does not resolve to an entry in the Bundle", path)
        elif version is not None and btype == "document":
            ctx.error("not-found", f"versioned reference '{value}' does not resolve in the document", path)
        return
    if version is not None:
        matches = [e for e in matches if (ctx.resources[e][1].get("meta") or {}).get("versionId") == version]
        if not matches:
            ctx.error("not-found", f"no entry with version '{version}' for reference '{value}'", path)
            return
    if len(matches) > 1:
        ctx.error("structure", f"reference '{value}' matches more than one Bundle entry", path)
        return
    _check_type(ctx, path, ctx.resources[matches[0]][1].get("resourceType"), allowed)
