"""Keep the geocoder index current off the request path: a background thread rebuilds and swaps it.

Requests only read ``index.state`` (one snapshot per search). Every ``poll_s`` seconds
(0.25 by default) the refresher reads the change feed's last number (one row:
:func:`addresses.feed.last_seq`); when an edit or an import appended events, and in any
case every ``every_s`` seconds, it compares the data's fingerprint and, when something changed,
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

from sqlalchemy import Engine

from addresses.feed import last_seq
from geocoder.index import GeocoderIndex

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

    def feed_moved(self) -> bool:
        """Whether the change feed got events since the last look (False when the database failed)."""
        try:
            with self.engine.connect() as conn:
                seq = last_seq(conn)
        except Exception:  # the database is down: the periodic check logs it
            return False
        moved = self._seen_seq is not None and seq != self._seen_seq
        self._seen_seq = seq
        return moved

    def _run(self) -> None:
        """Refresh when the feed moves, every period, or when nudged, until stopped."""
        self.feed_moved()
        due = time.monotonic() + self.every_s
        while not self._stopping.is_set():
            nudged = self._wake.wait(self.poll_s)
            self._wake.clear()
            if self._stopping.is_set():
                break
            if nudged or self.feed_moved() or time.monotonic() >= due:
                due = time.monotonic() + self.every_s
                self.refresh_once()
