"""`/validator`: the validator as a web page for informaticians and vendors (same engine as the CLI and
`$validate`). Server-rendered HTML, no JavaScript needed."""

from __future__ import annotations

import html

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.api.web_auth import COOKIE, browser_caller

router = APIRouter()

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#1b1b1b}
h1{font-size:1.6rem} textarea{width:100%;height:22rem;font-family:ui-monospace,monospace;font-size:.85rem}
table{border-collapse:collapse;width:100%;margin-top:1rem} th,td{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}
.error,.fatal{background:#fde8e8} .warning{background:#fff6d6} .information{background:#eef5ff}
.ok{padding:.6rem;background:#e6f6ea;border:1px solid #9bd3a8} label{font-weight:600}
select,input[type=text]{width:100%;padding:.3rem} button{margin-top:.6rem;padding:.4rem 1rem;font-size:1rem}
"""


def _page(body: str, status: int = 200) -> HTMLResponse:
    doc = f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Knutpunkt validator</title><style>{_STYLE}</style></head><body><h1>Knutpunkt — FHIR validator</h1>{body}</body></html>"
    return HTMLResponse(doc, status_code=status)


def _login_form(message: str = "") -> str:
    msg = f"<p class='error'>{html.escape(message)}</p>" if message else ""
    return (f"{msg}<p>Paste a bearer token (e.g. from <code>knutpunkt token --sub me --scope system/*.rs</code>).</p>"
            "<form method='post' action='/validator/token'><label for='token'>Token</label>"
            "<input type='text' id='token' name='token' autocomplete='off'><button type='submit'>Use token</button></form>")


def _form(text: str = "", profile: str = "") -> str:
    from hub.validation import default_validator

    profiles = sorted(u for u in getattr(default_validator(), "profile_urls", lambda: [])())
    options = "<option value=''>meta.profile of the resource (and the base specification)</option>" + "".join(
        f"<option value='{html.escape(u)}'{' selected' if u == profile else ''}>{html.escape(u)}</option>" for u in profiles
    )
    return ("<form method='post' action='/validator'>"
            f"<label for='profile'>Profile</label><select id='profile' name='profile'>{options}</select>"
            f"<p><label for='resource'>Resource (FHIR JSON or XML)</label><textarea id='resource' name='resource' spellcheck='false'>{html.escape(text)}</textarea></p>"
            "<button type='submit'>Validate</button></form>")


@router.get("/validator")
def validator_get(request: Request) -> Response:
    if browser_caller(request) is None:
        return _page(_login_form(), 401)
    return _page(_form())


@router.post("/validator/token")
def validator_token(token: str = Form("")) -> Response:
    resp = RedirectResponse("/validator", status_code=303)
    resp.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict")
    return resp


@router.post("/validator")
def validator_post(request: Request, resource: str = Form(""), profile: str = Form("")) -> Response:
    if browser_caller(request) is None:
        return _page(_login_form("A valid token is needed."), 401)
    from hub.validation import validate_bytes

    data = resource.encode("utf-8")
    fmt = "xml" if resource.lstrip().startswith("<") else "json"
    _, issues = validate_bytes(data, fmt, profile or None)
    errors = sum(1 for i in issues if i.severity in ("error", "fatal"))
    if not issues:
        result = "<p class='ok'>Valid: no issues.</p>"
    else:
        rows = "".join(
            f"<tr class='{i.severity}'><td>{i.severity}</td><td>{html.escape(i.code)}</td>"
            f"<td>{html.escape(', '.join(i.expression))}{'' if i.line is None else f' (line {i.line}, col {i.column})'}</td>"
            f"<td>{html.escape(i.diagnostics)}</td></tr>" for i in issues
        )
        verdict = f"<p class='{'error' if errors else 'ok'}'>{'Invalid' if errors else 'Valid'}: {errors} error(s), {len(issues)} issue(s).</p>"
        result = f"{verdict}<table><thead><tr><th>severity</th><th>code</th><th>location</th><th>message</th></tr></thead><tbody>{rows}</tbody></table>"
    return _page(result + _form(resource, profile), 200)
