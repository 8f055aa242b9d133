"""Loading: folders (recursive), FHIR NPM packages, extra sources, register/unregister."""

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from term_helpers import ANIMALS, EX, animals_cs, vs

from hub.fhir.errors import InvalidInput
from hub.terminology import LocalTerminologyService, build_local_service
from hub.terminology._local import EXTRA_ENV, extra_sources


def _add(tar: tarfile.TarFile, name: str, doc: Any) -> None:
    data = json.dumps(doc).encode()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def make_package(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "package/package.json", {"name": "example.animals", "version": "1.0.0"})
        _add(tar, "package/CodeSystem-animals.json", animals_cs())
        _add(tar, "package/ValueSet-mammals.json", vs("mammals", [{"system": ANIMALS, "filter": [
            {"property": "concept", "op": "is-a", "value": "mammal"}]}]))
        _add(tar, "package/StructureDefinition-x.json", {"resourceType": "StructureDefinition", "url": "http://x"})
        _add(tar, "package/example/ValueSet-ignored.json", vs("ignored", [{"system": ANIMALS}]))
    return path


def test_load_package(tmp_path: Path) -> None:
    svc = LocalTerminologyService()
    assert svc.load_package(make_package(tmp_path / "animals-1.0.0.tgz")) == 2
    assert svc.validate_code(EX + "mammals", ANIMALS, "cat").result
    assert not svc.has_valueset(EX + "ignored")


def test_load_folder_recursively_and_bundles(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "cs.json").write_text(json.dumps(animals_cs()))
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": vs("all", [{"system": ANIMALS}])}]}
    (tmp_path / "a" / "bundle.json").write_text(json.dumps(bundle))
    (tmp_path / "broken.json").write_text("{not json")
    svc = LocalTerminologyService()
    assert svc.load_path(tmp_path) == 2
    assert svc.expand(EX + "all")["expansion"]["total"] == 8


def test_extra_sources_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = make_package(tmp_path / "p.tgz")
    monkeypatch.setenv(EXTRA_ENV, str(pkg))
    assert extra_sources() == [pkg]
    svc = build_local_service()
    assert svc.has_valueset(EX + "mammals")
    assert svc.has_valueset("http://hl7.org/fhir/ValueSet/administrative-gender")


def test_default_rf2_folder_in_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EXTRA_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert extra_sources() == []
    (tmp_path / "snomed-rf2").mkdir()
    assert extra_sources() == [tmp_path / "snomed-rf2"]


def test_register_rejects_missing_url_and_ignores_other_types() -> None:
    svc = LocalTerminologyService()
    with pytest.raises(InvalidInput):
        svc.register({"resourceType": "ValueSet", "status": "active"})
    svc.register({"resourceType": "Patient", "id": "p"})
    assert not svc.has_valueset("http://x")


def test_unregister_codesystem_version(mini: LocalTerminologyService) -> None:
    assert not mini.unregister("CodeSystem", ANIMALS + "|9")
    assert mini.unregister("CodeSystem", ANIMALS + "|1")
    assert mini.lookup(ANIMALS, "dog") is None
    assert not mini.has_codesystem(ANIMALS)


def test_codesystem_value_set_is_implicit(project: LocalTerminologyService) -> None:
    assert project.has_valueset("https://knutpunkt.se/fhir/ValueSet/pdl-block-type")
    assert project.validate_code("https://knutpunkt.se/fhir/ValueSet/pdl-block-type",
                                 "https://knutpunkt.se/fhir/CodeSystem/pdl-block-type", "inner").result


def test_project_files_are_named_by_type_and_id() -> None:
    from hub import paths

    for f in paths.terminology_dir().glob("*.json"):
        doc = json.loads(f.read_text())
        assert f.name == f"{doc['resourceType']}-{doc['id']}.json"
