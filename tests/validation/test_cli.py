"""`knutpunkt validate` (contract.md): formats json/text/ndjson/summary, exit 0/1/2, NDJSON and XML input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import hub.cli.validate  # noqa: F401  (registers the command)
from hub.cli._app import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture()
def files(tmp_path: Path, allergy: dict[str, Any]) -> dict[str, Path]:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(allergy), encoding="utf-8")
    bad_res = dict(allergy)
    bad_res["criticality"] = "severe"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_res), encoding="utf-8")
    nd = tmp_path / "many.ndjson"
    nd.write_text("\n".join(json.dumps(r) for r in (allergy, bad_res, allergy)) + "\n{not json}\n", encoding="utf-8")
    xml = tmp_path / "p.xml"
    xml.write_text('<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><active value="true"/></Patient>', encoding="utf-8")
    return {"good": good, "bad": bad, "nd": nd, "xml": xml}


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["validate", *args])


def test_valid_file_text(files: dict[str, Path]) -> None:
    r = invoke(str(files["good"]))
    assert r.exit_code == 0 and "OK" in r.output


def test_invalid_file_json_is_one_outcome(files: dict[str, Path]) -> None:
    r = invoke("--format", "json", str(files["bad"]))
    assert r.exit_code == 1
    oo = json.loads(r.output)
    assert oo["resourceType"] == "OperationOutcome"
    assert [i["expression"] for i in oo["issue"]] == [["AllergyIntolerance.criticality"]]


def test_valid_file_json_all_ok(files: dict[str, Path]) -> None:
    r = invoke("--format", "json", str(files["good"]))
    assert r.exit_code == 0 and json.loads(r.output)["issue"][0]["severity"] == "information"


def test_ndjson_format_one_line_per_resource(files: dict[str, Path]) -> None:
    r = invoke("--format", "ndjson", str(files["nd"]))
    assert r.exit_code == 1
    lines = [json.loads(x) for x in r.output.splitlines()]
    assert len(lines) == 4
    sev = [{i["severity"] for i in oo["issue"]} for oo in lines]
    assert sev == [{"information"}, {"error"}, {"information"}, {"fatal"}]
    fatal = lines[3]["issue"][0]
    assert {e["valueInteger"] for e in fatal["extension"]} >= {4}


def test_summary(files: dict[str, Path]) -> None:
    r = invoke("--format", "summary", str(files["nd"]), str(files["good"]))
    assert r.exit_code == 1
    assert r.output.strip() == "5 resources, 2 invalid, 2 errors"


def test_xml_file(files: dict[str, Path]) -> None:
    r = invoke("--format", "summary", str(files["xml"]))
    assert r.exit_code == 0 and r.output.strip() == "1 resources, 0 invalid, 0 errors"


def test_explicit_profile(files: dict[str, Path]) -> None:
    r = invoke("--profile", "https://knutpunkt.se/fhir/StructureDefinition/se-patient", "--format", "summary", str(files["xml"]))
    assert r.exit_code == 1  # no identifier


def test_usage_and_io_errors(files: dict[str, Path], tmp_path: Path) -> None:
    assert invoke(str(tmp_path / "missing.json")).exit_code == 2
    assert invoke("--format", "yaml", str(files["good"])).exit_code == 2
    assert invoke("--profile", "http://example.org/unknown", str(files["good"])).exit_code == 2
    assert invoke("--package", str(tmp_path / "none.tgz"), str(files["good"])).exit_code == 2


def test_cold_start_subprocess(files: dict[str, Path]) -> None:
    """A fresh process validates one small file well within the 2 s budget."""
    code = ("import sys, time; t=time.perf_counter(); import hub.cli.validate; from hub.cli._app import app\n"
            "try:\n    app(['validate', '--format', 'summary', sys.argv[1]])\nexcept SystemExit as e:\n"
            "    print('rc', e.code, round(time.perf_counter()-t, 2), file=sys.stderr)")
    p = subprocess.run([sys.executable, "-c", code, str(files["good"])], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "1 resources, 0 invalid, 0 errors"
    rc, seconds = p.stderr.split()[1:3]
    assert rc == "0" and float(seconds) < 2.0
