"""The threads that build tiles, each on a database connection it holds open.

A tile in the cache is answered without them; the others are built here, a few at a
time. While the database is unreachable a tile still in the cache is served (nothing
can change it meanwhile); one that is not raises the database error.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from tiles.cache import EncodedTile, TileCache
from tiles.layers import Layer
from tiles.store import TileStore
from tiles.tilematrix import TileId


class TileWorkers:
    """A few threads that build tiles, each on its own database connection held open.

    A tile is one statement: in autocommit on a connection kept by its thread it costs
    one round trip, where a pooled checkout per tile costs four (ping, BEGIN, the tile,
    ROLLBACK). The threads also bound how many tiles are built at once.
    """

    def __init__(self, engine: Engine, store: TileStore, *, threads: int) -> None:
        """Build tiles of ``store`` from ``engine`` on ``threads`` threads."""
        self.engine = engine
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="tiles")
        self._local = threading.local()
        self._connections: list[Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> Connection:
        """This thread's connection, opened (again) when it has none or lost it."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def build(self, layer: Layer, tile: TileId) -> EncodedTile:
        """The tile from the store, on this thread's connection (once more if the connection broke)."""
        try:
            return self.store.tile(self._connection(), layer=layer, tile=tile)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            return self.store.tile(self._connection(), layer=layer, tile=tile)

    async def tile(self, layer: Layer, tile: TileId) -> EncodedTile:
        """The tile, built (or found) on a worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.build, layer, tile)

    async def tile_or_stale(self, layer: Layer, tile: TileId) -> EncodedTile:
        """The tile built (after reading changes); the cached one when the database cannot be reached."""
        try:
            return await self.tile(layer, tile)
        except OperationalError:
            stale = self.store.cache.get(layer.name, tile)
            if stale is None:
                raise
            return stale

    def close(self) -> None:
        """Stop the threads and close their connections."""
        self._executor.shutdown(wait=True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()


def open_tiles(engine: Engine, *, cache_bytes: int, poll_seconds: float, threads: int) -> TileWorkers:
    """The tile cache (``cache_bytes``, 0: none) and ``threads`` workers of one application."""
    store = TileStore(cache=TileCache(max_bytes=cache_bytes), poll_seconds=poll_seconds)
    return TileWorkers(engine, store, threads=threads)
