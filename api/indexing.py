"""Keep the geocoder index current off the request path: a background thread rebuilds and swaps it.

Requests only read ``index.state`` (one snapshot per search). Every ``poll_s`` seconds
(0.25 by default) the refresher reads the change feed after the last event it saw (an
indexed range read, usually empty): addresses moved, retired or restored are written
into the index arrays in place (:mod:`geocoder.patching`, milliseconds), so a search
shows an edit within a second; other events (new addresses, renamed streets, other
datasets, imports) rebuild what changed. In any case every ``every_s`` seconds it
compares the data's fingerprint and, when something changed,
builds the new state beside the old one and swaps it in with one assignment
(:meth:`geocoder.index.GeocoderIndex.refresh_if_stale`): no request ever waits for a
rebuild, and searches keep answering from the old state meanwhile. A database that is
down only delays the next refresh (it is logged, and tried again later).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

from sqlalchemy import Connection, Engine

from addresses.feed import MAX_EVENTS, events_after, last_seq
from geocoder.index import GeocoderIndex
from geocoder.patching import changed_rows, patch_addresses

POLL_S: Final = 0.25
"""How often the refresher looks at the change feed, seconds: an edit is searchable within a second."""

log = logging.getLogger(__name__)


class IndexRefresher:
    """A daemon thread that refreshes one geocoder index every ``every_s`` seconds."""

    def __init__(
        self, index: GeocoderIndex, engine: Engine, *, every_s: float, poll_s: float = POLL_S
    ) -> None:
        """Refresh ``index`` when the feed moves (looked at every ``poll_s``) and every ``every_s``."""
        self.index = index
        self.engine = engine
        self.every_s = every_s
        self.poll_s = min(poll_s, every_s)
        self.refreshes = 0
        self.patches = 0
        self._seen_seq: int | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="diachiso-index-refresh", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def nudge(self) -> None:
        """Check now rather than at the next period."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the thread (a rebuild in progress is waited for up to ``timeout_s``)."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def refresh_once(self) -> bool:
        """Compare the fingerprint and rebuild if the data changed; False (logged) if the database failed."""
        try:
            with self.engine.connect() as conn:
                rebuilt = self.index.refresh_if_stale(conn, force=True)
        except Exception:  # the database is down or busy: keep the current index, try later
            log.warning("geocoder index refresh failed; keeping the current index", exc_info=True)
            return False
        if rebuilt:
            self.refreshes += 1
            log.info("geocoder index rebuilt in %.1f s", self.index.state.built_seconds)
        return rebuilt

    def follow_feed(self) -> str:
        """Apply the feed's new events: "patched" (edited addresses written in), "rebuilt", or "none".

        Events of addresses moved, retired or restored are applied to the index arrays in
        place (geocoder.patching); anything else (other datasets, imports, new addresses,
        renamed streets) rebuilds what changed. A database failure keeps the index ("none").
        """
        try:
            with self.engine.connect() as conn:
                return self._apply_events(conn)
        except Exception:  # the database is down or busy: the periodic check logs it
            return "none"

    def _apply_events(self, conn: Connection) -> str:
        if self._seen_seq is None:
            self._seen_seq = last_seq(conn)
            return "none"
        page = events_after(conn, after=self._seen_seq, limit=MAX_EVENTS)
        if not page.events:
            return "none"
        self._seen_seq = page.events[-1].seq
        ids = {e.feature_id for e in page.events if e.dataset == "addresses" and e.feature_id is not None}
        if all(e.dataset == "addresses" and e.feature_id is not None for e in page.events):
            rows = changed_rows(conn, ids)
            if self.index.replace_state(lambda state: patch_addresses(state, rows)):
                self.patches += 1
                return "patched"
        if self.index.refresh_if_stale(conn, force=True):
            self.refreshes += 1
        return "rebuilt"

    def _run(self) -> None:
        """Follow the feed every ``poll_s``; compare the fingerprint every period or when nudged."""
        self.follow_feed()
        due = time.monotonic() + self.every_s
        while not self._stopping.is_set():
            nudged = self._wake.wait(self.poll_s)
            self._wake.clear()
            if self._stopping.is_set():
                break
            self.follow_feed()
            if nudged or time.monotonic() >= due:
                due = time.monotonic() + self.every_s
                self.refresh_once()
