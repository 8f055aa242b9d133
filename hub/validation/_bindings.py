"""Terminology bindings: required → error, extensible → warning, checked through the terminology
service (http://hl7.org/fhir/R4/terminologies.html#strength). Base required bindings on coded elements
the models do not carry come from `bindings.json`."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

CheckCode = Callable[[str, "str | None", str], "bool | None"]


def check_binding(ctx: Any, check_code: CheckCode, binding: tuple[str, str], path: str, v: Any) -> None:
    """Report when a code/Coding/CodeableConcept value is not in the bound value set."""
    strength, vs = binding
    codings: list[tuple[str | None, str]] = []
    if isinstance(v, str):
        codings = [(None, v)]
    elif isinstance(v, dict):
        if "coding" in v:
            codings = [(c.get("system"), c["code"]) for c in v.get("coding") or ()
                       if isinstance(c, dict) and isinstance(c.get("code"), str)]
        elif isinstance(v.get("code"), str):
            codings = [(v.get("system"), v["code"])]
    sev = "error" if strength == "required" else "warning"
    if not codings:
        if strength == "required":
            ctx.error("code-invalid", f"no code given, and a code from {vs} is required", path, sev)
        return
    results = [check_code(vs, s, c) for s, c in codings]
    if any(r is True for r in results):
        return
    if all(r is None for r in results):
        ctx.error("not-supported", f"value set {vs} is not known; codes not checked", path, "warning")
        return
    shown = ", ".join(f"{s}#{c}" if s else c for s, c in codings)
    ctx.error("code-invalid", f"code {shown} is not in the {strength} value set {vs}", path, sev)


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return json.loads(Path(__file__).with_name("bindings.json").read_text(encoding="utf-8"))


def base_binding_hooks(check_code: CheckCode) -> dict[str, list[Callable[[dict[str, Any], str, Any], None]]]:
    """Walker hooks by context (resource type or backbone key) for the base bindings in bindings.json."""
    by_context: dict[str, list[tuple[str, tuple[str, str]]]] = {}
    for b in _data()["bindings"]:
        context, _, element = b["path"].rpartition(".")
        by_context.setdefault(context, []).append((element, (b["strength"], b["valueSet"])))
    hooks: dict[str, list[Callable[[dict[str, Any], str, Any], None]]] = {}
    for context, items in by_context.items():
        def hook(el: dict[str, Any], path: str, ctx: Any, items: list[tuple[str, tuple[str, str]]] = items) -> None:
            for element, binding in items:
                v = el.get(element)
                if v is None:
                    continue
                if type(v) is list:
                    for i, x in enumerate(v):
                        check_binding(ctx, check_code, binding, f"{path}.{element}[{i}]", x)
                else:
                    check_binding(ctx, check_code, binding, f"{path}.{element}", v)
        hooks[context] = [hook]
    return hooks
