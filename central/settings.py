"""Typed settings of the central service (environment variables with the WHS_ prefix)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-insecure-secret-change-me"
DEV_ADMIN_PASSWORD = "admin"


class Settings(BaseSettings):
    """Central settings; in any mode but dev, secrets must be given explicitly."""

    model_config = SettingsConfigDict(env_prefix="WHS_", env_file=".env", extra="ignore")

    mode: Literal["dev", "test", "prod"] = "dev"
    database_url: str = "sqlite:///./var/whs.db"
    db_concurrency: int = Field(default=12, ge=1, le=1000)
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    access_token_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)
    admin_username: str = "admin"
    admin_password: SecretStr = SecretStr(DEV_ADMIN_PASSWORD)

    site: str = "wh1"
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_username: str = "central"
    mqtt_password: SecretStr = SecretStr("")
    mqtt_tls: bool = False
    ingest_enabled: bool = True
    ingest_group: str = "central-ingest"
    ingest_client_id: str = ""
    ingest_gap_wait_s: float = Field(default=1.0, ge=0)

    receiving_weight_tolerance_pct: Decimal = Field(default=Decimal("2.0"), ge=0)
    receiving_weight_tolerance_kg: Decimal = Field(default=Decimal("0.5"), ge=0)
    default_pallet_tare_kg: Decimal = Field(default=Decimal("25.0"), ge=0)
    packing_weight_tolerance_pct: Decimal = Field(default=Decimal("5.0"), ge=0)
    packing_weight_tolerance_kg: Decimal = Field(default=Decimal("0.05"), ge=0)
    webhooks_enabled: bool = True

    influx_url: str = ""
    influx_token: SecretStr = SecretStr("")
    influx_org: str = "whs"
    influx_bucket: str = "telemetry"

    @model_validator(mode="after")
    def _no_default_secrets_outside_dev(self) -> Settings:
        if self.mode != "dev":
            secret = self.secret_key.get_secret_value()
            if secret == DEV_SECRET or len(secret) < 32:
                raise ValueError("WHS_SECRET_KEY must be 32+ random characters outside dev mode")
            if self.admin_password.get_secret_value() == DEV_ADMIN_PASSWORD:
                raise ValueError("WHS_ADMIN_PASSWORD must be set outside dev mode")
        return self


@lru_cache
def get_settings() -> Settings:
    """Settings read once from the environment."""
    return Settings()
