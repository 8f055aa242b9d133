"""Authentication for the operator web pages: the bearer header, or for a browser a `knutpunkt_token`
cookie set by the page's token form (the same hub-signed JWT either way)."""

from __future__ import annotations

from fastapi import Request

from hub.fhir.errors import Unauthorized
from hub.interactions import Caller

COOKIE = "knutpunkt_token"


def browser_caller(request: Request) -> Caller | None:
    """The caller from header or cookie; None when no token was given; 401 when one is invalid."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else request.cookies.get(COOKIE, "")
    if not token:
        return None
    try:
        return Caller(request.app.state.hub.tokens.verify(token))
    except Unauthorized:
        return None
