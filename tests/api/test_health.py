"""Health answers with the schema revision and what is loaded."""

from __future__ import annotations

import os

from fastapi.testclient import TestClient
from sqlalchemy import Engine

import geocoder
from addresses.db import make_engine
from addresses.settings import DatabaseSettings
from api.app import create_app
from api.deps import app_state_of
from api.settings import ApiSettings
from tests import databases


def test_status_counts_the_bundled_data(client: TestClient, engine: Engine) -> None:
    body = client.get("/status").json()
    assert body["status"] == "ok"
    assert body["schema_revision"] == databases.head_revision(engine)
    assert body["counts"]["admin_unit"] == 210 + 111  # and the communes' periods before 2020
    assert body["counts"]["unit_lineage"] == 155 + 116  # 2025 links, then those of 2008-2021
    assert body["index"]["compiled"] is geocoder.NATIVE.compiled  # the build test_native checks
    assert body["index"]["compiled"] is (os.environ.get("DIACHISO_PURE", "") in ("", "0"))  # make builds it


def test_health_is_liveness_only(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_without_a_database_health_still_answers_and_status_is_503(engine: Engine, database_url: str) -> None:
    app = create_app(DatabaseSettings(database_url=database_url), ApiSettings())
    with TestClient(app) as other:
        database = app_state_of(app).database
        working = database.engine, database.read_engine
        broken = make_engine("postgresql://nobody:nothing@127.0.0.1:9/none")  # nothing listens
        database.engine = database.read_engine = broken
        try:
            live = other.get("/health")
            ready = other.get("/status")
        finally:
            broken.dispose()
            database.engine, database.read_engine = working
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert ready.status_code == 503
    assert ready.headers["Retry-After"] == "1"
    assert ready.json()["error"]["status"] == 503
    assert "database is unavailable" in ready.json()["error"]["message"]


def test_unknown_route_answers_the_error_shape(client: TestClient) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


def test_index_page_is_served(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "diachiso" in response.text


def test_large_answers_are_gzipped(client: TestClient) -> None:
    response = client.get("/units", params={"limit": 200}, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"


def test_an_oversized_body_is_refused_with_413(staff_client: TestClient) -> None:
    response = staff_client.post(
        "/addresses", content=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["parameter"] == "body"


def test_cors_headers_for_a_configured_origin(engine: Engine, database_url: str) -> None:

    app = create_app(
        DatabaseSettings(database_url=database_url), ApiSettings(cors_origins=["https://ubnd.example"])
    )
    with TestClient(app) as other:
        response = other.get("/health", headers={"Origin": "https://ubnd.example"})
    assert response.headers["access-control-allow-origin"] == "https://ubnd.example"
