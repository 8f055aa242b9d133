"""Masking a protected person's Patient (domain.md section 5 rule 2), separate from deciding."""

from __future__ import annotations

import copy
from typing import Any

#: Elements removed: where the person lives and how to reach them. The narrative goes too, since it may
#: repeat them (http://hl7.org/fhir/R4/narrative.html).
MASKED_ELEMENTS = ("address", "telecom", "contact", "text")


def mask(resource: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `resource` without address, telecom, contact and narrative text."""
    return copy.deepcopy({k: v for k, v in resource.items() if k not in MASKED_ELEMENTS})
