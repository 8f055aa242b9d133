"""Rules for StructureDefinition instances that constrain a type: element paths must exist in the base
(choice elements named `value[x]`, never a renamed `valueQuantity`), and profiles may not set default
values. Spec: http://hl7.org/fhir/R4/elementdefinition.html#interpretation, profiling.html#slicing
"""

from __future__ import annotations

from typing import Any

from hub.validation._compiled import eld_19
from hub.validation._structure import COMPLEX, typedef


def _check_path(path: str) -> str | None:
    """None when every segment of an ElementDefinition.path exists in the base structure, else the reason."""
    parts = path.split(".")
    td = typedef(parts[0])
    if td is None:
        return None  # a logical model or unknown type: nothing to check against
    for seg in parts[1:]:
        if td is None:
            return None
        if seg.endswith("[x]"):
            group = seg[:-3]
            names = td.choices.get(group)
            if not names:
                return f"'{seg}' is not a choice element here"
            return None  # type-specific children are checked against the chosen type elsewhere
        f = td.fields.get(seg)
        if f is None:
            return f"no element '{seg}' in {td.name}"
        if f.choice is not None:
            return f"choice element must be named '{f.choice}[x]' in the path, not '{seg}'"
        td = typedef(f.type) if f.kind == COMPLEX else None
    return None


def check_structure_definition(sd: dict[str, Any], path: str, ctx: Any) -> None:
    """Resource hook for StructureDefinition."""
    if sd.get("derivation") != "constraint" or sd.get("kind") == "logical":
        return
    for part in ("differential", "snapshot"):
        block = sd.get(part)
        if not isinstance(block, dict):
            continue
        for i, el in enumerate(block.get("element") or ()):
            if not isinstance(el, dict):
                continue
            where = f"{path}.{part}.element[{i}]"
            p = el.get("path")
            if isinstance(p, str) and eld_19(el):
                reason = _check_path(p)
                if reason is not None:
                    ctx.error("structure", f"element path {p}: {reason}", where)
            if any(k.startswith("defaultValue") for k in el):
                ctx.error("business-rule", "a profile must not define a default value", where)
