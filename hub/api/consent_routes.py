"""Consent-facing operations: `Patient/{id}/$summary` and `Consent/$evaluate`.

Include this router before the generic `/fhir/{rtype}/{rid}` routes (`app.include_router(router)`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hub.api._auth import bearer
from hub.api._fhir_routes import _base, _body
from hub.api._responses import fhir_response
from hub.interactions import Caller, evaluate, summary

router = APIRouter()


@router.get("/fhir/Patient/{rid}/$summary")
def patient_summary(rid: str, request: Request, caller: Caller = Depends(bearer)) -> Response:
    return fhir_response(request, summary(request.app.state.hub, caller, rid, _base(request)))


@router.post("/fhir/Consent/$evaluate")
async def consent_evaluate(request: Request, caller: Caller = Depends(bearer)) -> Response:
    body = await _body(request)
    return fhir_response(request, evaluate(request.app.state.hub, caller, body))
