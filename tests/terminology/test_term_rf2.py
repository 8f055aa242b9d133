"""SNOMED CT RF2 snapshot import and the `knutpunkt terminology import-rf2` command."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hub.cli.terminology  # noqa: F401  (registers the sub-app)
from hub.cli._app import app
from hub.terminology import LocalTerminologyService
from hub.terminology._rf2 import import_rf2, read_rf2

FIXTURE = Path(__file__).parent / "fixtures" / "rf2"
SCT = "http://snomed.info/sct"


def concepts() -> dict[str, dict]:
    cs, _ = read_rf2(FIXTURE)
    return {c["code"]: c for c in cs["concept"]}


def test_display_prefers_swedish_preferred_then_english_then_fsn() -> None:
    c = concepts()
    assert c["373568007"]["display"] == "klorhexidinum"  # preferred in the sv language refset
    assert c["138875005"]["display"] == "SNOMED CT Concept"  # en synonym, no sv
    assert c["111088007"]["display"] == "Latex (substance)"  # FSN only
    assert c["59021000052107"]["display"] == "Skadlig"


def test_designations_skip_inactive_descriptions() -> None:
    values = {d["value"] for d in concepts()["373568007"]["designation"]}
    assert values == {"Chlorhexidine", "klorhexidin", "klorhexidinum"}


def test_only_active_is_a_relationships_become_parents() -> None:
    c = concepts()
    assert c["59041000052100"]["property"] == [{"code": "parent", "valueCode": "373568007"}]
    assert [p["valueCode"] for p in c["373568007"]["property"]] == ["105590001"]
    assert {"code": "inactive", "valueBoolean": True} in c["1000000001"]["property"]


def test_imported_codesystem_loads_with_hierarchy(tmp_path: Path) -> None:
    summary = import_rf2(FIXTURE, tmp_path)
    assert summary.concepts == 8 and summary.languages == {"sv", "en"} and summary.relationships == 4
    svc = LocalTerminologyService()
    svc.load_path(tmp_path)
    assert svc.subsumes(SCT, "105590001", "59041000052100") is True
    assert svc.subsumes(SCT, "111088007", "59041000052100") is False
    svc.register({"resourceType": "ValueSet", "url": "http://x/vs", "status": "active",
                  "compose": {"include": [{"system": SCT, "filter": [{"property": "concept", "op": "is-a", "value": "105590001"}]}]}})
    assert {c["code"] for c in svc.expand("http://x/vs")["expansion"]["contains"]} == {
        "105590001", "373568007", "111088007", "59041000052100"}


def test_cli_import(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["terminology", "import-rf2", str(FIXTURE), "--target", str(out)])
    assert result.exit_code == 0, result.output
    assert "8 concepts" in result.output
    doc = json.loads((out / "CodeSystem-snomed-rf2.json").read_text())
    assert doc["url"] == SCT and doc["content"] == "complete"


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_cli_bad_folder_is_usage_error(tmp_path: Path, make: str) -> None:
    target = tmp_path / "nothing"
    if make == "empty":
        target.mkdir()
    result = CliRunner().invoke(app, ["terminology", "import-rf2", str(target), "--target", str(tmp_path / "o")])
    assert result.exit_code == 2


def test_cli_malformed_file_is_invalid_input(tmp_path: Path) -> None:
    (tmp_path / "sct2_Concept_Snapshot_X.txt").write_text("wrong\theader\n1\t2\n")
    result = CliRunner().invoke(app, ["terminology", "import-rf2", str(tmp_path), "--target", str(tmp_path / "o")])
    assert result.exit_code == 1
