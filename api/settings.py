"""Settings of the web service, read from ``DIACHISO_*`` environment variables (by the entry points only)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from addresses.limits import MAX_PAGE_SIZE
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


class ServerSettings(BaseSettings):
    """The HTTP server of ``diachiso serve``: how its supervisor watches the worker processes."""

    model_config = SettingsConfigDict(env_prefix="DIACHISO_SERVER_", extra="ignore")

    worker_timeout_s: int = Field(
        default=60,
        ge=5,
        description="DIACHISO_SERVER_WORKER_TIMEOUT_S: with --workers above 1, a worker that does not "
        "answer the supervisor's health check within this time is killed and restarted (uvicorn's "
        "own default, 5 s, kills workers still starting on a busy machine, over and over).",
    )


FORM_OVERHEAD_BYTES: Final = 64 * 1024
"""What the multipart form of POST /batch adds to the CSV file (boundaries, field headers, column names)."""


class GeocodeSettings(BaseSettings):
    """The geocoding routes: the CSV upload limit and how often the index looks for changed data."""

    model_config = SettingsConfigDict(env_prefix="DIACHISO_GEOCODE_", extra="ignore")

    batch_max_mb: float = Field(default=200, gt=0, description="Largest CSV file POST /batch accepts, MB.")
    check_every_s: float = Field(
        default=30, gt=0, description="How often the index compares the data's fingerprint, seconds."
    )
    batch_jobs: int = Field(
        default=2, ge=1, le=64, description="CSV files geocoded at once per worker; more answer 503."
    )
    fresh_s: float = Field(
        default=2,
        ge=0,
        description="/reverse reads the nearest address from memory while the index's addresses were seen "
        "unchanged less than this long ago (the index looks every half of it), else from the database; "
        "0: always the database. Seconds.",
    )
    share_index: bool = Field(
        default=True,
        description="Write the index's address arrays once into memory-mapped files that every worker "
        "process maps (one copy in memory); false: each worker reads its own copy.",
    )
    index_dir: Path | None = Field(
        default=None, description="Folder of the shared address arrays; default: <DIACHISO_HOME>/index."
    )
    search_on_loop: bool = Field(
        default=True,
        description="/search and /autocomplete computed on the event loop, one per turn of it, in arrival "
        "order (no GIL convoy between the loop and search threads); false: on two worker threads per "
        "worker, as before (to compare).",
    )
    answer_cache: int = Field(
        default=4096,
        ge=0,
        description="Answers of /search, /autocomplete and /reverse kept per worker (as the bytes sent) "
        "for the index snapshot they came from; 0: none.",
    )

    @property
    def batch_max_bytes(self) -> int:
        """The upload limit in bytes."""
        return int(self.batch_max_mb * 1024 * 1024)

    @property
    def batch_request_max_bytes(self) -> int:
        """The limit of a whole POST /batch request body: the file and its multipart form."""
        return self.batch_max_bytes + FORM_OVERHEAD_BYTES


class ApiSettings(BaseSettings):
    """How the API behaves: public base URL, CORS, limits, staff log-in sessions."""

    model_config = SettingsConfigDict(env_prefix="DIACHISO_", extra="ignore")

    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Base of links in plates/QR codes."
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS.")
    max_limit: int = Field(default=MAX_PAGE_SIZE, ge=1, description="Largest page size a client may ask for.")
    max_request_kb: int = Field(
        default=1024, ge=1, description="Largest request body, except /batch uploads (DIACHISO_GEOCODE_*)."
    )
    tiles: TileSettings = Field(default_factory=TileSettings, description="DIACHISO_TILE_* variables.")
    geocode: GeocodeSettings = Field(
        default_factory=GeocodeSettings, description="DIACHISO_GEOCODE_* variables."
    )
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
