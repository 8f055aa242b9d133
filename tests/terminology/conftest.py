"""Shared fixtures: the project's terminology data, and a small hand-made service with known answers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if str(Path(__file__).parent) not in sys.path:  # term_helpers also under --import-mode=importlib
    sys.path.insert(0, str(Path(__file__).parent))

from term_helpers import mini_resources  # noqa: E402

from hub.terminology import LocalTerminologyService, build_local_service  # noqa: E402


@pytest.fixture
def mini() -> LocalTerminologyService:
    svc = LocalTerminologyService()
    for r in mini_resources():
        svc.register(r)
    return svc


@pytest.fixture(scope="session")
def project() -> LocalTerminologyService:
    """The project's own `terminology/` data, no extra sources."""
    return build_local_service([])
