"""The chain's canonical JSON must stay byte-for-byte what chains were hashed with: sorted keys, compact
separators, UTF-8 without escapes (json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False))."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.audit import canonical_json

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text() | st.floats(allow_nan=False, allow_infinity=False, width=32),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=8).filter(lambda k: k not in ("id", "meta")), _JSON, max_size=6))
def test_canonical_json_is_the_documented_encoding(event) -> None:  # type: ignore[no-untyped-def]
    expected = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert canonical_json({**event, "id": "x", "meta": {"versionId": "1"}}) == expected
