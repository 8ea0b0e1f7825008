"""The FastAPI application factory: ``create_app(settings)``; its lifespan owns the engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware

from addresses import pgcluster
from addresses.db import make_engine
from addresses.settings import DatabaseSettings
from api.deps import Database, request_slots
from api.errors import add_exception_handlers
from api.indexing import IndexRefresher
from api.middleware import CredentialGate, HeadAsGet, HeaderLimits, RequestSizeLimit, TextParameterCheck
from api.routes import auth, codes, editing, geocode, health, ogc, pages, tiles, units
from api.settings import ApiSettings
from api.viewer import ViewerFiles
from tiles.retention import InvalidationPruner

STATIC_DIR = Path(__file__).with_name("static")


def create_app(database: DatabaseSettings, api: ApiSettings | None = None) -> FastAPI:
    """Build the application for the given settings (tests pass their own)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(pgcluster.database_url(database), database)
        read = make_engine(database.read_database_url, database) if database.read_database_url else engine
        app.state.engine, app.state.read_engine = engine, read
        tile_settings = app.state.api_settings.tiles
        app.state.tiles = tiles.open_tiles(read, tile_settings)
        # the tile threads hold their connections, the index refresher takes one: requests get the rest
        slots = request_slots(2 * database.pool_size, reserved=tile_settings.threads + 1)
        app.state.database = Database(engine, read=read, slots=slots, wait_s=database.pool_timeout)
        app.state.geocoder = geocode.open_index(read, app.state.geocode_settings)
        app.state.search_limiter = geocode.search_limiter()
        refresher = IndexRefresher(app.state.geocoder, read, every_s=app.state.geocode_settings.check_every_s)
        app.state.index_refresher = refresher
        refresher.start()
        pruner = InvalidationPruner(engine, retention_s=tile_settings.invalidation_retention_s)
        app.state.invalidation_pruner = pruner
        pruner.start()
        try:
            yield
        finally:
            pruner.stop()
            refresher.stop()
            app.state.tiles.close()
            read.dispose()
            engine.dispose()

    app = FastAPI(
        title="diachiso",
        summary="Digital addresses and maps of Hoa Binh (Phu Tho)",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # api/routes/pages.py serves /docs and /redoc from npm packages, not a CDN
        redoc_url=None,
    )
    app.state.api_settings = settings = api or ApiSettings()
    app.state.geocode_settings = geocode.GeocodeSettings()
    app.state.batch_jobs = geocode.BatchJobs(app.state.geocode_settings.batch_jobs)
    add_middleware(app, settings, batch_max_bytes=app.state.geocode_settings.batch_max_bytes)
    add_exception_handlers(app)
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


def add_middleware(app: FastAPI, settings: ApiSettings, *, batch_max_bytes: int) -> None:
    """The guards (headers, text parameters, credentials of writes, body size), gzip, CORS, HEAD as GET.

    The last added runs first: HEAD as GET, CORS, then the header limits, the text check,
    the credentials of writes and the body size, all before routing and before any of the body is read.
    """
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    own_limits = {"/batch": batch_max_bytes + geocode.FORM_OVERHEAD_BYTES}
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_kb * 1024, own_limits=own_limits)
    app.add_middleware(CredentialGate)
    app.add_middleware(TextParameterCheck)
    app.add_middleware(HeaderLimits)
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
