"""OID ↔ URI resolution from NamingSystem resources (uniqueId of type `oid` and `uri`).

RIV-TA messages name code systems and identifier systems by OID; FHIR uses URIs
(http://hl7.org/fhir/R4/terminologies-systems.html). Unknown OIDs become `urn:oid:<oid>`.
"""

from __future__ import annotations

from typing import Any

_URN = "urn:oid:"


class NamingIndex:
    """Two dicts: OID → preferred URI and any known URI → OID."""

    def __init__(self) -> None:
        self._oid_to_uri: dict[str, str] = {}
        self._uri_to_oid: dict[str, str] = {}

    def add(self, ns: dict[str, Any]) -> None:
        oids, uris = [], []
        preferred_uri: str | None = None
        for uid in ns.get("uniqueId") or ():
            value = uid.get("value")
            if not value:
                continue
            if uid.get("type") == "oid":
                oids.append(value.removeprefix(_URN))
            elif uid.get("type") == "uri":
                uris.append(value)
                if uid.get("preferred") and preferred_uri is None:
                    preferred_uri = value
        if not oids:
            return
        preferred_uri = preferred_uri or next((u for u in uris if not u.startswith(_URN)), None) or (
            uris[0] if uris else None
        )
        for oid in oids:
            if preferred_uri:
                self._oid_to_uri[oid] = preferred_uri
            self._uri_to_oid.setdefault(_URN + oid, oid)
        for uri in uris:
            self._uri_to_oid[uri] = oids[0]

    def oid_to_uri(self, oid: str) -> str:
        bare = oid.strip().removeprefix(_URN)
        return self._oid_to_uri.get(bare, _URN + bare)

    def uri_to_oid(self, uri: str) -> str | None:
        uri = uri.strip()
        found = self._uri_to_oid.get(uri)
        if found:
            return found
        if uri.startswith(_URN):
            return uri[len(_URN):]
        return None
