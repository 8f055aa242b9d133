"""Settings from `KNUTPUNKT_*` environment variables (contract.md: Install and run)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KNUTPUNKT_", extra="ignore")

    database_url: str = "sqlite:///./knutpunkt.db"
    broker_url: str | None = None
    key_file: str = "./knutpunkt-signing-key.pem"
    token_issuer: str = "knutpunkt"
    token_lifetime_s: int = 3600
    base_url: str = "http://localhost:8080/fhir"
    # Delivery: exponential backoff with jitter up to the horizon, then dead letter.
    delivery_backoff_base_s: float = 0.5
    delivery_backoff_max_s: float = 600.0
    delivery_horizon_s: float = 72 * 3600.0
    delivery_timeout_s: float = 10.0
    delivery_poll_s: float = 0.5
    delivery_lease_s: float | None = None  # default: max(10, 4 × timeout + 2)
    delivery_batch: int = 64
    validate_on_write: bool = True
    max_body_bytes: int = 20 * 1024 * 1024


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
