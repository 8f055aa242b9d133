"""The bearer-token gate as a FastAPI dependency (a small callable class, configured once)."""

from __future__ import annotations

from fastapi import Request

from hub.fhir.errors import Unauthorized
from hub.interactions import Caller


class BearerAuth:
    """Verifies `Authorization: Bearer <JWT>` with the hub's key; 401 when absent or invalid."""

    async def __call__(self, request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("missing bearer token")
        hub = request.app.state.hub
        return Caller(hub.tokens.verify(token.strip()))


bearer = BearerAuth()
