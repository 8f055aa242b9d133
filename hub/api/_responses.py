"""Rendering results and errors as FHIR JSON/XML responses; the one mapping of errors to HTTP."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from hub.fhir.errors import FhirError, InvalidInput, Issue, operation_outcome
from hub.fhir.formats import media_type, negotiate, render
from hub.interactions import Result

log = logging.getLogger("knutpunkt.api")


def response_format(request: Request) -> str:
    return negotiate(request.query_params.get("_format"), request.headers.get("accept"))


def fhir_response(request: Request, result: Result) -> Response:
    fmt = response_format(request)
    prefer = request.headers.get("prefer", "")
    body: dict[str, Any] | None = result.body
    if "return=minimal" in prefer and request.method in ("POST", "PUT"):
        body = None
    elif "return=OperationOutcome" in prefer and request.method in ("POST", "PUT"):
        body = operation_outcome([])
    pretty = request.query_params.get("_pretty") == "true"
    content = render(body, fmt, pretty) if body is not None else b""
    return Response(content=content, status_code=result.status, headers=result.headers, media_type=media_type(fmt) + "; charset=utf-8" if body is not None else None)


def error_response(request: Request, exc: FhirError) -> Response:
    fmt = response_format(request)
    headers = {"WWW-Authenticate": 'Bearer realm="knutpunkt"'} if exc.status == 401 else {}
    try:
        content = render(exc.outcome(), fmt)
    except Exception:
        content, fmt = render(exc.outcome(), "json"), "json"
    return Response(content=content, status_code=exc.status, headers=headers, media_type=media_type(fmt) + "; charset=utf-8")


async def fhir_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FhirError)
    return error_response(request, exc)


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    errors = getattr(exc, "errors", lambda: [])()
    issues = [Issue("error", "invalid", str(e.get("msg")), (".".join(str(x) for x in e.get("loc", ())),)) for e in errors] or None
    return error_response(request, InvalidInput("invalid request", issues))


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    err = FhirError("internal error", [Issue("fatal", "exception", f"internal error: {type(exc).__name__}")])
    return error_response(request, err)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (no route) as an OperationOutcome too."""
    status = int(getattr(exc, "status_code", 500))
    code = {404: "not-found", 405: "not-supported"}.get(status, "exception")
    err = FhirError(str(getattr(exc, "detail", "")) or "error", [Issue("error", code, f"{request.method} {request.url.path}: {getattr(exc, 'detail', '')}")])
    err.status = status
    return error_response(request, err)
