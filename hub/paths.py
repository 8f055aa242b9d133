"""Where the project's data (profiles, terminology, examples) lives.

Data is kept as FHIR JSON beside the package in the source tree; `KNUTPUNKT_DATA_DIR` points elsewhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_root() -> Path:
    """The source tree (editable install), else `<prefix>/share/knutpunkt` (a regular install)."""
    override = os.environ.get("KNUTPUNKT_DATA_DIR")
    if override:
        return Path(override)
    source = Path(__file__).resolve().parent.parent
    if (source / "profiles").is_dir():
        return source
    installed = Path(sys.prefix) / "share" / "knutpunkt"
    return installed if installed.is_dir() else source


def profiles_dir() -> Path:
    return data_root() / "profiles"


def terminology_dir() -> Path:
    return data_root() / "terminology"


def examples_dir() -> Path:
    return data_root() / "examples"
