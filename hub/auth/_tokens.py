"""JWT issuing and checking with the hub's own ES256 key (contract.md: Who is asking)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hub.fhir.errors import Unauthorized


@dataclass(frozen=True)
class Claims:
    sub: str
    scopes: tuple[str, ...]
    care_giver: str | None
    care_unit: str | None
    purpose_of_use: str | None


def _load_or_create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    try:
        os.link(tmp, path)  # atomic: the first process to create the key wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return _load_or_create_key(path)


class TokenService:
    """Issues and verifies the hub's bearer tokens; the key lives in `key_file` (created on first use)."""

    def __init__(self, key_file: str, issuer: str = "knutpunkt", lifetime_s: int = 3600) -> None:
        self._key = _load_or_create_key(Path(key_file))
        self._public = self._key.public_key()
        self.issuer = issuer
        self.lifetime_s = lifetime_s

    def issue(
        self,
        sub: str,
        scope: str = "system/*.cruds",
        care_giver: str | None = None,
        care_unit: str | None = None,
        purpose: str | None = None,
        lifetime_s: int | None = None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, object] = {"iss": self.issuer, "sub": sub, "scope": scope, "iat": now, "exp": now + (lifetime_s or self.lifetime_s)}
        if care_giver:
            claims["care_giver"] = care_giver
        if care_unit:
            claims["care_unit"] = care_unit
        if purpose:
            claims["purpose_of_use"] = purpose
        return jwt.encode(claims, self._key, algorithm="ES256")

    def verify(self, token: str) -> Claims:
        try:
            data = jwt.decode(token, self._public, algorithms=["ES256"], issuer=self.issuer, options={"require": ["exp", "sub", "iss"]})
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid bearer token: {exc}") from exc
        scope = data.get("scope", "")
        return Claims(
            sub=str(data["sub"]),
            scopes=tuple(scope.split()) if isinstance(scope, str) else (),
            care_giver=data.get("care_giver"),
            care_unit=data.get("care_unit"),
            purpose_of_use=data.get("purpose_of_use"),
        )
