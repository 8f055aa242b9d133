"""Every example source converts, and its output passes the hub's validator against the Swedish profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters import get_adapter
from hub.validation import validate_resource

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CASES = [
    *(("rivta-alert", p) for p in sorted((EXAMPLES / "rivta").glob("*.xml"))),
    *(("hl7v2", p) for p in sorted((EXAMPLES / "hl7v2").glob("*.hl7"))),
    *(("fhir", p) for p in sorted((EXAMPLES / "fhir").glob("*.*"))),
]


def test_example_set_is_complete() -> None:
    rivta = [p for a, p in CASES if a == "rivta-alert"]
    assert len(rivta) >= 5
    text = "".join(p.read_text(encoding="utf-8") for p in rivta)
    for needle in ("195009072553", "196101182803", "199002222397", "111088007", "373568007", "obsoleteTime",
                   "soap/envelope", "1.2.752.129.2.2.3.1.1", "upp-ube"):
        assert needle in text


@pytest.mark.parametrize(("adapter", "path"), CASES, ids=lambda c: c if isinstance(c, str) else c.name)
def test_example_converts_to_valid_resources(adapter: str, path: Path) -> None:
    bundle = get_adapter(adapter).convert(path.read_bytes())
    assert bundle["entry"]
    for entry in bundle["entry"]:
        resource = entry["resource"]
        errors = [i for i in validate_resource(resource) if i.severity in ("error", "fatal")]
        assert not errors, (resource["resourceType"], [(i.expression, i.diagnostics) for i in errors])
        if resource["resourceType"] not in ("Patient",):
            ext = [e["url"] for e in resource.get("extension", [])]
            assert "https://knutpunkt.se/fhir/StructureDefinition/information-source" in ext
