"""One Provenance per source document (http://hl7.org/fhir/R4/provenance.html): target the clinical
resource, the accountable professional (on behalf of the care unit) as author, the document as source entity.
"""

from __future__ import annotations

from typing import Any

from adapters._bundle import stable_id
from adapters.rivta_alert._header import Header
from hub.identity import HSA_SYSTEM

PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


def provenance(header: Header, target_url: str, source_ext: dict[str, Any] | None) -> dict[str, Any]:
    """The Provenance of the resource at `target_url`, translated from this header's document."""
    res: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": stable_id("Provenance", header.source_system, header.document_id),
    }
    if source_ext:
        res["extension"] = [source_ext]
    res["target"] = [{"reference": target_url}]
    if header.author_time:
        res["recorded"] = header.author_time
    unit = header.care_unit_ref()
    who = header.professional_ref() or unit
    agent: dict[str, Any] = {
        "type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "author", "display": "Author"}]},
        "who": who or {"type": "Device", "identifier": {"system": HSA_SYSTEM, "value": header.source_system}},
    }
    if unit and who is not unit:
        agent["onBehalfOf"] = unit
    res["agent"] = [agent]
    res["entity"] = [{"role": "source", "what": {"identifier": header.document_identifier}}]
    return res
