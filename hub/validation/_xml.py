"""FHIR XML → FHIR JSON dict, driven by the compiled base structure; the parser is hardened (no DTDs,
no entity expansion, no network). Spec: http://hl7.org/fhir/R4/xml.html
"""

from __future__ import annotations

from typing import Any

from hub.fhir.errors import Issue
from hub.validation._structure import COMPLEX, PRIMITIVE, RESOURCE, Field, TypeDef, is_resource_type, typedef

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"
_NUMBERS = {"integer", "integer64", "positiveInt", "unsignedInt"}


def parse_xml(data: bytes) -> tuple[dict[str, Any] | None, list[Issue]]:
    """Parse FHIR XML bytes into a JSON-shaped dict; syntax and mapping problems become issues."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, col = (exc.position if exc.position else (None, None))
        return None, [Issue("fatal", "structure", f"XML is not well-formed: {exc.msg}", (), line, col)]
    tree = root.getroottree()
    if tree.docinfo.doctype:
        return None, [Issue("fatal", "security", "DTDs are not allowed in FHIR XML", (), 1, 1)]
    issues: list[Issue] = []
    conv = _Converter(issues)
    res = conv.resource(root, "")
    return res, issues


class _Converter:
    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues

    def err(self, el: Any, msg: str, path: str, code: str = "structure") -> None:
        self.issues.append(Issue("error", code, msg, (path,) if path else (), getattr(el, "sourceline", None)))

    def resource(self, el: Any, path: str) -> dict[str, Any] | None:
        ns, local = _split(el.tag)
        if ns != FHIR_NS:
            self.err(el, f"element <{local}> is not in the FHIR namespace", path)
            return None
        if not is_resource_type(local):
            self.err(el, f"unknown resource type '{local}'", path)
            return None
        td = typedef(local)
        assert td is not None
        out: dict[str, Any] = {"resourceType": local}
        self.children(el, td, out, path or local)
        return out

    def children(self, el: Any, td: TypeDef, out: dict[str, Any], path: str) -> None:
        for attr, val in el.attrib.items():
            name = attr.rsplit("}", 1)[-1]
            f = td.fields.get(name)
            if f is not None and f.attribute:
                out[name] = val
            elif not (attr.startswith("{http://www.w3.org/2001/XMLSchema-instance}")):
                self.err(el, f"unknown attribute '{name}'", path)
        for child in el:
            if not isinstance(child.tag, str):
                continue
            ns, local = _split(child.tag)
            f = td.fields.get(local)
            p = f"{path}.{local}"
            if f is None or f.attribute or ns != (XHTML_NS if f.type == "xhtml" else FHIR_NS):
                self.err(child, f"unknown element '{local}'", p)
                continue
            value, ext = self.value(child, f, p)
            if f.many:
                out.setdefault(local, []).append(value)
                if f.kind == PRIMITIVE:
                    out.setdefault("_" + local, []).append(ext)
            else:
                if local in out or "_" + local in out:
                    self.err(child, f"element '{local}' may occur only once", p)
                    continue
                if value is not None:
                    out[local] = value
                if ext is not None:
                    out["_" + local] = ext
        for key in [k for k, v in out.items() if isinstance(v, list) and all(x is None for x in v)]:
            del out[key]

    def value(self, el: Any, f: Field, path: str) -> tuple[Any, Any]:
        if f.kind == PRIMITIVE:
            if f.type == "xhtml":
                from lxml import etree

                return etree.tostring(el, encoding="unicode", with_tail=False), None
            raw = el.get("value")
            ext: dict[str, Any] = {}
            if el.get("id") is not None:
                ext["id"] = el.get("id")
            el_td = typedef("Element")
            assert el_td is not None
            for child in el:
                if not isinstance(child.tag, str):
                    continue
                _, local = _split(child.tag)
                if local == "extension":
                    v, _ = self.value(child, el_td.fields["extension"], f"{path}.extension")
                    ext.setdefault("extension", []).append(v)
                else:
                    self.err(child, f"unknown element '{local}' in a primitive", f"{path}.{local}")
            for attr in el.attrib:
                if attr not in ("value", "id"):
                    self.err(el, f"unknown attribute '{attr}'", path)
            if raw is None:
                return None, ext  # no value: the walker reports ele-1 unless extensions are present
            return _typed(raw, f.type), (ext or None)
        if f.kind == RESOURCE:
            kids = [c for c in el if isinstance(c.tag, str)]
            if len(kids) != 1:
                self.err(el, "a resource element must contain exactly one resource", path)
                return None, None
            return self.resource(kids[0], path), None
        td = typedef(f.type)
        out: dict[str, Any] = {}
        if td is not None:
            self.children(el, td, out, path)
        return out, None


def _typed(raw: str, ftype: str) -> Any:
    """The JSON value of an XML value attribute (numbers and booleans stay strings when malformed)."""
    if ftype == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if ftype in _NUMBERS:
        try:
            return int(raw)
        except ValueError:
            return raw
    if ftype == "decimal":
        try:
            return int(raw) if raw.lstrip("-").isdigit() else float(raw)
        except ValueError:
            return raw
    return raw


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


__all__ = ["COMPLEX", "parse_xml"]
