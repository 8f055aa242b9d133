"""SNOMED CT RF2 snapshot → one FHIR CodeSystem (http://snomed.info/sct), hierarchy as `parent` properties.

Reads `sct2_Concept_*`, `sct2_Description_*` (every language file, e.g. sv and en), optional
`der2_cRefset_Language*` (preferred terms) and `sct2_Relationship_*` rows with typeId 116680003 (is-a).
File layouts: SNOMED International "Release File Specification" (RF2), tab-separated with a header row.
Display = the preferred Swedish synonym, else the preferred English one, else any synonym, else the FSN.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

SCT = "http://snomed.info/sct"
IS_A = "116680003"
FSN = "900000000000003001"
SYNONYM = "900000000000013009"
PREFERRED = "900000000000548007"
DISPLAY_LANGUAGES = ("sv", "en")


@dataclass
class Rf2Summary:
    concepts: int = 0
    descriptions: int = 0
    relationships: int = 0
    path: Path | None = None
    languages: set[str] = field(default_factory=set)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)


def _files(root: Path, prefix: str) -> list[Path]:
    return sorted(p for p in root.rglob(f"{prefix}*.txt") if p.is_file())


def read_rf2(root: Path) -> tuple[dict[str, Any], Rf2Summary]:
    """Build the CodeSystem resource (dict) from an RF2 snapshot folder. Raises FileNotFoundError."""
    concept_files = _files(root, "sct2_Concept_")
    if not concept_files:
        raise FileNotFoundError(f"no sct2_Concept_* file under {root}")
    summary = Rf2Summary()
    active: dict[str, bool] = {}
    modules: Counter[str] = Counter()
    latest = ""
    for f in concept_files:
        for r in _rows(f):
            active[r["id"]] = r["active"] == "1"
            modules[r["moduleId"]] += 1
            latest = max(latest, r["effectiveTime"])
    preferred: set[str] = set()
    for f in _files(root, "der2_cRefset_Language"):
        preferred.update(r["referencedComponentId"] for r in _rows(f) if r["active"] == "1" and r["acceptabilityId"] == PREFERRED)
    designations: dict[str, list[dict[str, Any]]] = {}
    best: dict[str, tuple[int, str]] = {}
    for f in _files(root, "sct2_Description_"):
        for r in _rows(f):
            cid = r["conceptId"]
            if r["active"] != "1" or cid not in active:
                continue
            lang, type_id, term = r["languageCode"], r["typeId"], r["term"]
            summary.descriptions += 1
            summary.languages.add(lang)
            designations.setdefault(cid, []).append(
                {"language": lang, "use": {"system": SCT, "code": type_id}, "value": term}
            )
            rank = _rank(lang, type_id, r["id"] in preferred)
            if cid not in best or rank < best[cid][0]:
                best[cid] = (rank, term)
    parents: dict[str, list[str]] = {}
    for f in _files(root, "sct2_Relationship_"):
        for r in _rows(f):
            if r["active"] == "1" and r["typeId"] == IS_A and active.get(r["sourceId"]):
                parents.setdefault(r["sourceId"], []).append(r["destinationId"])
                summary.relationships += 1
    concepts = []
    for cid, is_active in active.items():
        c: dict[str, Any] = {"code": cid}
        if cid in best:
            c["display"] = best[cid][1]
        if cid in designations:
            c["designation"] = designations[cid]
        props: list[dict[str, Any]] = [{"code": "parent", "valueCode": p} for p in parents.get(cid, ())]
        if not is_active:
            props.append({"code": "inactive", "valueBoolean": True})
        if props:
            c["property"] = props
        concepts.append(c)
    summary.concepts = len(concepts)
    module = modules.most_common(1)[0][0]
    cs = {
        "resourceType": "CodeSystem",
        "id": "snomed-rf2",
        "url": SCT,
        "version": f"{SCT}/{module}/version/{latest}",
        "name": "SNOMED_CT",
        "title": "SNOMED CT (imported from RF2)",
        "status": "active",
        "hierarchyMeaning": "is-a",
        "content": "complete",
        "count": len(concepts),
        "property": [
            {"code": "parent", "uri": "http://hl7.org/fhir/concept-properties#parent", "type": "code"},
            {"code": "inactive", "uri": "http://hl7.org/fhir/concept-properties#inactive", "type": "boolean"},
        ],
        "concept": concepts,
    }
    return cs, summary


def _rank(lang: str, type_id: str, is_preferred: bool) -> int:
    """Lower is better: preferred sv synonym, preferred en synonym, any sv/en synonym, other synonym, FSN."""
    lang_rank = DISPLAY_LANGUAGES.index(lang) if lang in DISPLAY_LANGUAGES else len(DISPLAY_LANGUAGES)
    if type_id == FSN:
        return 100 + lang_rank
    return lang_rank + (0 if is_preferred else 10)


def import_rf2(root: Path, target: Path, fragment: bool = False) -> Rf2Summary:
    """Write `CodeSystem-snomed-rf2.json` into `target` (created) from the RF2 snapshot under `root`."""
    cs, summary = read_rf2(root)
    if fragment:
        cs["content"] = "fragment"
        cs.pop("count", None)
    target.mkdir(parents=True, exist_ok=True)
    out = target / "CodeSystem-snomed-rf2.json"
    out.write_bytes(orjson.dumps(cs))
    summary.path = out
    return summary
