"""The knutpunkt CLI as users run it: real subprocesses, exit codes per contract.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "rivta" / "GetAlertInformation-195009072553-amoxicillin.xml"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", *args], cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def test_convert_prints_collection_bundle(tmp_path: Path) -> None:
    out = run("convert", "--adapter", "rivta-alert", str(EXAMPLE), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    bundle = json.loads(out.stdout)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    types = sorted(e["resource"]["resourceType"] for e in bundle["entry"])
    assert types == ["AllergyIntolerance", "Patient", "Provenance"]
    assert not list(tmp_path.glob("*.db")), "convert must not store anything"


def test_convert_invalid_input_prints_operation_outcome_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<GetAlertInformationResponse><unclosed></GetAlertInformationResponse>")
    out = run("convert", "--adapter", "rivta-alert", str(bad), cwd=tmp_path)
    assert out.returncode == 1
    oo = json.loads(out.stdout)
    assert oo["resourceType"] == "OperationOutcome"
    assert oo["issue"][0]["severity"] in ("error", "fatal")


@pytest.mark.parametrize("args", [["convert", "--adapter", "nope", "x.xml"], ["convert", "--adapter", "rivta-alert", "missing.xml"], ["frobnicate"]])
def test_usage_and_io_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    out = run(*args, cwd=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)


def test_ingest_stores_and_reingest_does_not_duplicate(tmp_path: Path) -> None:
    env = {"KNUTPUNKT_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}", "KNUTPUNKT_KEY_FILE": str(tmp_path / "k.pem")}
    first = run("ingest", "--adapter", "rivta-alert", str(EXAMPLE), cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    second = run("ingest", "--adapter", "rivta-alert", str(EXAMPLE), cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    from hub.settings import Settings
    from hub.store import parse_query
    from hub.wiring import build_hub

    hub = build_hub(Settings(database_url=env["KNUTPUNKT_DATABASE_URL"], key_file=env["KNUTPUNKT_KEY_FILE"]))
    with hub.store.transaction() as s:
        allergies = hub.store.search(s, parse_query("AllergyIntolerance", []))
        patients = hub.store.search(s, parse_query("Patient", []))
    assert len(allergies) == 1 and len(patients) == 1
    assert allergies[0].vid == 2  # updated, not duplicated


def test_ingest_bad_file_stores_nothing(tmp_path: Path) -> None:
    env = {"KNUTPUNKT_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}", "KNUTPUNKT_KEY_FILE": str(tmp_path / "k.pem")}
    bad = tmp_path / "bad.xml"
    bad.write_bytes(EXAMPLE.read_bytes().replace(b"195009072553", b"195009072554"))  # Luhn check digit wrong
    out = run("ingest", "--adapter", "rivta-alert", str(bad), cwd=tmp_path, env=env)
    assert out.returncode == 1
    assert json.loads(out.stdout)["resourceType"] == "OperationOutcome"
    from hub.settings import Settings
    from hub.store import parse_query
    from hub.wiring import build_hub

    hub = build_hub(Settings(database_url=env["KNUTPUNKT_DATABASE_URL"], key_file=env["KNUTPUNKT_KEY_FILE"]))
    with hub.store.transaction() as s:
        assert hub.store.search(s, parse_query("Patient", [])) == []


def test_token_is_verifiable_with_claims(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    out = run("token", "--sub", "reg", "--care-giver", "SE1", "--care-unit", "SE1-U", "--purpose", "HQUALIMP", "--scope", "system/*.rs",
              cwd=tmp_path, env={"KNUTPUNKT_KEY_FILE": str(key)})
    assert out.returncode == 0, out.stderr
    from hub.auth import TokenService

    claims = TokenService(str(key)).verify(out.stdout.strip())
    assert (claims.sub, claims.care_giver, claims.care_unit, claims.purpose_of_use, claims.scopes) == ("reg", "SE1", "SE1-U", "HQUALIMP", ("system/*.rs",))


def test_demo_runs_the_flow_and_exits_0(tmp_path: Path) -> None:
    out = run("demo", cwd=tmp_path, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Delivered to the registry" in out.stdout
    assert "registry-opt-out" in out.stdout
    assert " 0 leaked" in out.stdout
