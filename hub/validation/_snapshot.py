"""Snapshot generation: the base element list (from the compiled R4B structure) with a profile's
differential merged in, slices placed after the element they slice.
Spec: http://hl7.org/fhir/R4/profiling.html#snapshot, elementdefinition.html
"""

from __future__ import annotations

import copy
from typing import Any

from hub.validation._structure import COMPLEX, PRIMITIVE, RESOURCE, Field, typedef


def _type_code(f: Field) -> str:
    if f.kind == PRIMITIVE:
        return f.type
    if f.kind == RESOURCE:
        return "Resource"
    return "BackboneElement" if "." in f.type else f.type


def _element(path: str, eid: str, f: Field, types: list[str]) -> dict[str, Any]:
    el: dict[str, Any] = {"id": eid, "path": path, "min": 1 if f.required else 0, "max": "*" if f.many else "1",
                          "type": [{"code": t} for t in types]}
    if f.enum:
        el["binding"] = {"strength": "required"}
    if f.ref_types:
        el["type"] = [{"code": "Reference",
                       "targetProfile": [f"http://hl7.org/fhir/StructureDefinition/{t}" for t in f.ref_types]}]
    return el


def base_elements(type_key: str, path: str, eid: str, out: list[dict[str, Any]]) -> None:
    """Elements below a type: resources and backbones recursively; datatypes stop at their own elements."""
    td = typedef(type_key)
    if td is None:
        return
    done: set[str] = set()
    for name, f in td.fields.items():
        if f.choice is not None:
            if f.choice in done:
                continue
            done.add(f.choice)
            members = [td.fields[n] for n in td.choices[f.choice]]
            types = [_type_code(m) for m in members]
            cname = f"{f.choice}[x]"
            out.append(_element(f"{path}.{cname}", f"{eid}.{cname}", f, types))
            continue
        out.append(_element(f"{path}.{name}", f"{eid}.{name}", f, [_type_code(f)]))
        if f.kind == COMPLEX and "." in f.type:
            base_elements(f.type, f"{path}.{name}", f"{eid}.{name}", out)


def generate_snapshot(sd: dict[str, Any], base_sd: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of the StructureDefinition with `snapshot` generated from the base and the differential(s)."""
    rtype = sd.get("type", "")
    if base_sd is not None and (base_sd.get("snapshot") or {}).get("element"):
        elements = copy.deepcopy(base_sd["snapshot"]["element"])
    else:
        elements = [{"id": rtype, "path": rtype, "min": 0, "max": "*"}]
        base_elements(rtype, rtype, rtype, elements)
    for diff in (sd.get("differential") or {}).get("element") or ():
        _merge(elements, diff, rtype)
    out = copy.deepcopy(sd)
    out["snapshot"] = {"element": elements}
    return out


def _index(elements: list[dict[str, Any]], eid: str) -> int:
    for i, el in enumerate(elements):
        if el.get("id") == eid:
            return i
    return -1


def _subtree_end(elements: list[dict[str, Any]], i: int) -> int:
    """Index just after element i and everything below it (children and slices)."""
    eid = elements[i]["id"]
    j = i + 1
    while j < len(elements) and (elements[j]["id"].startswith(eid + ".") or elements[j]["id"].startswith(eid + ":")):
        j += 1
    return j


def _ensure(elements: list[dict[str, Any]], eid: str, rtype: str) -> int:
    """Index of the element with this id, creating it (slice or datatype child) when needed; -1 if impossible."""
    i = _index(elements, eid)
    if i >= 0:
        return i
    head, sep, last = eid.rpartition(".")
    if not sep:
        return -1
    name, colon, slice_name = last.partition(":")
    if colon:
        plain = f"{head}.{name}"
        pi = _ensure(elements, plain, rtype)
        if pi < 0:
            return -1
        end = _subtree_end(elements, pi)
        el = {k: copy.deepcopy(v) for k, v in elements[pi].items() if k not in ("slicing",)}
        el["id"], el["sliceName"] = eid, slice_name
        elements.insert(end, el)
        return end
    pi = _ensure(elements, head, rtype)
    if pi < 0:
        return -1
    parent = elements[pi]
    codes = [t.get("code") for t in parent.get("type") or ()]
    if len(codes) == 1 and codes[0] and codes[0][:1].isupper() and codes[0] not in ("BackboneElement", "Resource"):
        kids: list[dict[str, Any]] = []
        base_elements(codes[0], parent["path"], parent["id"], kids)
        end = _subtree_end(elements, pi)
        elements[end:end] = [k for k in kids if _index(elements, k["id"]) < 0]
    return _index(elements, eid)


def _merge(elements: list[dict[str, Any]], diff: dict[str, Any], rtype: str) -> None:
    eid = diff.get("id") or diff.get("path")
    if not isinstance(eid, str):
        return
    i = _ensure(elements, eid, rtype)
    if i < 0:
        elements.append(copy.deepcopy(diff))
        return
    target = elements[i]
    for key, value in diff.items():
        if key == "constraint":
            target["constraint"] = target.get("constraint", []) + copy.deepcopy(value)
        elif key not in ("id",):
            target[key] = copy.deepcopy(value)
