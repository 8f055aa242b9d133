"""Terminology operations over HTTP: $lookup, $validate-code, $expand, $translate (GET and POST).

http://hl7.org/fhir/R4/terminology-service.html. Mounted by the app under `/fhir`; authentication is
added by the app as a router dependency. Errors are `hub.fhir.errors` exceptions answered here as an
OperationOutcome with their status, so the router also works on a bare FastAPI app.
`get_terminology_service` is the dependency tests override.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from hub.fhir.errors import FhirError, InvalidInput, NotFound
from hub.fhir.formats import media_type, negotiate, parse_body, render
from hub.terminology import default_service
from hub.terminology._parameters import (
    as_int,
    code_from,
    lookup_parameters,
    read_parameters,
    read_query,
    translate_parameters,
    validate_parameters,
)

router = APIRouter(tags=["terminology"])


def get_terminology_service() -> Any:
    """The service the routes use (the process-wide local one); override in tests."""
    return default_service()


def _fhir(request: Request, body: dict[str, Any], status: int = 200) -> Response:
    """JSON or XML by `_format` / `Accept` (hub.fhir.formats); JSON if XML rendering fails."""
    fmt = negotiate(request.query_params.get("_format"), request.headers.get("accept"))
    try:
        content = render(body, fmt, request.query_params.get("_pretty") == "true")
    except Exception:  # an XML model that refuses the dict must not hide the answer
        content, fmt = render(body, "json"), "json"
    return Response(content, status_code=status, media_type=media_type(fmt))


async def _params(request: Request) -> dict[str, Any]:
    params = read_query(request.query_params)
    if request.method == "POST":
        raw = await request.body()
        if raw.strip():
            params.update(read_parameters(parse_body(raw, request.headers.get("content-type"))))
    return params


async def _run(request: Request, op: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
    try:
        return _fhir(request, op(await _params(request)))
    except FhirError as e:
        return _fhir(request, e.outcome(), e.status)


def _instance_url(svc: Any, resource_type: str, id_: str) -> str:
    url = svc.url_for_id(resource_type, id_) if hasattr(svc, "url_for_id") else None
    if url is None:
        raise NotFound(f"{resource_type}/{id_} is not known")
    return url


# ---- CodeSystem/$lookup ---------------------------------------------------------------------------
def lookup(svc: Any, p: dict[str, Any]) -> dict[str, Any]:
    """http://hl7.org/fhir/R4/codesystem-operation-lookup.html"""
    system, code, version, _ = code_from(p)
    if not system or not code:
        raise InvalidInput("$lookup needs system and code (or coding)")
    result = svc.lookup(system, code, version)
    if result is None:
        raise NotFound(f"code {code} is not known in {system}")
    cs = svc.codesystem(system, version) if hasattr(svc, "codesystem") else None
    return lookup_parameters(result, getattr(cs, "title", None) or getattr(cs, "name", None))


@router.api_route("/CodeSystem/$lookup", methods=["GET", "POST"])
async def codesystem_lookup(request: Request, svc: Any = Depends(get_terminology_service)) -> Response:
    return await _run(request, lambda p: lookup(svc, p))


# ---- ValueSet/$validate-code ----------------------------------------------------------------------
def validate_code(svc: Any, p: dict[str, Any], url: str | None = None) -> dict[str, Any]:
    """http://hl7.org/fhir/R4/valueset-operation-validate-code.html"""
    url = url or p.get("url")
    system, code, _, display = code_from(p)
    if not code:
        raise InvalidInput("$validate-code needs code (or coding / codeableConcept)")
    if not url and isinstance(p.get("valueSet"), dict) and hasattr(svc, "validate_code_resource"):
        return validate_parameters(svc.validate_code_resource(p["valueSet"], system, code, display))
    if not url:
        raise InvalidInput("$validate-code needs url (or a valueSet resource)")
    if not svc.has_valueset(url):
        raise NotFound(f"ValueSet {url} is not known")
    return validate_parameters(svc.validate_code(url, system, code, display))


@router.api_route("/ValueSet/$validate-code", methods=["GET", "POST"])
async def valueset_validate_code(request: Request, svc: Any = Depends(get_terminology_service)) -> Response:
    return await _run(request, lambda p: validate_code(svc, p))


@router.api_route("/ValueSet/{vs_id}/$validate-code", methods=["GET", "POST"])
async def valueset_instance_validate_code(
    vs_id: str, request: Request, svc: Any = Depends(get_terminology_service)
) -> Response:
    return await _run(request, lambda p: validate_code(svc, p, _instance_url(svc, "ValueSet", vs_id)))


# ---- ValueSet/$expand -----------------------------------------------------------------------------
def expand(svc: Any, p: dict[str, Any], url: str | None = None) -> dict[str, Any]:
    """http://hl7.org/fhir/R4/valueset-operation-expand.html"""
    url = url or p.get("url")
    page = (p.get("filter") or None, as_int(p, "offset") or 0, as_int(p, "count"))
    if not url and isinstance(p.get("valueSet"), dict) and hasattr(svc, "expand_resource"):
        return svc.expand_resource(p["valueSet"], *page)
    if not url:
        raise InvalidInput("$expand needs url (or a valueSet resource)")
    if not svc.has_valueset(url):
        raise NotFound(f"ValueSet {url} is not known")
    return svc.expand(url, *page)


@router.api_route("/ValueSet/$expand", methods=["GET", "POST"])
async def valueset_expand(request: Request, svc: Any = Depends(get_terminology_service)) -> Response:
    return await _run(request, lambda p: expand(svc, p))


@router.api_route("/ValueSet/{vs_id}/$expand", methods=["GET", "POST"])
async def valueset_instance_expand(vs_id: str, request: Request, svc: Any = Depends(get_terminology_service)) -> Response:
    return await _run(request, lambda p: expand(svc, p, _instance_url(svc, "ValueSet", vs_id)))


# ---- ConceptMap/$translate ------------------------------------------------------------------------
def translate(svc: Any, p: dict[str, Any], url: str | None = None) -> dict[str, Any]:
    """http://hl7.org/fhir/R4/conceptmap-operation-translate.html (`target` = target value set)."""
    url = url or p.get("url")
    system, code, _, _ = code_from(p)
    if not code:
        raise InvalidInput("$translate needs code (or coding / codeableConcept)")
    if url is None and not system:
        raise InvalidInput("$translate needs system unless url names the ConceptMap")
    matches = svc.translate(system, code, url, p.get("targetsystem") or None)
    target_vs = p.get("target")
    if target_vs and hasattr(svc, "conceptmap"):
        matches = [m for m in matches if m.source and getattr(svc.conceptmap(m.source), "target_vs", None) == target_vs]
    return translate_parameters(matches)


@router.api_route("/ConceptMap/$translate", methods=["GET", "POST"])
async def conceptmap_translate(request: Request, svc: Any = Depends(get_terminology_service)) -> Response:
    return await _run(request, lambda p: translate(svc, p))


@router.api_route("/ConceptMap/{cm_id}/$translate", methods=["GET", "POST"])
async def conceptmap_instance_translate(
    cm_id: str, request: Request, svc: Any = Depends(get_terminology_service)
) -> Response:
    return await _run(request, lambda p: translate(svc, p, _instance_url(svc, "ConceptMap", cm_id)))
