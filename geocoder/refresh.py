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
import threading

from sqlalchemy import Engine

from geocoder.index import GeocoderIndex

log = logging.getLogger(__name__)


class IndexRefresher:
    """A daemon thread that refreshes one geocoder index every ``every_s`` seconds."""

    def __init__(self, index: GeocoderIndex, engine: Engine, *, every_s: float) -> None:
        """Refresh ``index`` from ``engine`` every ``every_s`` seconds once started."""
        self.index = index
        self.engine = engine
        self.every_s = every_s
        self.refreshes = 0
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

    def _run(self) -> None:
        """Refresh every period (or when nudged) until stopped."""
        while not self._stopping.is_set():
            self._wake.wait(self.every_s)
            self._wake.clear()
            if not self._stopping.is_set():
                self.refresh_once()
