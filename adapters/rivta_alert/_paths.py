"""Namespaces of GetAlertInformation 2.0 and element paths used in issue expressions.

Paths are relative to GetAlertInformationResponse, e.g.
`alertInformation[1]/alertInformationBody/hypersensitivity/degreeOfSeverity`.
"""

from __future__ import annotations

from lxml import etree

from adapters._xml import local, namespace
from hub.fhir.errors import Issue

RESPONDER_NS = "urn:riv:clinicalprocess:healthcond:description:GetAlertInformationResponder:2"
CORE_NS = "urn:riv:clinicalprocess:healthcond:description:2"
RESPONSE = "GetAlertInformationResponse"


def core(name: str) -> str:
    return f"{{{CORE_NS}}}{name}"


def children(elem: etree._Element, name: str, ns: str = CORE_NS) -> list[etree._Element]:
    """Child elements named `name` in namespace `ns` (iterchildren: no path parsing, unlike findall)."""
    return list(elem.iterchildren(f"{{{ns}}}{name}"))


def child(elem: etree._Element | None, name: str) -> etree._Element | None:
    if elem is None:
        return None
    return next(elem.iterchildren(f"{{{CORE_NS}}}{name}"), None)


def text(elem: etree._Element | None, *names: str) -> str | None:
    """Stripped text of the core-namespace descendant reached through `names`; None when absent or empty."""
    for n in names:
        elem = child(elem, n)
    if elem is None or elem.text is None:
        return None
    return elem.text.strip() or None


def path(elem: etree._Element) -> str:
    """The element's path below the response element; `[n]` when siblings share its name."""
    steps: list[str] = []
    node: etree._Element | None = elem
    while node is not None and not (local(node.tag) == RESPONSE and namespace(node.tag) == RESPONDER_NS):
        parent = node.getparent()
        name = local(node.tag)
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1 or name == "alertInformation":
                name = f"{name}[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/".join(reversed(steps))


def issue(code: str, message: str, elem: etree._Element, sub: str | None = None) -> Issue:
    """An error Issue at `elem` (or at its missing child `sub`), with the element's source line."""
    where = path(elem)
    if sub:
        where = f"{where}/{sub}" if where else sub
    return Issue("error", code, message, (where,) if where else (), elem.sourceline)
