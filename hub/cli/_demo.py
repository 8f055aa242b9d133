"""`knutpunkt demo`: the allergy flow end to end on the embedded default, with a real HTTP receiver.

Starts the hub and a registry receiver as processes in a temporary directory, subscribes the registry,
records one patient's registry opt-out, ingests the GetAlertInformation examples, waits for delivery and
prints what the registry received and what was withheld, and why. Exit 0 when the flow worked.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import typer

from hub.cli._app import app
from hub.cli._procs import start_hub, start_receiver, stop
from hub.paths import examples_dir

OPT_OUT_PNR = "199002222397"
PNR_SYSTEM = "http://electronichealth.se/identifier/personnummer"


def _template(path: Path, **values: str) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    for k, v in values.items():
        text = text.replace("{{" + k + "}}", v)
    return orjson.loads(text)


def _pnr(patient: dict[str, Any] | None) -> str:
    for ident in (patient or {}).get("identifier", []) or []:
        if ident.get("value"):
            return str(ident["value"])
    return "?"


def _label(res: dict[str, Any]) -> str:
    code = res.get("code") or {}
    text = code.get("text") or next((c.get("display") or c.get("code") for c in code.get("coding", []) or []), "")
    return str(text)[:40]


@app.command()
def demo(keep: bool = typer.Option(False, help="keep the temporary directory and print its path")) -> None:
    """Run the whole allergy flow end to end and print what each destination received and what was withheld."""
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="knutpunkt-demo-"))
    env = {"KNUTPUNKT_DATABASE_URL": f"sqlite:///{tmp / 'hub.db'}", "KNUTPUNKT_KEY_FILE": str(tmp / "key.pem"), "KNUTPUNKT_DELIVERY_POLL_S": "0.1"}
    receiver = hub_proc = None
    ok = False
    try:
        typer.echo("1. starting a demo quality-registry receiver and the hub (SQLite, in-process delivery worker)")
        receiver, recv_url = start_receiver(log=tmp / "receiver.log")
        hub_proc, hub_url, ready = start_hub(env, log=tmp / "hub.log", cwd=tmp)
        typer.echo(f"   hub ready at {hub_url} after {ready:.1f}s; registry receiver at {recv_url}")
        from hub.auth import TokenService

        token = TokenService(env["KNUTPUNKT_KEY_FILE"]).issue("knutpunkt-demo", "system/*.cruds system/AuditEvent.rs")
        client = httpx.Client(base_url=hub_url, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}, timeout=30)

        def post(path: str, body: dict[str, Any] | bytes, ctype: str = "application/fhir+json") -> dict[str, Any]:
            data = body if isinstance(body, bytes) else orjson.dumps(body)
            r = client.post(path, content=data, headers={"Content-Type": ctype})
            if r.status_code >= 300:
                raise RuntimeError(f"POST {path} → {r.status_code}: {r.text[:600]}")
            return r.json()

        typer.echo("2. subscribing the registry: Subscription AllergyIntolerance, purpose HQUALIMP, rest-hook")
        post("/fhir", _template(examples_dir() / "routes" / "registry-allergy.json", RECEIVER=recv_url))
        typer.echo(f"3. patient {OPT_OUT_PNR} opts out of the registry (Consent registry-opt-out)")
        post("/fhir", _template(examples_dir() / "routes" / "opt-out.json", PERSONNUMMER=OPT_OUT_PNR))
        files = sorted((examples_dir() / "rivta").glob("*.xml"))
        typer.echo(f"4. ingesting {len(files)} GetAlertInformation responses through adapter rivta-alert")
        stored: list[str] = []
        for f in files:
            out = post("/ingest/rivta-alert", f.read_bytes(), "application/xml")
            stored += [e["response"]["location"].split("/_history")[0] for e in out.get("entry", []) if "location" in e["response"]]
        allergies = [s for s in stored if s.startswith("AllergyIntolerance/")]
        typer.echo(f"   stored {len(stored)} new or updated resources ({len(allergies)} AllergyIntolerance); known patients linked")

        typer.echo("5. waiting for delivery")
        deadline = time.monotonic() + 30
        expected_patients: dict[str, str] = {}
        state: dict[str, Any] = {}
        audits: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            state = httpx.get(recv_url + "/_state").json()
            audits = [e["resource"] for e in client.get("/fhir/AuditEvent", params={"_count": "1000"}).json().get("entry", [])]
            decided = {ent["what"]["reference"] for a in audits for ent in a.get("entity", []) if ent.get("what", {}).get("reference", "").startswith("AllergyIntolerance/")}
            if set(allergies) <= decided and not _pending(client):
                break
            time.sleep(0.3)
        held = state.get("held", {})
        patients = {k: v for k, v in held.items() if k.startswith("Patient/")}
        typer.echo("")
        typer.echo("Delivered to the registry (PUT {endpoint}/{type}/{id}):")
        typer.echo(f"  {'resource':<58} {'patient':<14} {'allergen':<40}")
        for key, res in sorted(held.items()):
            if key.startswith("AllergyIntolerance/"):
                pid = (res.get("patient") or {}).get("reference", "")
                pnr = _pnr(patients.get(pid))
                expected_patients[key] = pnr
                typer.echo(f"  {key:<58} {pnr:<14} {_label(res):<40}")
        typer.echo("")
        typer.echo("Withheld (decision of the consent filter, from the audit trail):")
        withheld = []
        for a in audits:
            if a.get("outcome") == "0":
                continue
            refs = [ent["what"]["reference"] for ent in a.get("entity", []) if "what" in ent and "reference" in ent["what"]]
            target = next((r for r in refs if not r.startswith(("Patient/", "Consent/"))), None) or next((r for r in refs if r.startswith("Patient/")), "?")
            withheld.append((target, a.get("outcomeDesc", "?")))
        for target, why in sorted(set(withheld)):
            typer.echo(f"  {target:<58} reason: {why}")
        leaked = [k for k, v in expected_patients.items() if v == OPT_OUT_PNR]
        delivered = [k for k in held if k.startswith("AllergyIntolerance/")]
        ok = bool(delivered) and not leaked and bool(withheld)
        typer.echo("")
        typer.echo(f"{len(delivered)} delivered, {len(set(withheld))} withheld, {len(leaked)} leaked; {time.monotonic() - t0:.1f}s")
    except Exception as exc:  # report, exit non-zero
        typer.echo(f"demo failed: {exc}", err=True)
        for log in ("hub.log", "receiver.log"):
            p = tmp / log
            if p.exists():
                typer.echo(f"--- {log} (tail) ---\n" + "\n".join(p.read_text(errors="replace").splitlines()[-30:]), err=True)
    finally:
        stop(hub_proc)
        stop(receiver)
        if keep:
            typer.echo(f"(files kept in {tmp})")
        else:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    raise typer.Exit(0 if ok else 1)


def _pending(client: httpx.Client) -> bool:
    text = client.get("/metrics").text
    unfinished = ('knutpunkt_deliveries{status="pending"}', 'knutpunkt_deliveries{status="sending"}')
    return any(float(line.split()[-1]) > 0 for line in text.splitlines() if line.startswith(unfinished))
