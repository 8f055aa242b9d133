"""Hardened XML parsing for adapters: no DTD, no entities, no network, bounded size.

OWASP XML External Entity Prevention: a DOCTYPE is refused outright, so neither external nor internal
entities (billion laughs) can be declared; libxml2 never loads a DTD or touches the network.
"""

from __future__ import annotations

import re
import threading

from lxml import etree

from hub.fhir.errors import InvalidInput, Issue

MAX_XML_BYTES = 20 * 1024 * 1024
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")


def _invalid(message: str, line: int | None = None, column: int | None = None) -> InvalidInput:
    return InvalidInput(message, [Issue("error", "structure", message, (), line, column)])


def _line_of(payload: bytes, offset: int) -> tuple[int, int]:
    head = payload[:offset]
    return head.count(b"\n") + 1, offset - (head.rfind(b"\n") + 1) + 1


_PARSERS = threading.local()  # building a parser costs more than parsing a small document; one per thread


def hardened_parser() -> etree.XMLParser:
    """This thread's lxml parser that never resolves entities, loads a DTD or touches the network."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = _new_parser()
    return parser


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse_xml(payload: bytes, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """The root element of `payload`; InvalidInput (with line/column) for oversized, DTD-bearing or malformed XML."""
    if len(payload) > max_bytes:
        raise _invalid(f"XML payload of {len(payload)} bytes exceeds the limit of {max_bytes} bytes")
    if not payload.strip():
        raise _invalid("empty payload: expected an XML document")
    # A DOCTYPE can only precede the root element; what the quick scan misses (e.g. UTF-16) the docinfo check catches.
    first = _FIRST_ELEMENT.search(payload)
    m = _DOCTYPE.search(payload, 0, first.start() if first else len(payload))
    if m:
        raise _invalid("DOCTYPE and ENTITY declarations are not allowed in XML input", *_line_of(payload, m.start()))
    try:
        tree = etree.fromstring(payload, hardened_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        where: tuple[int | None, int | None] = exc.position if exc.position else (exc.lineno, None)
        raise _invalid(f"malformed XML: {exc.msg}", *where) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise _invalid("DOCTYPE declarations are not allowed in XML input", 1)
    root = tree.getroot()
    for node in root.iter(etree.Entity):
        raise _invalid("entity references are not allowed in XML input", node.sourceline)
    return root


def local(tag: object) -> str:
    """The local part of an element tag (`{ns}name` → `name`); '' for comments and PIs."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: object) -> str:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return tag[1:].split("}", 1)[0]
