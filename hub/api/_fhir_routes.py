"""The FHIR REST routes under /fhir: each maps HTTP to one interaction in `hub.interactions`."""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.routing import Match

from hub.api._auth import bearer
from hub.api._responses import fhir_response
from hub.fhir.errors import InvalidInput, Issue, MethodNotAllowed, NotFound, PayloadTooLarge
from hub.fhir.formats import parse_body
from hub.interactions import (
    Caller,
    Result,
    create,
    delete,
    history,
    process_bundle,
    read,
    search,
    update,
    vread,
)

router = APIRouter()


@lru_cache(maxsize=512)
def _known_type(rtype: str) -> bool:
    from fhir.resources.R4B import get_fhir_model_class

    try:
        model = get_fhir_model_class(rtype)
    except (KeyError, ValueError):
        return False
    return "resourceType" in getattr(model, "model_fields", {}) or hasattr(model, "get_resource_type")


def _type(rtype: str) -> str:
    if not rtype[:1].isupper() or not _known_type(rtype):
        raise NotFound(f"unknown resource type {rtype!r}")
    return rtype


async def _body(request: Request) -> dict:
    hub = request.app.state.hub
    data = await request.body()
    if len(data) > hub.settings.max_body_bytes:
        raise PayloadTooLarge(f"request body over {hub.settings.max_body_bytes} bytes")
    return parse_body(data, request.headers.get("content-type"))


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def _none_match(header: str | None, etag: str | None) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): `W/"1"` and `"1"` match; `*` matches any."""
    if not header or not etag:
        return False
    ours = etag.removeprefix("W/")
    return any(t.strip() == "*" or t.strip().removeprefix("W/") == ours for t in header.split(","))


def _history_count(request: Request) -> int:
    """History takes `_count` (newest first, at most 1000); `_since`, `_at` and paging are not supported: 400."""
    count = 100
    for name, value in _pairs(request):
        if name == "_count" and value.isdigit():
            count = min(int(value), 1000)
        else:
            raise InvalidInput(f"unsupported history parameter {name}={value!r}",
                               [Issue("error", "not-supported", f"history supports only _count, not {name!r}", (name,))])
    return count


def _pairs(request: Request) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.query_params.multi_items() if k not in ("_format", "_pretty")]


@router.post("/fhir")
async def bundle_endpoint(request: Request, caller: Caller = Depends(bearer)) -> Response:
    body = await _body(request)
    return fhir_response(request, process_bundle(request.app.state.hub, caller, body, _base(request)))


@router.get("/fhir/_history")
def system_history(request: Request, caller: Caller = Depends(bearer)) -> Response:
    return fhir_response(request, history(request.app.state.hub, caller, None, None, count=_history_count(request), base=_base(request)))


@router.get("/fhir/{rtype}")
def search_get(rtype: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    return fhir_response(request, search(request.app.state.hub, caller, _type(rtype), _pairs(request), _base(request)))


@router.post("/fhir/{rtype}/_search")
async def search_post(rtype: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    form = await request.form()
    pairs = _pairs(request) + [(k, str(v)) for k, v in form.multi_items()]
    return fhir_response(request, search(request.app.state.hub, caller, _type(rtype), pairs, _base(request)))


@router.post("/fhir/{rtype}")
async def create_endpoint(rtype: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    _type(rtype)  # an unknown type is 404 whatever the body
    body = await _body(request)
    hub = request.app.state.hub
    result = create(hub, caller, _type(rtype), body, if_none_exist=request.headers.get("if-none-exist"), base=_base(request))
    return fhir_response(request, result)


@router.put("/fhir/{rtype}")
async def conditional_update_endpoint(rtype: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    from hub.interactions._conditional import conditional_update

    _type(rtype)
    body = await _body(request)
    result = conditional_update(request.app.state.hub, caller, _type(rtype), _pairs(request), body,
                                if_match=request.headers.get("if-match"), base=_base(request))
    return fhir_response(request, result)


@router.get("/fhir/{rtype}/_history")
def type_history(rtype: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    return fhir_response(request, history(request.app.state.hub, caller, _type(rtype), None, count=_history_count(request), base=_base(request)))


@router.get("/fhir/{rtype}/{rid}")
def read_endpoint(rtype: str, rid: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    result = read(request.app.state.hub, caller, _type(rtype), rid, _base(request))
    if _none_match(request.headers.get("if-none-match"), result.headers.get("ETag")):
        return Response(status_code=304, headers=result.headers)
    return fhir_response(request, result)


@router.put("/fhir/{rtype}/{rid}")
async def update_endpoint(rtype: str, rid: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    _type(rtype)
    body = await _body(request)
    result = update(request.app.state.hub, caller, _type(rtype), rid, body, if_match=request.headers.get("if-match"), base=_base(request))
    return fhir_response(request, result)


@router.delete("/fhir/{rtype}/{rid}")
def delete_endpoint(rtype: str, rid: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    result: Result = delete(request.app.state.hub, caller, _type(rtype), rid)
    if result.body is None:
        return Response(status_code=204, headers=result.headers)
    return fhir_response(request, result)


@router.get("/fhir/{rtype}/{rid}/_history")
def instance_history(rtype: str, rid: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    return fhir_response(request, history(request.app.state.hub, caller, _type(rtype), rid, count=_history_count(request), base=_base(request)))


@router.get("/fhir/{rtype}/{rid}/_history/{vid}")
def vread_endpoint(rtype: str, rid: str, vid: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    return fhir_response(request, vread(request.app.state.hub, caller, _type(rtype), rid, vid, _base(request)))


_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@router.api_route("/fhir/{rest:path}", methods=_ALL_METHODS, include_in_schema=False)
def unmatched(rest: str, request: Request) -> Response:
    """Registered last: any other /fhir path or method answers 404 or 405 as an OperationOutcome."""
    from hub.api._ops_routes import router as ops_router

    allowed = set()
    for route in [*router.routes, *ops_router.routes]:
        if getattr(route, "endpoint", None) is unmatched:
            continue
        match, _ = route.matches(request.scope)
        if match == Match.PARTIAL:
            allowed |= set(getattr(route, "methods", None) or ())
    if allowed:
        raise MethodNotAllowed(f"{request.method} is not supported on {request.url.path}; allowed: {', '.join(sorted(allowed))}")
    raise NotFound(f"no FHIR interaction at {request.url.path}")
