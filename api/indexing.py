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
import threading
import time

from sqlalchemy import Engine

from geocoder.index import GeocoderIndex

log = logging.getLogger(__name__)


class IndexRefresher:
    """A daemon thread that refreshes one geocoder index every ``every_s`` seconds."""

    def __init__(
        self, index: GeocoderIndex, engine: Engine, *, every_s: float, confirm_every_s: float | None = None
    ) -> None:
        """Refresh ``index`` from ``engine`` every ``every_s`` seconds once started; look in between.

        ``confirm_every_s``: how often to look whether the addresses changed (default: ``every_s``).
        """
        self.index = index
        self.engine = engine
        self.every_s = every_s
        self.confirm_every_s = min(every_s, confirm_every_s or every_s)
        self.refreshes = 0
        self._refreshed_at = time.monotonic()
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
        self._refreshed_at = time.monotonic()
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

    def confirm_once(self) -> bool:
        """Look whether the addresses changed (no rebuild); False when they did or the database failed."""
        try:
            with self.engine.connect() as conn:
                return self.index.confirm(conn)
        except Exception:  # the database is down or busy: the addresses are no longer known fresh
            log.debug("geocoder index look failed", exc_info=True)
            return False

    def _run(self) -> None:
        """Refresh every period (or when nudged), look in between, until stopped."""
        while not self._stopping.is_set():
            nudged = self._wake.wait(self.confirm_every_s)
            self._wake.clear()
            if self._stopping.is_set():
                break
            if nudged or time.monotonic() - self._refreshed_at >= self.every_s:
                self.refresh_once()
            else:
                self.confirm_once()
