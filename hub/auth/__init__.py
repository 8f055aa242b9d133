"""Bearer tokens: the hub's own ES256 signing key, token issuing, verification and SMART v2 scopes."""

from hub.auth._scopes import allows
from hub.auth._tokens import Claims, TokenService

__all__ = ["Claims", "TokenService", "allows"]
