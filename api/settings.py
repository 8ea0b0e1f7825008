"""Settings of the web service, read from ``DIACHISO_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tiles.retention import MIN_RETENTION_S


class TileSettings(BaseSettings):
    """The vector tiles: in-process cache size, HTTP caching, how often to look for changes."""

    model_config = SettingsConfigDict(env_prefix="DIACHISO_TILE_", extra="ignore")

    cache_mb: float = Field(default=256, ge=0, description="Tile cache per worker process, MB (0: none).")
    max_age: int = Field(default=60, ge=0, description="Cache-Control max-age of tiles, seconds.")
    poll_seconds: float = Field(default=1.0, gt=0, description="How often to read tile_invalidation.")
    threads: int = Field(default=4, ge=1, le=32, description="Threads (and connections) building tiles.")
    invalidation_retention_s: float = Field(
        default=86400,
        ge=MIN_RETENTION_S,
        description="DIACHISO_TILE_INVALIDATION_RETENTION_S: tile_invalidation records older than this "
        "are deleted (every server process prunes in the background).",
    )


class ApiSettings(BaseSettings):
    """How the API behaves: public base URL, CORS, limits, staff log-in sessions."""

    model_config = SettingsConfigDict(env_prefix="DIACHISO_", extra="ignore")

    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Base of links in plates/QR codes."
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS.")
    max_limit: int = Field(default=1000, ge=1, description="Largest page size a client may ask for.")
    max_request_kb: int = Field(
        default=1024, ge=1, description="Largest request body, except /batch uploads (DIACHISO_GEOCODE_*)."
    )
    tiles: TileSettings = Field(default_factory=TileSettings, description="DIACHISO_TILE_* variables.")
    session_hours: float = Field(
        default=12,
        gt=0,
        le=24 * 30,
        description="DIACHISO_SESSION_HOURS: how long a viewer log-in lasts (the session cookie's expiry).",
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="DIACHISO_COOKIE_SECURE: true: the session cookie is always Secure (behind a TLS proxy); "
        "false: never; unset: Secure when the request came over https.",
    )
    login_free_attempts: int = Field(
        default=3, ge=1, description="Failed log-ins in a row before each further one locks the account."
    )
    login_first_lock_s: int = Field(
        default=1, ge=1, description="The first lock after the free failed log-ins, seconds (then doubled)."
    )
    login_max_lock_s: int = Field(
        default=900,
        ge=1,
        description="Longest lock after failed log-ins (the lock doubles up to it), seconds.",
    )
