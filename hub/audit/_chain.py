"""A tamper-evident hash chain over stored AuditEvents (each link hashes the event and the previous hash).

The hash covers the canonical JSON of the event without `id` and `meta`, which the store assigns after
hashing; keys sorted, no whitespace, UTF-8.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

#: The `prev_hash` of the first event of a chain.
GENESIS_HASH = "0" * 64
_UNHASHED = frozenset({"id", "meta"})


def canonical_json(event: dict[str, Any]) -> bytes:
    """Deterministic bytes of an event: sorted keys, compact separators, `id`/`meta` left out."""
    body = {k: v for k, v in event.items() if k not in _UNHASHED}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(prev_hash: str, event: dict[str, Any]) -> str:
    """sha256 hex of `prev_hash` (ASCII) + newline + the event's canonical JSON."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical_json(event))
    return digest.hexdigest()


def verify_chain(events_with_hashes: Iterable[tuple[dict[str, Any], str, str]]) -> list[int]:
    """Indexes of broken links in (event, prev_hash, hash) triples, in chain order.

    A link is broken when its hash does not match the event and prev_hash, or when its prev_hash is not
    the previous link's hash. The first triple's prev_hash is trusted (a chain may be checked from mid-way).
    """
    broken: list[int] = []
    previous: str | None = None
    for index, (event, prev_hash, stored) in enumerate(events_with_hashes):
        try:
            ok = chain_hash(prev_hash, event) == stored
        except (TypeError, ValueError, UnicodeEncodeError):
            ok = False
        if not ok or (previous is not None and prev_hash != previous):
            broken.append(index)
        previous = stored
    return broken
