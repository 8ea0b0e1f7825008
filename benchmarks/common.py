"""What the benchmarks share: the bundled data folder and a scratch database loaded with it.

The scratch databases live on the configured server (``DIACHISO_DATABASE_URL`` or the
embedded cluster), beside the real one; each benchmark names its own.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from addresses import migrate
from addresses.settings import DatabaseSettings
from importers.bundled import import_bundled
from tests import databases

ROOT = Path(__file__).resolve().parent.parent
"""The repository."""

DATA = ROOT / "data" / "hoabinh"
"""The bundled Hoa Binh data folder."""


def fresh_database(name: str, settings: DatabaseSettings | None = None) -> str:
    """Drop (forcing connections off) and create the scratch database ``name``; return its URL."""
    return databases.recreate_database(databases.server_url(settings), name)


def load_bundled(engine: Engine) -> None:
    """Migrate the database behind ``engine`` and import the bundled Hoa Binh data into it."""
    migrate.upgrade(engine)
    for _report in import_bundled(engine, DATA):
        pass


def drop_database(url: str) -> None:
    """Drop the scratch database ``url`` names (forcing connections off)."""
    databases.drop_database(url)


def server_url(settings: DatabaseSettings | None = None) -> str:
    """A URL of the configured server (its own database); starts nothing."""
    return databases.server_url(settings)
