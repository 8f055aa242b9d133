"""Narrative XHTML basics: well-formed, an XHTML `div` root, only the allowed HTML subset, no scripts or
event attributes, some content (txt-1, txt-2). Spec: http://hl7.org/fhir/R4/narrative.html#xhtml
"""

from __future__ import annotations

import html.entities
import re
from typing import Any

XHTML_NS = "http://www.w3.org/1999/xhtml"
_ALLOWED = frozenset(
    "a abbr acronym address b bdo big blockquote br caption center cite code col colgroup dd del dfn div dl dt "
    "em font h1 h2 h3 h4 h5 h6 hr i img ins kbd li ol p pre q s samp small span strike strong sub sup table "
    "tbody td tfoot th thead tr tt u ul var".split()
)
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = frozenset({"lt", "gt", "amp", "quot", "apos"})


def _expand_html_entities(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in _XML_ENTITIES:
            return m.group(0)
        cp = html.entities.name2codepoint.get(name)
        return chr(cp) if cp is not None else m.group(0)

    return _ENTITY.sub(sub, text)


def narrative_problems(div: str) -> list[str]:
    """Reasons the XHTML is not acceptable narrative (empty list when fine)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(_expand_html_entities(div).encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        return [f"narrative is not well-formed XHTML: {exc}"]
    out: list[str] = []
    if root.tag != f"{{{XHTML_NS}}}div":
        out.append("narrative root must be a <div> in the XHTML namespace")
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        ns, _, local = el.tag[1:].partition("}") if el.tag.startswith("{") else ("", "", el.tag)
        if ns != XHTML_NS or local not in _ALLOWED:
            out.append(f"txt-1: element <{local}> is not allowed in narrative")
        for attr in el.attrib:
            name = attr.rsplit("}", 1)[-1].lower()
            if name.startswith("on"):
                out.append(f"txt-1: attribute '{name}' is not allowed in narrative")
            if name in ("href", "src") and str(el.attrib[attr]).strip().lower().startswith("javascript:"):
                out.append("txt-1: script URLs are not allowed in narrative")
    text = "".join(root.itertext()).strip()
    if not text and root.find(f".//{{{XHTML_NS}}}img") is None:
        out.append("txt-2: the narrative must have some non-whitespace content")
    return out


def check_narrative(el: dict[str, Any], path: str, ctx: Any) -> None:
    """Walker hook for every xhtml value."""
    div = el.get("div")
    if not isinstance(div, str):
        return
    for problem in narrative_problems(div):
        ctx.error("invariant", problem, path)
