"""Encoded answers of one index snapshot, the most recently used kept: a repeated question costs a look-up.

A geocoder is asked the same things again and again (the streets of a town, a form's
autocomplete prefixes, the points a map client sends for its pins), and an answer
depends only on the question and on the index snapshot
(:class:`geocoder.index.IndexState`) it was computed from. So the answers are kept as
the bytes sent, keyed by the question, for the snapshot they came from: when the index
is refreshed, the next look-up with the new snapshot empties the cache, so no answer
ever outlives the data it was computed from. Thread-safe (answers are computed on
worker threads, looked up on the event loop).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CacheStats:
    """What the cache holds and how often it answered."""

    entries: int
    size: int
    bytes: int
    hits: int
    misses: int


class AnswerCache:
    """At most ``size`` encoded answers of one snapshot, least recently used dropped first (0: off).

    >>> cache, snapshot = AnswerCache(2), object()
    >>> cache.put(snapshot, "a", b"1"); cache.put(snapshot, "b", b"2"); cache.get(snapshot, "a")
    b'1'
    >>> cache.put(snapshot, "c", b"3"); cache.get(snapshot, "b") is None, cache.get(snapshot, "a")
    (True, b'1')
    >>> cache.get(object(), "a") is None, cache.stats().entries
    (True, 0)
    """

    def __init__(self, size: int) -> None:
        """Keep up to ``size`` answers."""
        self.size = size
        self._answers: OrderedDict[Hashable, bytes] = OrderedDict()
        self._snapshot: object | None = None
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()

    def _follow(self, snapshot: object) -> None:
        """Forget every answer when the snapshot changed (call with the lock held)."""
        if snapshot is not self._snapshot:
            self._snapshot = snapshot
            self._answers.clear()
            self._bytes = 0

    def get(self, snapshot: object, key: Hashable) -> bytes | None:
        """The answer kept for ``key`` from this snapshot, or None."""
        if self.size <= 0:  # off: nothing is ever kept, so the key need not even be hashed
            with self._lock:
                self._misses += 1
            return None
        with self._lock:
            self._follow(snapshot)
            body = self._answers.get(key)
            if body is None:
                self._misses += 1
                return None
            self._answers.move_to_end(key)
            self._hits += 1
            return body

    def put(self, snapshot: object, key: Hashable, body: bytes) -> None:
        """Keep an answer computed from ``snapshot`` (ignored if the cache moved on to a newer one)."""
        if self.size <= 0:
            return
        with self._lock:
            if self._snapshot is not None and snapshot is not self._snapshot:
                return
            self._snapshot = snapshot
            old = self._answers.pop(key, None)
            self._bytes += len(body) - (len(old) if old is not None else 0)
            self._answers[key] = body
            while len(self._answers) > self.size:
                _key, dropped = self._answers.popitem(last=False)
                self._bytes -= len(dropped)

    def stats(self) -> CacheStats:
        """Entries, bytes held, hits and misses so far."""
        with self._lock:
            return CacheStats(len(self._answers), self.size, self._bytes, self._hits, self._misses)
