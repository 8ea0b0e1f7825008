"""Keep the geocoder index current off the request path: a background thread rebuilds and swaps it.

Requests only read ``index.state`` (one snapshot per search). Every ``every_s`` seconds
the refresher thread compares the data's fingerprint and, when something changed,
builds the new state beside the old one and swaps it in with one assignment
(:meth:`geocoder.index.GeocoderIndex.refresh_if_stale`): no request ever waits for a
rebuild, and searches keep answering from the old state meanwhile. A database that is
down only delays the next refresh (it is logged, and tried again later).
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from addresses.periodic import Periodic
from geocoder.index import GeocoderIndex

log = logging.getLogger(__name__)


class IndexRefresher(Periodic):
    """A daemon thread that refreshes one geocoder index every ``every_s`` seconds."""

    failure = "geocoder index refresh failed; keeping the current index"

    def __init__(self, index: GeocoderIndex, engine: Engine, *, every_s: float) -> None:
        """Refresh ``index`` from ``engine`` every ``every_s`` seconds once started."""
        super().__init__(every_s=every_s, name="diachiso-index-refresh")
        self.index = index
        self.engine = engine
        self.refreshes = 0

    def work(self) -> bool:
        """Compare the fingerprint and rebuild if the data changed; whether it rebuilt."""
        with self.engine.connect() as conn:
            rebuilt = self.index.refresh_if_stale(conn, force=True)
        if rebuilt:
            self.refreshes += 1
            log.info("geocoder index rebuilt in %.1f s", self.index.state.built_seconds)
        return rebuilt

    def refresh_once(self) -> bool:
        """Refresh now: whether the index was rebuilt (False, logged, if the database failed)."""
        return self.run_once() is True
