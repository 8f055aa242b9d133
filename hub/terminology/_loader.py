"""Reading terminology resources from folders (recursive `*.json`) and FHIR NPM packages (`.tgz`).

A package is a gzipped tar with resources as `package/*.json`
(https://confluence.hl7.org/display/FHIR/NPM+Package+Specification); only top-level files count.
Bundles are opened and their entries yielded.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

TERMINOLOGY_TYPES = frozenset({"CodeSystem", "ValueSet", "ConceptMap", "NamingSystem"})


def _resources(doc: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(doc, dict):
        return
    if doc.get("resourceType") == "Bundle":
        for e in doc.get("entry") or ():
            yield from _resources(e.get("resource"))
    elif doc.get("resourceType") in TERMINOLOGY_TYPES:
        yield doc


def iter_dir(root: Path) -> Iterator[dict[str, Any]]:
    """Every terminology resource in `*.json` files under `root`, recursively, in sorted path order."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*.json")):
        try:
            doc = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        yield from _resources(doc)


def iter_package(path: Path) -> Iterator[dict[str, Any]]:
    """Terminology resources in a FHIR NPM package tarball (`package/*.json`, package.json skipped)."""
    with tarfile.open(path, "r:*") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if not member.isfile() or not name.startswith("package/") or not name.endswith(".json"):
                continue
            if name.count("/") != 1 or name.endswith(("/package.json", "/.index.json")):
                continue
            fh = tar.extractfile(member)
            if fh is None:
                continue
            try:
                doc = json.loads(fh.read())
            except ValueError:
                continue
            yield from _resources(doc)


def iter_source(path: Path) -> Iterator[dict[str, Any]]:
    """A folder, a package tarball or a single JSON file."""
    if path.is_dir():
        yield from iter_dir(path)
    elif path.name.endswith((".tgz", ".tar.gz")):
        yield from iter_package(path)
    elif path.suffix == ".json" and path.is_file():
        yield from _resources(orjson.loads(path.read_bytes()))
