"""Base R4 structure compiled from the `fhir.resources.R4B` models' field metadata into plain objects.

Each resource, datatype and backbone element becomes a `TypeDef` once (lazily, per type), so validation
walks dicts without building pydantic models. Spec: http://hl7.org/fhir/R4/elementdefinition.html
"""

from __future__ import annotations

import importlib
import types
import typing
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

PRIMITIVE_BY_MARKER = {
    "Id": "id", "String": "string", "Uri": "uri", "Url": "url", "Canonical": "canonical", "Code": "code",
    "Oid": "oid", "Uuid": "uuid", "Markdown": "markdown", "Xhtml": "xhtml", "Date": "date",
    "DateTime": "dateTime", "Instant": "instant", "Time": "time", "Decimal": "decimal", "Integer": "integer",
    "Integer64": "integer64", "PositiveInt": "positiveInt", "UnsignedInt": "unsignedInt",
    "Base64Binary": "base64Binary", "Boolean": "boolean",
}
PRIMITIVES = frozenset(PRIMITIVE_BY_MARKER.values())

PRIMITIVE, COMPLEX, RESOURCE = 0, 1, 2


@dataclass(slots=True)
class Field:
    """One element of a type: JSON name, kind, FHIR type, cardinality, required code list, reference targets."""

    name: str
    kind: int
    type: str  # primitive code, datatype name, backbone key ("AllergyIntolerance.reaction") or "Resource"
    many: bool
    required: bool
    enum: frozenset[str] | None = None
    ref_types: tuple[str, ...] | None = None
    choice: str | None = None
    attribute: bool = False  # an XML attribute (Extension.url, Element.id)
    check: Any = None  # the primitive format checker (set for primitives)
    td: Any = None  # the TypeDef of a complex element, filled on first use
    mode: int = 4  # walker dispatch: 0 single primitive, 1 repeating primitive, 2/3 single/repeating complex
    post: int = 0  # 1 Reference, 2 Extension: collected for the later passes
    ok: set[str] = field(default_factory=set)  # string values already found valid (a bounded memo)

    def __post_init__(self) -> None:
        if self.kind == PRIMITIVE:
            from hub.validation._primitives import CHECKERS

            self.check = CHECKERS[self.type]
            if self.type != "xhtml":
                self.mode = 1 if self.many else 0
        elif self.kind == COMPLEX:
            self.mode = 3 if self.many else 2
            self.post = 1 if self.type == "Reference" else 2 if self.type == "Extension" else 0


@dataclass(slots=True)
class TypeDef:
    """A resource, datatype or backbone element: its fields by JSON name, required names and choice groups."""

    name: str
    fields: dict[str, Field]
    required: tuple[str, ...]
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    is_resource: bool = False
    choices_required: tuple[str, ...] = ()


_MODEL_CACHE: dict[str, Any] = {}


def _model_class(dotted: str) -> Any:
    mod, _, cls = dotted.rpartition(".")
    return getattr(importlib.import_module(mod), cls)


@cache
def _resource_module_names() -> frozenset[str]:
    from importlib.resources import files

    import fhir.resources.R4B as pkg

    return frozenset(p.name[:-3] for p in files(pkg).iterdir() if p.name.endswith(".py"))


def model_for_type(name: str) -> Any | None:
    """The R4B model class for a resource or datatype name (e.g. 'AllergyIntolerance', 'CodeableConcept')."""
    if name in _MODEL_CACHE:
        return _MODEL_CACHE[name]
    cls = None
    if name[:1].isupper() and name.isalnum() and name.lower() in _resource_module_names():
        try:
            mod = importlib.import_module(f"fhir.resources.R4B.{name.lower()}")
            cls = getattr(mod, name, None)
        except ImportError:
            cls = None
    _MODEL_CACHE[name] = cls
    return cls


def is_resource_type(name: str) -> bool:
    cls = model_for_type(name)
    if cls is None:
        return False
    from fhir.resources.R4B.resource import Resource

    return issubclass(cls, Resource) and name not in ("Resource", "DomainResource")


def _unwrap(ann: Any) -> tuple[Any, bool, bool]:
    """(inner annotation, optional, many) for Optional[List[X]] style annotations."""
    optional = many = False
    while True:
        origin = typing.get_origin(ann)
        args = typing.get_args(ann)
        if origin in (typing.Union, types.UnionType):
            non_none = [a for a in args if a is not type(None)]
            if len(non_none) < len(args):
                optional = True
            ann = non_none[0]
            continue
        if origin in (list, typing.List):  # noqa: UP006
            many = True
            ann = args[0]
            continue
        return ann, optional, many


def _classify(ann: Any) -> tuple[int, str, Any]:
    """(kind, type name, model class or None) of an unwrapped annotation."""
    if typing.get_origin(ann) is typing.Annotated:
        for meta in ann.__metadata__:
            prim = PRIMITIVE_BY_MARKER.get(type(meta).__name__)
            if prim:
                return PRIMITIVE, prim, None
        return PRIMITIVE, "string", None
    if ann is bool:
        return PRIMITIVE, "boolean", None
    dotted = getattr(ann, "_model_klass", None)
    if dotted:
        cls = _model_class(dotted) if isinstance(dotted, str) else dotted
        if cls.__name__ in ("Resource",) or dotted.endswith("resource.Resource"):
            return RESOURCE, "Resource", None
        return COMPLEX, cls.__name__, cls
    return PRIMITIVE, "string", None


@lru_cache(maxsize=1)
def _overrides() -> dict[str, Any]:
    import json
    from pathlib import Path

    return json.loads(Path(__file__).with_name("r4_overrides.json").read_text(encoding="utf-8"))


_TYPEDEFS: dict[str, TypeDef | None] = {}
_BACKBONE_MODELS: dict[str, Any] = {}


def typedef(key: str) -> TypeDef | None:
    """The compiled TypeDef for a resource/datatype name or backbone key; None when unknown."""
    td = _TYPEDEFS.get(key, _MISSING)
    if td is not _MISSING:
        return td  # type: ignore[return-value]
    if "." in key and key not in _BACKBONE_MODELS:
        parent, _, _ = key.rpartition(".")
        typedef(parent)
    cls = _BACKBONE_MODELS.get(key) if "." in key else model_for_type(key)
    td = _compile(key, cls) if cls is not None else None
    _TYPEDEFS[key] = td
    return td


_MISSING: Any = object()


def _compile(key: str, cls: Any) -> TypeDef:
    from fhir.resources.R4B.backboneelement import BackboneElement
    from fhir.resources.R4B.resource import Resource

    fields: dict[str, Field] = {}
    required: list[str] = []
    choices: dict[str, list[str]] = {}
    choice_req: set[str] = set()
    for fname, finfo in cls.model_fields.items():
        extra = finfo.json_schema_extra or {}
        if not isinstance(extra, dict) or not extra.get("element_property"):
            continue
        ann, optional, many = _unwrap(finfo.annotation)
        kind, tname, sub = _classify(ann)
        jname = finfo.alias or fname
        if kind == COMPLEX and sub is not None and sub is not BackboneElement and model_for_type(sub.__name__) is not sub:
            bkey = f"{key}.{jname}"
            _BACKBONE_MODELS[bkey] = sub
            tname = bkey
        elif kind == COMPLEX and sub is not None and issubclass(sub, Resource):
            kind, tname = RESOURCE, "Resource"
        enum = extra.get("enum_values")
        added = _overrides()["enum_add"].get(f"{key}.{jname}")
        if enum and added:
            enum = list(enum) + list(added)
        refs = extra.get("enum_reference_types")
        choice = extra.get("one_of_many")
        is_required = (finfo.is_required() or bool(extra.get("element_required"))) and not choice
        f = Field(
            name=jname, kind=kind, type=tname, many=many, required=is_required,
            enum=frozenset(enum) if enum else None,
            ref_types=tuple(refs) if refs else None, choice=choice,
            attribute=(jname == "url" and cls.__name__ == "Extension") or (jname == "id" and not issubclass(cls, Resource)),
        )
        fields[jname] = f
        if is_required:
            required.append(jname)
        if choice:
            choices.setdefault(choice, []).append(jname)
            if extra.get("one_of_many_required"):
                choice_req.add(choice)
    is_res = issubclass(cls, Resource)
    return TypeDef(key, fields, tuple(required), {k: tuple(v) for k, v in choices.items()}, is_res, tuple(sorted(choice_req)))
