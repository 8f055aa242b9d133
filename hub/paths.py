"""Where the project's data (profiles, terminology, examples) lives.

Data is kept as FHIR JSON beside the package in the source tree; `KNUTPUNKT_DATA_DIR` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_root() -> Path:
    override = os.environ.get("KNUTPUNKT_DATA_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent


def profiles_dir() -> Path:
    return data_root() / "profiles"


def terminology_dir() -> Path:
    return data_root() / "terminology"


def examples_dir() -> Path:
    return data_root() / "examples"
