"""An in-process tile cache: least recently used tiles go first once a byte budget is spent.

Tiles are kept as they are served (gzip-compressed, with their ETag). An edit or an
import evicts exactly the cached tiles its box touches, at every zoom, counting the
tile buffer (a point just outside a tile is still drawn in its buffer).

>>> cache = TileCache(max_bytes=10_000)
>>> inside, elsewhere = TileId(14, 12985, 7222), TileId(14, 12900, 7250)
>>> cache.put("villages", inside, encode_tile(b"a tile")), cache.put("villages", elsewhere, EMPTY_TILE)
(True, True)
>>> cache.get("villages", inside).mvt()
b'a tile'
>>> cache.invalidate_bbox("villages", (105.33, 20.81, 105.34, 20.82))
1
>>> cache.get("villages", inside) is None, cache.get("villages", elsewhere) is EMPTY_TILE
(True, True)
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from addresses.changes import check_bbox
from tiles.tilematrix import BUFFER, EXTENT, MAX_ZOOM, TileId, TileRange, tile_range

ENTRY_OVERHEAD: Final = 256
"""Bytes counted per cached tile on top of its data (key, entry, bookkeeping)."""

TileKey = tuple[str, TileId]
"""A cached tile: layer name and tile."""


@dataclass(frozen=True)
class EncodedTile:
    """A tile as served: the gzip-compressed MVT, its ETag, and whether it has no features."""

    gzip: bytes
    etag: str
    empty: bool

    @property
    def size(self) -> int:
        """The bytes it takes in the cache."""
        return len(self.gzip) + len(self.etag) + ENTRY_OVERHEAD

    def mvt(self) -> bytes:
        """The uncompressed MVT bytes (for clients that do not accept gzip)."""
        return gzip.decompress(self.gzip)


def encode_tile(mvt: bytes) -> EncodedTile:
    """Compress a tile once and name it by its content (a weak ETag: gzip or not, it is the same tile).

    >>> tile = encode_tile(b"")
    >>> tile.empty, tile.etag
    (True, 'W/"00000000000000000000000000000000"')
    """
    digest = hashlib.blake2b(mvt, digest_size=16).hexdigest() if mvt else "0" * 32
    return EncodedTile(gzip=gzip.compress(mvt, compresslevel=6, mtime=0), etag=f'W/"{digest}"', empty=not mvt)


EMPTY_TILE: Final = encode_tile(b"")


def touched_tiles(bbox: Sequence[float]) -> list[TileRange]:
    """The tiles a box touches at each zoom 0..MAX_ZOOM (index = zoom), counting the tile buffer.

    >>> [len(r) for r in touched_tiles((105.33, 20.81, 105.34, 20.82))[12:17]]
    [1, 2, 4, 4, 9]
    """
    west, south, east, north = check_bbox(tuple(bbox))
    return [tile_range((west, south, east, north), z, margin=BUFFER / EXTENT) for z in range(MAX_ZOOM + 1)]


class TileCache:
    """Thread-safe LRU of encoded tiles, bounded by bytes, evicted by box."""

    def __init__(self, *, max_bytes: int) -> None:
        """Create an empty cache holding at most ``max_bytes`` (0 disables it)."""
        self.max_bytes = max_bytes
        self._tiles: OrderedDict[TileKey, EncodedTile] = OrderedDict()
        self._by_layer: dict[str, set[TileId]] = {}
        self._bytes = 0
        self._generation = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        """How many tiles are cached."""
        return len(self._tiles)

    @property
    def size_bytes(self) -> int:
        """The bytes the cached tiles take."""
        return self._bytes

    @property
    def generation(self) -> int:
        """A counter that moves on every invalidation: take it before building a tile, pass it to put."""
        return self._generation

    def get(self, layer: str, tile: TileId) -> EncodedTile | None:
        """The cached tile (now the most recently used), or None."""
        key = (layer, tile)
        with self._lock:
            found = self._tiles.get(key)
            if found is None:
                self.misses += 1
                return None
            self._tiles.move_to_end(key)
            self.hits += 1
            return found

    def put(self, layer: str, tile: TileId, encoded: EncodedTile, *, generation: int | None = None) -> bool:
        """Cache a tile; refused (False) if too big or if data changed since ``generation`` was read."""
        if encoded.size > self.max_bytes:
            return False
        key = (layer, tile)
        with self._lock:
            if generation is not None and generation != self._generation:
                return False
            self._drop(key)
            self._tiles[key] = encoded
            self._by_layer.setdefault(layer, set()).add(tile)
            self._bytes += encoded.size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._tiles)))
            return True

    def _drop(self, key: TileKey) -> None:
        """Remove one tile if cached (the lock is held)."""
        encoded = self._tiles.pop(key, None)
        if encoded is not None:
            self._bytes -= encoded.size
            self._by_layer[key[0]].discard(key[1])

    def invalidate_bbox(self, layer: str, bbox: Sequence[float]) -> int:
        """Evict the layer's tiles, at every zoom, that the box (west, south, east, north) touches."""
        ranges = touched_tiles(bbox)
        with self._lock:
            self._generation += 1
            stale = [tile for tile in self._by_layer.get(layer, ()) if tile in ranges[tile.z]]
            for tile in stale:
                self._drop((layer, tile))
            return len(stale)

    def clear(self) -> None:
        """Evict every tile."""
        with self._lock:
            self._generation += 1
            self._tiles.clear()
            self._by_layer.clear()
            self._bytes = 0
