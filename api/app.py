"""The FastAPI application factory: ``create_app(settings)``; its lifespan owns the engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from addresses import pgcluster
from addresses.db import make_engine
from addresses.settings import DatabaseSettings
from api.errors import add_exception_handlers
from api.middleware import HeadAsGet, RequestSizeLimit
from api.routes import codes, geocode, health, ogc, pages, tiles, units
from api.settings import ApiSettings

STATIC_DIR = Path(__file__).with_name("static")


def create_app(database: DatabaseSettings, api: ApiSettings | None = None) -> FastAPI:
    """Build the application for the given settings (tests pass their own)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(pgcluster.database_url(database), database)
        read = make_engine(database.read_database_url, database) if database.read_database_url else engine
        app.state.engine, app.state.read_engine = engine, read
        app.state.tiles = tiles.open_tiles(read, app.state.api_settings.tiles)
        app.state.geocoder = geocode.open_index(read, app.state.geocode_settings)
        try:
            yield
        finally:
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
    add_middleware(app, settings)
    app.state.geocode_settings = geocode.GeocodeSettings()
    add_exception_handlers(app)
    app.include_router(health.router)
    app.include_router(tiles.router)
    app.include_router(ogc.router)
    app.include_router(units.router)
    app.include_router(geocode.router)
    app.include_router(codes.router)
    app.include_router(pages.router)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def add_middleware(app: FastAPI, settings: ApiSettings) -> None:
    """Gzip for large answers, CORS for the configured origins, a request size limit, HEAD as GET."""
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_kb * 1024)
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PATCH", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=["ETag", "Location", "Link", "Content-Crs"],
        )
    app.add_middleware(HeadAsGet)  # outermost: HEAD goes through every other layer as GET


def app_from_environment() -> FastAPI:
    """The app configured from the environment (the entry point of ``diachiso serve``)."""
    return create_app(DatabaseSettings(), ApiSettings())
