"""Settings of the web service, read from ``DIACHISO_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """How the API behaves: public base URL, CORS, limits."""

    model_config = SettingsConfigDict(env_prefix="DIACHISO_", extra="ignore")

    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Base of links in plates/QR codes."
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS.")
    max_limit: int = Field(default=1000, ge=1, description="Largest page size a client may ask for.")
