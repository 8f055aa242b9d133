"""Locate GetAlertInformationResponse: the document root, or the payload of a SOAP 1.1 / 1.2 Body.

SOAP 1.1 (http://www.w3.org/TR/2000/NOTE-SOAP-20000508/) and SOAP 1.2 (https://www.w3.org/TR/soap12-part1/);
a Fault in the Body is reported as invalid input carrying the fault text.
"""

from __future__ import annotations

from lxml import etree

from adapters._xml import local, namespace
from adapters.rivta_alert._paths import RESPONDER_NS, RESPONSE
from hub.fhir.errors import InvalidInput, Issue

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


def _fail(message: str, elem: etree._Element, where: str) -> InvalidInput:
    return InvalidInput(message, [Issue("error", "structure", message, (where,), elem.sourceline)])


def find_response(root: etree._Element) -> etree._Element:
    """The GetAlertInformationResponse element, bare or enveloped; InvalidInput otherwise."""
    elem = root
    if local(root.tag) == "Envelope" and namespace(root.tag) in (SOAP11, SOAP12):
        soap = namespace(root.tag)
        bodies = [c for c in root if c.tag == f"{{{soap}}}Body"]
        if len(bodies) != 1:
            raise _fail("SOAP Envelope must contain exactly one Body", root, "Envelope/Body")
        payload = [c for c in bodies[0] if isinstance(c.tag, str)]
        if len(payload) != 1:
            raise _fail(f"SOAP Body must contain exactly one element (found {len(payload)})", bodies[0], "Envelope/Body")
        elem = payload[0]
        if local(elem.tag) == "Fault" and namespace(elem.tag) == soap:
            reason = " ".join(t.strip() for t in elem.itertext() if t.strip())
            raise _fail(f"the source returned a SOAP Fault: {reason}", elem, "Envelope/Body/Fault")
    if local(elem.tag) != RESPONSE or namespace(elem.tag) != RESPONDER_NS:
        raise _fail(
            f"expected {RESPONSE} in namespace {RESPONDER_NS}, found '{local(elem.tag)}'"
            f" in namespace '{namespace(elem.tag)}'",
            elem,
            local(elem.tag),
        )
    return elem
