"""`/admin`: the operator's delivery page (server-rendered HTML) and its JSON API under `/admin/api/...`.

Protected by the hub's bearer token (scope granting Subscription read; actions need update). A browser may
pass the token once as `?token=`; it is then kept in an HttpOnly, SameSite=Strict cookie.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub.auth import Claims, allows
from hub.fhir.errors import Forbidden, NotFound, Unauthorized
from hub.routing import dead_letter, dead_letters, replay, set_paused, subscribers, summary

router = APIRouter()
COOKIE = "knutpunkt_admin"
_templates = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape(["html"]))


def _token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query_params.get("token") or request.cookies.get(COOKIE)


def _claims(request: Request, action: str) -> Claims:
    token = _token(request)
    if not token:
        raise Unauthorized("missing bearer token (header, ?token= or cookie)")
    claims: Claims = request.app.state.hub.tokens.verify(token)
    # The views list which resources of which patients were delivered or withheld: that reveals what
    # exists for a patient, so (as for Consent and AuditEvent) only a scope naming Subscription will do.
    if not allows(claims.scopes, "Subscription", action, allow_wildcard=False):
        raise Forbidden(f"the admin views need a scope granting '{action}' on Subscription by name (a wildcard is not enough)")
    return claims


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


# -- JSON API -------------------------------------------------------------------------------------
@router.get("/admin/api/summary")
def api_summary(request: Request) -> Response:
    _claims(request, "r")
    return _json(summary(request.app.state.hub))


@router.get("/admin/api/subscribers")
def api_subscribers(request: Request) -> Response:
    _claims(request, "r")
    return _json(subscribers(request.app.state.hub))


@router.get("/admin/api/dead-letters")
def api_dead_letters(request: Request, subscription: str | None = None, limit: int = 200) -> Response:
    _claims(request, "r")
    return _json(dead_letters(request.app.state.hub, subscription, max(1, min(limit, 5000))))


@router.get("/admin/api/dead-letters/{pk}")
def api_dead_letter(pk: int, request: Request) -> Response:
    _claims(request, "r")
    row = dead_letter(request.app.state.hub, pk)
    if row is None:
        raise NotFound(f"no dead letter {pk}")
    return _json(row)


@router.post("/admin/api/dead-letters/replay")
def api_replay_all(request: Request) -> Response:
    _claims(request, "u")
    return _json({"replayed": replay(request.app.state.hub)})


@router.post("/admin/api/dead-letters/{pk}/replay")
def api_replay_one(pk: int, request: Request) -> Response:
    _claims(request, "u")
    n = replay(request.app.state.hub, pk=pk)
    if n == 0:
        raise NotFound(f"no dead letter {pk}")
    return _json({"replayed": n})


@router.post("/admin/api/subscribers/{sub_id}/replay")
def api_replay_subscriber(sub_id: str, request: Request) -> Response:
    _claims(request, "u")
    return _json({"replayed": replay(request.app.state.hub, subscription=sub_id)})


@router.post("/admin/api/subscribers/{sub_id}/pause")
def api_pause(sub_id: str, request: Request) -> Response:
    _claims(request, "u")
    set_paused(request.app.state.hub, sub_id, True)
    return _json({"subscription": sub_id, "paused": True})


@router.post("/admin/api/subscribers/{sub_id}/resume")
def api_resume(sub_id: str, request: Request) -> Response:
    _claims(request, "u")
    set_paused(request.app.state.hub, sub_id, False)
    return _json({"subscription": sub_id, "paused": False})


# -- HTML page --------------------------------------------------------------------------------------
@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request) -> Response:
    _claims(request, "r")
    if "token" in request.query_params:  # keep the token in a cookie and drop it from the address bar
        resp = RedirectResponse("/admin", status_code=303)
        resp.set_cookie(COOKIE, request.query_params["token"], httponly=True, samesite="strict", path="/admin")
        return resp
    hub = request.app.state.hub
    html = _templates.get_template("admin.html").render(
        summary=summary(hub),
        subscribers=subscribers(hub),
        dead=dead_letters(hub, limit=100),
        message=request.query_params.get("msg"),
    )
    return HTMLResponse(html)


@router.post("/admin/actions/{action}")
async def admin_action(action: str, request: Request) -> Response:
    """Form posts from the page (cookie auth); redirect back with a message."""
    _claims(request, "u")
    form = await request.form()
    hub = request.app.state.hub
    sub_id = str(form.get("subscription") or "") or None
    pk = str(form.get("pk") or "")
    if action == "replay-one" and pk.isdigit():
        msg = f"replayed {replay(hub, pk=int(pk))} dead letter(s)"
    elif action == "replay-subscriber" and sub_id:
        msg = f"replayed {replay(hub, subscription=sub_id)} dead letter(s) of {sub_id}"
    elif action == "replay-all":
        msg = f"replayed {replay(hub)} dead letter(s)"
    elif action in ("pause", "resume") and sub_id:
        set_paused(hub, sub_id, action == "pause")
        msg = f"{sub_id} {'paused' if action == 'pause' else 'resumed'}"
    else:
        raise NotFound(f"unknown admin action {action!r}")
    from urllib.parse import quote

    return RedirectResponse(f"/admin?msg={quote(msg)}", status_code=303)
