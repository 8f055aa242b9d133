"""The FastAPI application factory: wiring only."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.api import _fhir_routes, _ops_routes
from hub.api._auth import bearer
from hub.api._responses import (
    fhir_error_handler,
    http_error_handler,
    unexpected_error_handler,
    validation_error_handler,
)
from hub.fhir.errors import FhirError
from hub.wiring import Hub, build_hub


def create_app(hub: Hub | None = None, *, run_worker: bool | None = None) -> FastAPI:
    """The hub's ASGI app. Without a broker the in-process delivery worker runs inside it."""
    hub = hub or build_hub()
    if run_worker is None:
        run_worker = not hub.settings.broker_url

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        if run_worker:
            hub.start_inprocess_worker()
        yield
        hub.stop()

    app = FastAPI(title="Knutpunkt", version="0.1.0", lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.hub = hub
    app.add_exception_handler(FhirError, fhir_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
    from hub.api.consent_routes import router as consent_router

    app.include_router(consent_router)  # $summary and $evaluate, before the generic /fhir/{type}/{id} routes
    app.include_router(_ops_routes.router)
    from hub.api.admin_routes import router as admin_router
    from hub.api.validator_page import router as validator_page

    app.include_router(admin_router, include_in_schema=False)

    app.include_router(validator_page, include_in_schema=False)
    from hub.api.terminology_routes import router as terminology_router

    app.include_router(terminology_router, prefix="/fhir", dependencies=[Depends(bearer)])
    app.include_router(_fhir_routes.router)
    return app
