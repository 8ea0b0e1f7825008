"""Keep ``tile_invalidation`` small: records older than the retention are deleted in the background.

Every tile cache reads the records at least once per ``MAX_SILENCE_SECONDS`` (a cache
silent for longer clears itself instead), so a record older than the retention has been
seen by every running cache and can go. Each server process prunes on the primary
every ``every_s`` seconds; several processes pruning at once only delete the same rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import Connection, Engine

from addresses.changes import prune
from addresses.periodic import Periodic
from tiles.store import MAX_SILENCE_SECONDS

MIN_RETENTION_S: Final = 2 * MAX_SILENCE_SECONDS
"""The shortest retention allowed: well past the longest a cache trusts itself without reading."""


def prune_expired(conn: Connection, *, retention_s: float) -> int:
    """Delete the invalidation records older than ``retention_s`` seconds; return how many."""
    return prune(conn, before=datetime.now(UTC) - timedelta(seconds=retention_s))


def prune_period_s(retention_s: float) -> float:
    """How often to prune: a quarter of the retention, at most hourly.

    >>> prune_period_s(86400), prune_period_s(7200)
    (3600.0, 1800.0)
    """
    return min(retention_s / 4, 3600.0)


class InvalidationPruner(Periodic):
    """A daemon thread that prunes ``tile_invalidation`` on ``engine`` (the primary) once started."""

    failure = "pruning tile_invalidation failed"

    def __init__(self, engine: Engine, *, retention_s: float) -> None:
        """Prune records older than ``retention_s`` at start and then every :func:`prune_period_s`."""
        super().__init__(every_s=prune_period_s(retention_s), name="diachiso-tile-prune", at_start=True)
        self.engine = engine
        self.retention_s = retention_s
        self.pruned = 0

    def work(self) -> int:
        """Delete the expired records in one transaction; how many."""
        with self.engine.begin() as conn:
            deleted = prune_expired(conn, retention_s=self.retention_s)
        self.pruned += deleted
        return deleted
