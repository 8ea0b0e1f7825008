"""Keep the geocoder index current off the request path: a background thread patches, rebuilds and swaps it.

Requests only read ``index.state`` (one snapshot per search). Every ``poll_s`` seconds
(0.25 by default) the refresher reads the change feed after the last event it saw (an
indexed range read, usually empty): addresses moved, retired or restored are written
into a copy of the index arrays (:mod:`geocoder.patching`, milliseconds), so a search
shows an edit within a second; other events (new addresses, renamed streets, other
datasets, imports) rebuild what changed. Every ``confirm_every_s`` it also looks whether
the addresses changed (:meth:`geocoder.index.GeocoderIndex.confirm`, a few primary-key
look-ups): /reverse answers the nearest address from memory while the last look is
recent and found no change, and asks the database otherwise. Every ``every_s`` seconds
(or when nudged) it compares the data's fingerprint and, when something changed, builds
the new state beside the old one and swaps it in with one assignment: no request ever
waits for a rebuild. A database that is down only delays the next look (it is logged,
and tried again later).
"""

from __future__ import annotations

import logging
import time
from typing import Final

from sqlalchemy import Connection, Engine

from addresses.feed import MAX_EVENTS, events_after, last_seq
from addresses.periodic import Periodic
from geocoder.index import GeocoderIndex
from geocoder.patching import changed_rows, patch_addresses

POLL_S: Final = 0.25
"""How often the refresher looks at the change feed, seconds: an edit is searchable within a second."""

log = logging.getLogger(__name__)


class IndexRefresher(Periodic):
    """A daemon thread following the change feed, looking at the addresses, and rebuilding when due."""

    failure = "geocoder index refresh failed; keeping the current index"

    def __init__(
        self,
        index: GeocoderIndex,
        engine: Engine,
        *,
        every_s: float,
        confirm_every_s: float | None = None,
    ) -> None:
        """Follow the feed every :data:`POLL_S`, look every ``confirm_every_s``, rebuild every ``every_s``."""
        super().__init__(every_s=min(every_s, POLL_S), name="diachiso-index-refresh", at_start=True)
        self.index = index
        self.engine = engine
        self.refresh_every_s = every_s
        self.confirm_every_s = min(every_s, confirm_every_s or every_s)
        self.refreshes = 0
        self.patches = 0
        self._seen_seq: int | None = None
        self._refreshed_at = self._confirmed_at = time.monotonic()
        self._nudged = False

    def nudge(self) -> None:
        """Rebuild now (if the data changed) rather than at the end of the period."""
        self._nudged = True
        super().nudge()

    def work(self) -> str:
        """Follow the feed; then rebuild when due or nudged, else look at the addresses when due."""
        now = time.monotonic()
        with self.engine.connect() as conn:
            done = self._apply_events(conn)
            if self._nudged or now - self._refreshed_at >= self.refresh_every_s:
                self._nudged = False
                return "rebuilt" if self._rebuild(conn) else done
            if done == "none" and now - self._confirmed_at >= self.confirm_every_s:
                self._confirmed_at = now
                self.index.confirm(conn)
        return done

    def _apply_events(self, conn: Connection) -> str:
        """Apply the feed's new events: "patched" (edited addresses written in), "rebuilt", or "none"."""
        if self._seen_seq is None:
            self._seen_seq = last_seq(conn)
            return "none"
        page = events_after(conn, after=self._seen_seq, limit=MAX_EVENTS)
        if not page.events:
            return "none"
        self._seen_seq = page.events[-1].seq
        if all(event.dataset == "addresses" and event.feature_id is not None for event in page.events):
            rows = changed_rows(conn, {int(event.feature_id or 0) for event in page.events})
            if self.index.replace_state(lambda state: patch_addresses(state, rows)):
                self.patches += 1
                return "patched"
        return "rebuilt" if self._rebuild(conn) else "none"

    def _rebuild(self, conn: Connection) -> bool:
        """Compare the fingerprint and rebuild if the data changed; whether it rebuilt."""
        self._refreshed_at = time.monotonic()
        rebuilt = self.index.refresh_if_stale(conn, force=True)
        if rebuilt:
            self.refreshes += 1
            log.info("geocoder index rebuilt in %.1f s", self.index.state.built_seconds)
        return rebuilt

    def refresh_once(self) -> bool:
        """Refresh now: whether the index was rebuilt (False, logged, if the database failed)."""
        try:
            with self.engine.connect() as conn:
                return self._rebuild(conn)
        except Exception:  # the database is down or busy: keep the current index
            log.warning("%s; trying again later", self.failure, exc_info=True)
            return False

    def follow_feed(self) -> str:
        """Apply the feed's new events now (see :meth:`_apply_events`); "none" if the database failed."""
        try:
            with self.engine.connect() as conn:
                return self._apply_events(conn)
        except Exception:  # the database is down or busy: the periodic look logs it
            return "none"
