"""Operations and hub endpoints that are not plain CRUD: metadata, $validate, ingest, health, metrics."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import func, select, text

from hub.api._auth import bearer
from hub.api._capability import capability_statement
from hub.api._fhir_routes import _base, _body, _type
from hub.api._responses import fhir_response
from hub.fhir.errors import Issue, NotFound, PayloadTooLarge, operation_outcome
from hub.fhir.formats import parse_body
from hub.interactions import Caller, Result, read
from hub.store import Delivery

router = APIRouter()
_STARTED = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@router.get("/fhir/metadata")
def metadata(request: Request) -> Response:
    return fhir_response(request, Result(200, capability_statement(_base(request), _STARTED)))


def _validate(request: Request, resource: dict, profile: str | None) -> Response:
    from hub.validation import validate_resource

    issues = validate_resource(resource, profile)
    return fhir_response(request, Result(200, operation_outcome(issues)))


def _unwrap_parameters(body: dict) -> tuple[dict, str | None]:
    """`$validate` takes the resource directly or as Parameters (resource, profile)."""
    if body.get("resourceType") != "Parameters":
        return body, None
    resource, profile = None, None
    for p in body.get("parameter", []) or []:
        if p.get("name") == "resource":
            resource = p.get("resource")
        elif p.get("name") == "profile":
            profile = p.get("valueUri") or p.get("valueCanonical") or p.get("valueString")
    if resource is None:
        from hub.fhir.errors import InvalidInput

        raise InvalidInput("missing resource", [Issue("error", "required", "Parameters needs a 'resource' parameter", ("Parameters.parameter",))])
    return resource, profile


@router.post("/fhir/{rtype}/$validate")
async def validate_type(rtype: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    _type(rtype)
    resource, profile = _unwrap_parameters(await _body(request))
    return _validate(request, resource, profile or request.query_params.get("profile"))


@router.api_route("/fhir/{rtype}/{rid}/$validate", methods=["GET", "POST"])
async def validate_instance(rtype: str, rid: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    hub = request.app.state.hub
    profile = request.query_params.get("profile")
    data = await request.body()
    if data:
        resource, p2 = _unwrap_parameters(parse_body(data, request.headers.get("content-type")))
        profile = profile or p2
    else:
        resource = read(hub, caller, _type(rtype), rid).body or {}
    return _validate(request, resource, profile)


@router.post("/ingest/{adapter}")
async def ingest_endpoint(adapter: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    from adapters import adapter_names
    from hub.ingest import ingest

    if adapter not in adapter_names():
        raise NotFound(f"unknown adapter {adapter!r}; known: {', '.join(adapter_names())}")
    hub = request.app.state.hub
    data = await request.body()
    if len(data) > hub.settings.max_body_bytes:
        raise PayloadTooLarge(f"payload over {hub.settings.max_body_bytes} bytes")
    return fhir_response(request, ingest(hub, caller, adapter, data, _base(request)))


@router.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> Response:
    hub = request.app.state.hub
    checks: dict[str, str] = {}
    try:
        with hub.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"down: {type(exc).__name__}"
    if hub.settings.broker_url:
        try:
            import redis

            redis.Redis.from_url(hub.settings.broker_url, socket_connect_timeout=2).ping()
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"down: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    import orjson

    return Response(orjson.dumps({"status": "ok" if ok else "unavailable", "checks": checks}), status_code=200 if ok else 503, media_type="application/json")


@router.get("/metrics")
def metrics(request: Request) -> PlainTextResponse:
    hub = request.app.state.hub
    lines = []
    with hub.store.transaction() as s:
        rows = s.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        oldest = s.execute(select(func.min(Delivery.created_at)).where(Delivery.status.in_(("pending", "sending")))).scalar()
    lines.append("# HELP knutpunkt_deliveries Deliveries by status.")
    lines.append("# TYPE knutpunkt_deliveries gauge")
    for status, n in rows:
        lines.append(f'knutpunkt_deliveries{{status="{status}"}} {n}')
    age = 0.0
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        age = (datetime.now(UTC) - oldest).total_seconds()
    lines.append("# HELP knutpunkt_oldest_pending_delivery_seconds Age of the oldest pending delivery.")
    lines.append("# TYPE knutpunkt_oldest_pending_delivery_seconds gauge")
    lines.append(f"knutpunkt_oldest_pending_delivery_seconds {age:.3f}")
    from hub.routing import subscribers

    gauges = {
        "open": ("knutpunkt_subscriber_open", "Deliveries not yet finished, per subscriber."),
        "dead": ("knutpunkt_subscriber_dead_letters", "Dead letters, per subscriber."),
        "paused": ("knutpunkt_subscriber_paused", "1 when the subscriber is paused."),
        "error": ("knutpunkt_subscriber_error", "1 when the Subscription status is error."),
    }
    states = subscribers(hub)
    for key, (name, help_text) in gauges.items():
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} gauge")
        for st in states:
            value = int(st["status"] == "error") if key == "error" else int(st[key])
            lines.append(f'{name}{{subscription="{st["id"]}"}} {value}')
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
