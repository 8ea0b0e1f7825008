"""The FastAPI application factory: ``create_app(settings)``; its lifespan owns the engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine

from addresses import pgcluster
from addresses.db import make_engine
from addresses.settings import DatabaseSettings
from api.compression import AnswerGZipMiddleware
from api.deps import (
    BATCH_RETRY_AFTER_S,
    SEARCH_THREADS,
    AppState,
    Database,
    app_state_of,
    request_slots,
    set_app_state,
)
from api.errors import add_exception_handlers
from api.loop_turns import LoopTurns
from api.middleware import HeadAsGet, RequestGuards
from api.routes import auth, codes, editing, geocode, health, ogc, pages, tiles, units
from api.routes.geocode_plain import plain_routes
from api.settings import ApiSettings, GeocodeSettings, TileSettings
from api.viewer import ViewerFiles
from geocoder.answer_cache import AnswerCache
from geocoder.batch_stream import BatchPool
from geocoder.index import GeocoderIndex
from geocoder.refresh import IndexRefresher
from tiles.retention import InvalidationPruner
from tiles.workers import TileWorkers, open_tiles

STATIC_DIR = Path(__file__).with_name("static")


def create_app(database: DatabaseSettings, api: ApiSettings) -> FastAPI:
    """Build the application for the given settings (the entry points and tests make them)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        set_app_state(app, open_state(database, api))
        try:
            yield
        finally:
            close_state(app_state_of(app))
            set_app_state(app, None)

    app = FastAPI(
        title="diachiso",
        summary="Digital addresses and maps of Hoa Binh (Phu Tho)",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # api/routes/pages.py serves /docs and /redoc from npm packages, not a CDN
        redoc_url=None,
    )
    add_middleware(app, api)
    add_exception_handlers(app)
    app.router.routes.extend(plain_routes())  # first: plain geocoding requests skip the routers' machinery
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(tiles.router)
    app.include_router(ogc.router)
    app.include_router(units.router)
    app.include_router(geocode.router)
    app.include_router(codes.router)
    app.include_router(editing.router)
    app.include_router(pages.router)

    app.mount("/static", ViewerFiles(directory=STATIC_DIR), name="static")
    return app


def open_state(database: DatabaseSettings, api: ApiSettings) -> AppState:
    """Open what the requests share: engines, tile workers, the geocoder index, the pools, the threads."""
    engine = make_engine(pgcluster.database_url(database), database)
    read = make_engine(database.read_database_url, database) if database.read_database_url else engine
    workers = _open_tiles(read, api.tiles)
    # the tile threads hold their connections, the index refresher takes one: requests get the rest
    slots = request_slots(2 * database.pool_size, reserved=api.tiles.threads + 1)
    index = _open_index(read, api.geocode, home=database.home_dir)
    state = AppState(
        settings=api,
        database=Database(engine, read=read, slots=slots, wait_s=database.pool_timeout),
        geocoder=index,
        search_turns=anyio.CapacityLimiter(SEARCH_THREADS),
        loop_turns=LoopTurns(),
        answer_cache=AnswerCache(api.geocode.answer_cache),
        tiles=workers,
        batches=BatchPool(api.geocode.batch_jobs, retry_after_s=BATCH_RETRY_AFTER_S),
        index_refresher=IndexRefresher(
            index,
            read,
            every_s=api.geocode.check_every_s,
            confirm_every_s=api.geocode.fresh_s / 2 or None,
        ),
        invalidation_pruner=InvalidationPruner(engine, retention_s=api.tiles.invalidation_retention_s),
    )
    state.index_refresher.start()
    state.invalidation_pruner.start()
    return state


def close_state(state: AppState) -> None:
    """Stop the threads and pools of the state and close its engines."""
    state.invalidation_pruner.stop()
    state.index_refresher.stop()
    state.batches.close()
    state.tiles.close()
    state.database.read_engine.dispose()
    state.database.engine.dispose()


def _open_tiles(engine: Engine, settings: TileSettings) -> TileWorkers:
    """The tile cache and workers of the settings."""
    cache_bytes = int(settings.cache_mb * 1024 * 1024)
    return open_tiles(
        engine, cache_bytes=cache_bytes, poll_seconds=settings.poll_seconds, threads=settings.threads
    )


def _open_index(engine: Engine, settings: GeocodeSettings, *, home: Path) -> GeocoderIndex:
    """The geocoder index, built from the database; its address arrays shared under ``home`` if asked."""
    files = (settings.index_dir or home / "index") if settings.share_index else None
    with engine.connect() as conn:
        return GeocoderIndex.load(conn, check_every_s=settings.check_every_s, files=files)


def add_middleware(app: FastAPI, settings: ApiSettings) -> None:
    """The guards (headers, text parameters, credentials of writes, body size), gzip, CORS, HEAD as GET.

    The last added runs first: HEAD as GET, CORS, then the header limits, the text check,
    the credentials of writes and the body size, all before routing and before any of the body is read.
    """
    # a tile is gzipped (or not) by its route, from the stored encodings: the layer leaves it alone
    app.add_middleware(AnswerGZipMiddleware, minimum_size=1000, exclude_content_types=(tiles.MVT_MEDIA_TYPE,))
    own_limits = {"/batch": settings.geocode.batch_request_max_bytes}
    # the header limits, the text check, the credentials of writes and the body size, as one layer
    app.add_middleware(RequestGuards, max_bytes=settings.max_request_kb * 1024, own_limits=own_limits)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PATCH", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match", "X-CSRF-Token"],
            expose_headers=["ETag", "Location", "Link", "Content-Crs"],
        )
    app.add_middleware(HeadAsGet)  # outermost: HEAD goes through every other layer as GET


def app_from_environment() -> FastAPI:
    """The app configured from the environment (the entry point of ``diachiso serve``)."""
    return create_app(DatabaseSettings(), ApiSettings())
