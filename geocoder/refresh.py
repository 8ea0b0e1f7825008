"""Keep the geocoder index current off the request path: a background thread rebuilds and swaps it.

Requests only read ``index.state`` (one snapshot per search). Every ``every_s`` seconds
the refresher thread compares the data's fingerprint and, when something changed,
builds the new state beside the old one and swaps it in with one assignment
(:meth:`geocoder.index.GeocoderIndex.refresh_if_stale`): no request ever waits for a
rebuild, and searches keep answering from the old state meanwhile. A database that is
down only delays the next refresh (it is logged, and tried again later).

Between refreshes the thread looks every ``confirm_every_s`` seconds whether the
addresses changed (:meth:`geocoder.index.GeocoderIndex.confirm`, a few primary-key
look-ups, no rebuild): /reverse answers the nearest address from memory while the last
look is recent and found no change, and asks the database otherwise.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine

from addresses.periodic import Periodic
from geocoder.index import GeocoderIndex

log = logging.getLogger(__name__)


class IndexRefresher(Periodic):
    """A daemon thread that refreshes one geocoder index every ``every_s`` seconds."""

    failure = "geocoder index refresh failed; keeping the current index"

    def __init__(
        self, index: GeocoderIndex, engine: Engine, *, every_s: float, confirm_every_s: float | None = None
    ) -> None:
        """Refresh ``index`` from ``engine`` every ``every_s`` seconds once started; look in between.

        ``confirm_every_s``: how often to look whether the addresses changed (default: ``every_s``).
        """
        super().__init__(every_s=min(every_s, confirm_every_s or every_s), name="diachiso-index-refresh")
        self.index = index
        self.engine = engine
        self.refresh_every_s = every_s
        self.refreshes = 0
        self._refreshed_at = time.monotonic()
        self._nudged = False

    def nudge(self) -> None:
        """Rebuild now (if the data changed) rather than at the end of the period."""
        self._nudged = True
        super().nudge()

    def work(self) -> bool:
        """Rebuild when due or nudged, else look whether the addresses changed."""
        if self._nudged or time.monotonic() - self._refreshed_at >= self.refresh_every_s:
            self._nudged = False
            return self.rebuild()
        with self.engine.connect() as conn:
            return self.index.confirm(conn)

    def rebuild(self) -> bool:
        """Compare the fingerprint and rebuild if the data changed; whether it rebuilt."""
        self._refreshed_at = time.monotonic()
        with self.engine.connect() as conn:
            rebuilt = self.index.refresh_if_stale(conn, force=True)
        if rebuilt:
            self.refreshes += 1
            log.info("geocoder index rebuilt in %.1f s", self.index.state.built_seconds)
        return rebuilt

    def refresh_once(self) -> bool:
        """Refresh now: whether the index was rebuilt (False, logged, if the database failed)."""
        try:
            return self.rebuild()
        except Exception:  # the database is down or busy: keep the current index
            log.warning("%s; trying again later", self.failure, exc_info=True)
            return False
