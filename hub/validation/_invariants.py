"""Base invariants from `invariants.json`: compiled Python where available, else FHIRPath (parsed once).

Spec: http://hl7.org/fhir/R4/conformance-rules.html#constraints
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from hub.validation._compiled import COMPILED

Hook = Callable[[dict[str, Any], str, Any], None]


class FhirPathCheck:
    """One FHIRPath expression, compiled on first use; evaluates to True/False/None (error or empty)."""

    __slots__ = ("expression", "_fn")

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self._fn: Any = None

    def __call__(self, node: Any, resource: Any, root: Any) -> bool | None:
        if self._fn is None:
            import fhirpathpy
            from fhirpathpy.models import models

            self._fn = fhirpathpy.compile(self.expression, models["r4"])
        try:
            out = self._fn(node, {"resource": resource, "rootResource": root, "context": node})
        except Exception:  # noqa: BLE001 - fhirpathpy raises on some malformed values
            return None
        if not out:
            return False  # like the reference validator: a constraint must evaluate to true
        return all(v is True for v in out) if all(isinstance(v, bool) for v in out) else None


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return json.loads((Path(__file__).with_name("invariants.json")).read_text(encoding="utf-8"))


def make_check(key: str, severity: str, expression: str, human: str | None = None) -> Hook:
    """A hook reporting an 'invariant' issue when the rule fails on the element."""
    py = COMPILED.get(key)
    fp = None if py is not None else FhirPathCheck(expression)
    msg = f"{key}: {human or expression}"

    def hook(el: dict[str, Any], path: str, ctx: Any) -> None:
        ok = py(el) if py is not None else fp(el, ctx.current, ctx.root)  # type: ignore[misc]
        if ok is False:
            ctx.error("invariant", msg, path, severity)

    return hook


def chain(hooks: list[Hook]) -> Hook:
    if len(hooks) == 1:
        return hooks[0]

    def hook(el: dict[str, Any], path: str, ctx: Any) -> None:
        for h in hooks:
            h(el, path, ctx)

    return hook


def base_hooks() -> dict[str, list[Hook]]:
    """Invariant hooks by context (resource type, datatype or backbone key), from invariants.json."""
    out: dict[str, list[Hook]] = {}
    for inv in _data()["invariants"]:
        ctxname = inv["context"]
        if ctxname in ("DomainResource", "Reference"):
            continue  # dom-* and ref-1 are checked by the references pass
        out.setdefault(ctxname, []).append(make_check(inv["key"], inv["severity"], inv["expression"], inv.get("human")))
    return out
