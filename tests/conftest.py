"""Shared fixtures: a hub on a temporary SQLite database, an in-process HTTP client, bearer tokens and
small FHIR resource builders (a Patient and an AllergyIntolerance with its information source).

Generic on purpose so every test folder can use them:
- `make_hub(**settings)` / `hub`: a freshly migrated hub (tmp SQLite file, tmp signing key);
- `client`: a `TestClient` without credentials; `api`: one that sends a full-scope token from the
  default care unit (`CARE_UNIT` in `CARE_GIVER`, purpose TREAT);
- `token(...)` → a JWT, `auth(...)` → `{"Authorization": "Bearer …"}`;
- `patient_body(...)`, `allergy_body(...)`: resources as FHIR JSON dicts (not stored).
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from fastapi.testclient import TestClient  # noqa: E402

from hub.api import create_app  # noqa: E402
from hub.settings import Settings  # noqa: E402
from hub.store import make_engine, migrate  # noqa: E402
from hub.wiring import Hub, build_hub  # noqa: E402

HSA = "urn:oid:1.2.752.29.4.19"
PNR = "http://electronichealth.se/identifier/personnummer"
INFORMATION_SOURCE = "https://knutpunkt.se/fhir/StructureDefinition/information-source"
CARE_GIVER = "SE2321000016-1000"
CARE_UNIT = "SE2321000016-1001"
FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"


def _private_dir(prefix: str) -> Path:
    """A scratch directory of our own: pytest's shared tmp root is pruned by concurrent runs on this machine."""
    root = Path(tempfile.gettempdir()) / "knutpunkt-hub-tests"
    root.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root))


@pytest.fixture(scope="session")
def _migrated_sqlite() -> Iterator[Path]:
    """One SQLite file migrated to the newest schema; each hub starts from a copy (saves the migration)."""
    folder = _private_dir("schema-")
    path = folder / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    yield path
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def hub_dir() -> Iterator[Path]:
    """The test's scratch directory for databases and keys (removed afterwards)."""
    folder = _private_dir("hub-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def make_hub(hub_dir: Path, _migrated_sqlite: Path) -> Iterator[Callable[..., Hub]]:
    """`make_hub(**settings)`: a hub on a fresh SQLite file in `hub_dir`; settings override the defaults
    (a `database_url` given here is migrated as usual). Hubs made in one test share one signing key."""
    made: list[Hub] = []

    def _make(**overrides: Any) -> Hub:
        values: dict[str, Any] = {
            "key_file": str(hub_dir / "signing-key.pem"),
            "delivery_poll_s": 0.05,
        }
        values.update(overrides)
        fresh = "database_url" not in values
        if fresh:
            db = hub_dir / f"hub{len(made)}.db"
            shutil.copyfile(_migrated_sqlite, db)
            values["database_url"] = f"sqlite:///{db}"
        h = build_hub(Settings(**values), migrate_schema=not fresh)
        made.append(h)
        return h

    yield _make
    for h in made:
        h.stop()
        h.store.engine.dispose()


@pytest.fixture
def hub(make_hub: Callable[..., Hub]) -> Hub:
    return make_hub()


@pytest.fixture
def token(hub: Hub) -> Callable[..., str]:
    """`token(scope=..., sub=..., care_giver=..., care_unit=..., purpose=..., lifetime_s=...)` signed by the hub."""

    def _token(
        scope: str = "system/*.cruds",
        *,
        sub: str = "test-client",
        care_giver: str | None = CARE_GIVER,
        care_unit: str | None = CARE_UNIT,
        purpose: str | None = "TREAT",
        lifetime_s: int | None = None,
    ) -> str:
        return hub.tokens.issue(sub, scope, care_giver=care_giver, care_unit=care_unit, purpose=purpose, lifetime_s=lifetime_s)

    return _token


@pytest.fixture
def auth(token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """`auth(scope=..., **claims)` → an Authorization header dict."""
    return lambda *a, **kw: {"Authorization": f"Bearer {token(*a, **kw)}"}


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    """The hub's app in-process (no delivery worker), without credentials."""
    with TestClient(create_app(hub, run_worker=False)) as c:
        yield c


@pytest.fixture
def api(hub: Hub, token: Callable[..., str]) -> Iterator[TestClient]:
    """Like `client`, but every request carries a `system/*.cruds` token from CARE_UNIT / CARE_GIVER."""
    with TestClient(create_app(hub, run_worker=False), headers={"Authorization": f"Bearer {token()}"}) as c:
        yield c


def _patient(pnr: str = "195009072553", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"resourceType": "Patient", "identifier": [{"system": PNR, "value": pnr}]}
    body.update(extra)
    return body


def _allergy(
    patient_ref: str,
    *,
    code: tuple[str, str] = ("http://www.whocc.no/atc", "J01CA04"),
    category: str = "medication",
    clinical_status: str = "active",
    care_giver: str | None = CARE_GIVER,
    care_unit: str | None = CARE_UNIT,
    identifier: tuple[str | None, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"resourceType": "AllergyIntolerance"}
    if care_giver and care_unit:
        body["extension"] = [{
            "url": INFORMATION_SOURCE,
            "extension": [
                {"url": "careGiver", "valueIdentifier": {"system": HSA, "value": care_giver}},
                {"url": "careUnit", "valueIdentifier": {"system": HSA, "value": care_unit}},
                {"url": "informationType", "valueCode": "upp"},
            ],
        }]
    if identifier is not None:
        ident: dict[str, Any] = {"value": identifier[1]}
        if identifier[0] is not None:
            ident["system"] = identifier[0]
        body["identifier"] = [ident]
    body.update({
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": clinical_status}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed"}]},
        "category": [category],
        "code": {"coding": [{"system": code[0], "code": code[1]}]},
        "patient": {"reference": patient_ref},
    })
    body.update(extra)
    return body


@pytest.fixture
def patient_body() -> Callable[..., dict[str, Any]]:
    """`patient_body(pnr="195009072553", **elements)` → a Patient with a personnummer."""
    return _patient


@pytest.fixture
def allergy_body() -> Callable[..., dict[str, Any]]:
    """`allergy_body(patient_ref, code=(system, code), category=, clinical_status=, care_giver=, care_unit=,
    identifier=(system|None, value), **elements)` → an AllergyIntolerance with an information source."""
    return _allergy
