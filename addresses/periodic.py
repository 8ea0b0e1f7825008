"""One background thread that runs a task every period until stopped: the one periodic-worker helper.

The geocoder index refresher and the tile invalidation pruner are both a
:class:`Periodic` with their own :meth:`~Periodic.work`. A run that fails (a database
that is down) is logged with :attr:`~Periodic.failure` and tried again the next period.

>>> class Counter(Periodic):
...     failure = "counting failed"
...     def __init__(self) -> None:
...         super().__init__(every_s=3600, name="counter", at_start=True)
...         self.runs = 0
...     def work(self) -> int:
...         self.runs += 1
...         return self.runs
>>> counter = Counter()
>>> counter.start(); counter.stop(); counter.runs
1
>>> counter.run_once()
2
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from typing import ClassVar

log = logging.getLogger(__name__)


class Periodic(ABC):
    """A daemon thread calling :meth:`work` every ``every_s`` seconds (or when nudged) once started."""

    failure: ClassVar[str] = "periodic work failed"
    """What the log says when a run fails (the work is tried again the next period)."""

    def __init__(self, *, every_s: float, name: str, at_start: bool = False) -> None:
        """Run every ``every_s`` seconds on a thread called ``name``; once at start too if ``at_start``."""
        self.every_s = every_s
        self.at_start = at_start
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @abstractmethod
    def work(self) -> object:
        """The work of one period (it may raise: the run is logged as failed)."""

    def run_once(self) -> object:
        """Do one period's work now: its result, or None when it failed (logged)."""
        try:
            return self.work()
        except Exception:  # the database is down or busy: log it, try again next period
            log.warning("%s; trying again later", self.failure, exc_info=True)
            return None

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def nudge(self) -> None:
        """Run now rather than at the end of the period."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the thread (a run in progress is waited for up to ``timeout_s``)."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        """Run (at start if asked), then every period or when nudged, until stopped."""
        if self.at_start:
            self.run_once()
        while not self._stopping.is_set():
            self._wake.wait(self.every_s)
            self._wake.clear()
            if not self._stopping.is_set():
                self.run_once()
