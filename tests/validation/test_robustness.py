"""The validator reports problems as issues and never raises, whatever JSON it is given."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.paths import profiles_dir
from hub.validation import default_validator, validate_bytes

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(["#a", "Patient/1", "urn:uuid:x", "2024-02-30", "http://x", "upp", "careGiver"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["extension", "url", "valueCode", "reference", "coding", "code", "system", "value",
                         "resource", "entry", "contained", "id", "_code", "text", "div", "fullUrl", "x"]),
        children, max_size=4),
    max_leaves=12,
)
_EXAMPLES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((profiles_dir() / "examples").glob("*.json"))]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_EXAMPLES), st.sampled_from(["extension", "patient", "identifier", "category", "code",
                                                    "provision", "meta", "contained", "text", "reaction"]), _json)
def test_mutated_examples_never_raise(example: dict[str, Any], key: str, value: Any) -> None:
    res = copy.deepcopy(example)
    res[key] = value
    issues = default_validator().validate(res)
    assert isinstance(issues, list)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["Bundle", "Parameters", "Patient", "Consent", "StructureDefinition"]),
       st.dictionaries(st.sampled_from(["entry", "parameter", "contained", "type", "differential", "extension"]), _json, max_size=3))
def test_random_resources_never_raise(rtype: str, body: dict[str, Any]) -> None:
    issues = default_validator().validate({"resourceType": rtype, **body})
    assert isinstance(issues, list)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_never_raise(data: bytes) -> None:
    for fmt in ("json", "xml"):
        resource, issues = validate_bytes(data, fmt)
        assert resource is not None or issues


def test_deep_nesting_is_a_fatal_issue_not_a_crash() -> None:
    ext: dict[str, Any] = {"url": "http://example.org/x", "valueString": "leaf"}
    for _ in range(3000):
        ext = {"url": "http://example.org/x", "extension": [ext]}
    issues = default_validator().validate({"resourceType": "Patient", "extension": [ext]})
    assert [i.severity for i in issues] == ["fatal"]
