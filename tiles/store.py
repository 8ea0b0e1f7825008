"""Tiles for a server process: an in-process cache that every writer's changes keep fresh.

Several worker processes each keep their own cache. Before answering from it, a
process reads ``tile_invalidation`` for changes committed since its last read (at
most once per ``poll_seconds``) and evicts the tiles they touch, so an edit made
through any process is served by every process within about a second.

A tile built while a change commits could be cached stale: the cache refuses it
when an invalidation happened between reading the cache generation and storing.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Final

from sqlalchemy import Connection

from addresses.types import BBox
from tiles.cache import EMPTY_TILE, EncodedTile, TileCache, encode_tile
from tiles.invalidation import Change, Watermark, changed_bboxes, watermark_now
from tiles.layers import Layer, layers_fed_by
from tiles.mvt import build_tile
from tiles.tilejson import layer_bounds
from tiles.tilematrix import TileId

MAX_SILENCE_SECONDS: Final = 3600.0
"""After this long without a poll the cache is cleared, not trusted: records may have been pruned."""


class TileStore:
    """Build, cache and evict tiles; ``poll`` keeps the cache in step with the database."""

    def __init__(self, *, cache: TileCache, poll_seconds: float = 1.0) -> None:
        """Serve through ``cache``, reading changes at most every ``poll_seconds``."""
        self.cache = cache
        self.poll_seconds = poll_seconds
        self._watermark: Watermark | None = None
        self._polled_at = -math.inf
        self._poll_lock = threading.Lock()
        self._bounds: dict[str, BBox | None] = {}

    def is_fresh(self) -> bool:
        """Whether the cache was checked against the database less than ``poll_seconds`` ago."""
        return time.monotonic() - self._polled_at < self.poll_seconds

    def cached(self, layer: Layer, tile: TileId) -> EncodedTile | None:
        """The tile from memory alone, or None when it must be built or changes read first."""
        if not layer.serves(tile.z):
            return EMPTY_TILE
        if not self.is_fresh():
            return None
        return self.cache.get(layer.name, tile)

    def tile(self, conn: Connection, *, layer: Layer, tile: TileId) -> EncodedTile:
        """The tile: from the cache once changes are read, else built in PostGIS and cached."""
        if not layer.serves(tile.z):
            return EMPTY_TILE
        self.poll(conn)
        found = self.cache.get(layer.name, tile)
        if found is not None:
            return found
        generation = self.cache.generation
        encoded = encode_tile(build_tile(conn, layer=layer, tile=tile))
        self.cache.put(layer.name, tile, encoded, generation=generation)
        return encoded

    def bounds(self, conn: Connection, *, layer: Layer) -> BBox | None:
        """The box around the layer's data (remembered until its data changes)."""
        self.poll(conn)
        if layer.name in self._bounds:
            return self._bounds[layer.name]
        generation = self.cache.generation
        found = layer_bounds(conn, layer=layer)
        if generation == self.cache.generation:
            self._bounds[layer.name] = found
        return found

    def poll(self, conn: Connection, *, force: bool = False) -> int:
        """Evict the tiles that changes committed since the last poll touch; return how many."""
        if not force and self.is_fresh():
            return 0
        with self._poll_lock:
            if not force and self.is_fresh():
                return 0
            silent = time.monotonic() - self._polled_at > MAX_SILENCE_SECONDS
            if self._watermark is None or silent:
                self._watermark = watermark_now(conn)
                self.cache.clear()
                self._bounds.clear()
                evicted = 0
            else:
                batch = changed_bboxes(conn, since=self._watermark)
                evicted = self._evict(batch.changes)
                self._watermark = batch.watermark
            self._polled_at = time.monotonic()
            return evicted

    def _evict(self, changes: list[Change]) -> int:
        """Evict the tiles of every layer fed by each changed table."""
        evicted = 0
        for change in changes:
            for layer in layers_fed_by(change.layer):
                evicted += self.cache.invalidate_bbox(layer.name, change.bbox)
                self._bounds.pop(layer.name, None)
        return evicted
