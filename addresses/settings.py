"""Settings for the database layer, read from ``DIACHISO_*`` environment variables.

Settings objects are created only at entry points (the CLI, the app factory, the
test fixtures), never at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseSettings):
    """Where the database is: an external server URL, or the embedded cluster."""

    model_config = SettingsConfigDict(env_prefix="DIACHISO_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of an existing PostGIS server; when set, nothing is started.",
    )
    home: Path = Field(
        default=Path(".diachiso"),
        description="Project-local folder of the embedded PostgreSQL cluster and its state.",
    )
    pg_port: int = Field(
        default=55433,
        ge=1024,
        le=65535,
        description="Preferred TCP port of the embedded cluster (the next free one is taken if busy).",
    )
    read_database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of a read-only replica (PostgreSQL streaming replication) that the "
        "API's read paths use: geocoder index, reverse, tiles, OGC and units. Edits and imports always "
        "go to the primary. Unset: everything uses the primary.",
    )
    database_name: str = Field(default="diachiso", description="Database name in the cluster.")
    pool_size: int = Field(default=5, ge=1, le=100)

    @property
    def embedded(self) -> bool:
        """Whether the project runs its own PostgreSQL cluster."""
        return self.database_url is None

    @property
    def home_dir(self) -> Path:
        """The absolute path of the project-local state folder."""
        return self.home.expanduser().resolve()
