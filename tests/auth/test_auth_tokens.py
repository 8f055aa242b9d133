"""The hub's own ES256 tokens (contract.md: Who is asking): issue, verify, key file handling."""

from __future__ import annotations

import os
import stat
import time

import jwt
import pytest

from hub.auth import TokenService
from hub.fhir.errors import Unauthorized


@pytest.fixture
def svc(hub_dir) -> TokenService:
    return TokenService(str(hub_dir / "k.pem"))


def test_issue_and_verify_round_trip(svc):
    tok = svc.issue("client-1", "system/*.rs system/Consent.c", care_giver="SE1", care_unit="SE1-2", purpose="ETREAT")
    c = svc.verify(tok)
    assert c.sub == "client-1"
    assert c.scopes == ("system/*.rs", "system/Consent.c")
    assert (c.care_giver, c.care_unit, c.purpose_of_use) == ("SE1", "SE1-2", "ETREAT")


def test_optional_claims_absent(svc):
    c = svc.verify(svc.issue("c"))
    assert c.care_giver is None and c.care_unit is None and c.purpose_of_use is None
    assert c.scopes == ("system/*.cruds",)


def test_token_is_es256_with_expiry(svc):
    tok = svc.issue("c", lifetime_s=120)
    assert jwt.get_unverified_header(tok)["alg"] == "ES256"
    claims = jwt.decode(tok, options={"verify_signature": False})
    assert claims["iss"] == svc.issuer
    assert 110 <= claims["exp"] - int(time.time()) <= 121


def test_expired_token_is_refused(svc):
    with pytest.raises(Unauthorized) as err:
        svc.verify(svc.issue("c", lifetime_s=-1))
    assert err.value.status == 401


def test_tampered_token_is_refused(svc):
    header, payload, sig = svc.issue("c", "system/Patient.r").split(".")
    forged = jwt.utils.base64url_encode(b'{"iss":"knutpunkt","sub":"c","scope":"system/*.cruds","exp":9999999999}').decode()
    with pytest.raises(Unauthorized):
        svc.verify(f"{header}.{forged}.{sig}")


def test_wrong_issuer_is_refused(hub_dir):
    a = TokenService(str(hub_dir / "k.pem"), issuer="a")
    b = TokenService(str(hub_dir / "k.pem"), issuer="b")
    with pytest.raises(Unauthorized):
        b.verify(a.issue("c"))


def test_non_string_scope_claim_grants_nothing(svc):
    now = int(time.time())
    tok = jwt.encode({"iss": svc.issuer, "sub": "c", "exp": now + 60, "scope": ["system/*.cruds"]}, svc._key, algorithm="ES256")
    assert svc.verify(tok).scopes == ()


def test_key_file_created_private_and_reused(hub_dir):
    path = hub_dir / "sub" / "key.pem"
    a = TokenService(str(path))
    assert path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    b = TokenService(str(path))
    assert b.verify(a.issue("x")).sub == "x"
    other = TokenService(str(hub_dir / "other.pem"))
    with pytest.raises(Unauthorized):
        other.verify(a.issue("x"))
