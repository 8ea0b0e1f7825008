"""The tile routes over HTTP: content type, ETag and 304, TileJSON, errors, freshness across processes.

Last, schemathesis sends generated requests (valid and not) to every /tiles operation:
no server error, and every answer documented in the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import mapbox_vector_tile
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, column, delete, func, insert, select, table

from addresses.schema import village
from addresses.settings import DatabaseSettings
from api.app import create_app
from api.settings import ApiSettings, TileSettings
from tests.records import record_change
from tests.tilemath import tile_for
from tiles.layers import get_layer
from tiles.workers import open_tiles

MVT = "application/vnd.mapbox-vector-tile"
CITY_Z12 = "/tiles/units/12/3246/1805.mvt"
CITY_WARDS = {"04792", "04795", "04828", "04831", "04894"}
SCHEMA_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def codes(content: bytes) -> set[str]:
    """The ``code`` attributes of the units in an MVT."""
    decoded: dict[str, Any] = mapbox_vector_tile.decode(content)
    return {f["properties"]["code"] for f in decoded["units"]["features"]}


def test_a_tile_is_a_gzipped_mvt_with_etag_and_cache_control(client: TestClient) -> None:
    response = client.get(CITY_Z12)
    assert response.status_code == 200
    assert response.headers["content-type"] == MVT
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["etag"].startswith('W/"')
    assert codes(response.content) == CITY_WARDS


def test_a_client_without_gzip_gets_the_same_tile_plain(client: TestClient) -> None:
    gzipped = client.get(CITY_Z12)
    plain = client.get(CITY_Z12, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == gzipped.content
    assert plain.headers["etag"] == gzipped.headers["etag"]


def test_a_tile_says_vary_accept_encoding_once(client: TestClient) -> None:
    """The tile route chooses its encoding itself; the app's gzip layer leaves its headers alone."""
    plain = client.get(CITY_Z12, headers={"Accept-Encoding": "identity"})
    assert len(plain.content) >= 1000  # the size from which the gzip layer would add its own Vary
    for response in (plain, client.get(CITY_Z12)):
        assert response.headers.get_list("vary") == ["Accept-Encoding"]


def test_if_none_match_answers_304_without_a_body(client: TestClient) -> None:
    etag = client.get(CITY_Z12).headers["etag"]
    response = client.get(CITY_Z12, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    other = client.get(CITY_Z12, headers={"If-None-Match": 'W/"something-else"'})
    assert other.status_code == 200


@pytest.mark.parametrize("path", ["/tiles/units/12/0/0.mvt", "/tiles/addresses/10/811/451.mvt"])
def test_an_empty_tile_is_204_no_content(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 204
    assert response.content == b""
    assert "etag" in response.headers


def test_tilejson_describes_the_layer(client: TestClient) -> None:
    response = client.get("/tiles/units.json")
    assert response.status_code == 200
    document = response.json()
    assert document["tilejson"] == "3.0.0"
    assert document["tiles"] == ["http://testserver/tiles/units/{z}/{x}/{y}.mvt"]
    assert (document["minzoom"], document["maxzoom"]) == (6, 16)
    west, south, east, north = document["bounds"]
    assert 104.5 < west < 105.0
    assert 105.8 < east < 106.0
    assert 20.0 < south < 20.5
    assert 21.0 < north < 21.5
    assert document["vector_layers"] == [
        {
            "id": "units",
            "description": "Communes and wards since 1 July 2025",
            "fields": {"code": "String", "name": "String", "full_name": "String", "unit_type": "String"},
            "minzoom": 6,
            "maxzoom": 16,
        }
    ]
    assert west < document["center"][0] < east


def test_the_tile_url_template_follows_the_host_the_client_used(client: TestClient) -> None:
    document = client.get("/tiles/villages.json", headers={"Host": "maps.example.vn"}).json()
    assert document["tiles"] == ["http://maps.example.vn/tiles/villages/{z}/{x}/{y}.mvt"]


def test_the_layer_list_links_every_layer(client: TestClient) -> None:
    layers = client.get("/tiles").json()
    assert [layer["id"] for layer in layers] == ["units", "units_2024", "villages", "places", "addresses"]
    addresses = layers[-1]
    assert addresses["minzoom"] == 14
    assert set(addresses["fields"]) == {"registry_code", "location_code", "house_number", "street"}
    assert addresses["tilejson"] == "http://testserver/tiles/addresses.json"
    assert client.get(addresses["tilejson"]).status_code == 200


@pytest.mark.parametrize(
    ("path", "status", "parameter"),
    [
        ("/tiles/units/23/0/0.mvt", 422, "z"),
        ("/tiles/units/2/-1/0.mvt", 422, "x"),
        ("/tiles/units/abc/0/0.mvt", 422, "z"),
        ("/tiles/units/2/4/0.mvt", 400, "x"),
        ("/tiles/units/2/0/4.mvt", 400, "y"),
    ],
)
def test_bad_tile_coordinates_name_the_parameter(
    client: TestClient, path: str, status: int, parameter: str
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.json()["error"]["parameter"] == parameter
    assert response.json()["error"]["status"] == status


@pytest.mark.parametrize("path", ["/tiles/roads/1/0/0.mvt", "/tiles/roads.json"])
def test_an_unknown_layer_is_404_in_the_json_error_shape(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "NotFoundError"
    assert "no tile layer 'roads'" in error["message"]


@pytest.fixture
def quick_client(database_url: str) -> Iterator[TestClient]:
    """A second app process on the test database, reading changes every 50 ms."""
    settings = ApiSettings(tiles=TileSettings(poll_seconds=0.05, max_age=5))
    with TestClient(create_app(DatabaseSettings(database_url=database_url), settings)) as test_client:
        yield test_client


def test_an_edit_committed_elsewhere_reaches_the_cached_tile(
    engine: Engine, quick_client: TestClient
) -> None:
    point = (105.3301, 20.8123)  # in Hòa Bình city
    path = f"/tiles/villages/{tile_for(*point, 14)}.mvt"
    before = quick_client.get(path)
    assert before.headers["cache-control"] == "public, max-age=5"
    assert quick_client.get(path).headers["etag"] == before.headers["etag"]  # served from the cache
    with engine.begin() as conn:  # another process writes (and commits) a village there
        new_id = conn.execute(
            insert(village)
            .values(
                name="Xóm Mới Lập",
                geom=func.ST_SetSRID(func.ST_MakePoint(*point), 4326),
                source="tile-api-test",
                source_id="1",
            )
            .returning(village.c.id)
        ).scalar_one()
        record_change(conn, layer="village", bbox=point * 2)
    try:
        time.sleep(0.1)
        after = quick_client.get(path)
        assert after.headers["etag"] != before.headers["etag"]
        names = {
            f["properties"]["name"] for f in mapbox_vector_tile.decode(after.content)["villages"]["features"]
        }
        assert "Xóm Mới Lập" in names
    finally:
        with engine.begin() as conn:  # as an editor would: remove it and say where
            conn.execute(delete(village).where(village.c.id == new_id))
            record_change(conn, layer="village", bbox=point * 2)


TILE_OPERATIONS = [
    (method.upper(), path)
    for path, methods in create_app(
        DatabaseSettings(database_url="postgresql://unused@127.0.0.1/unused"), ApiSettings()
    )
    .openapi()["paths"]
    .items()
    if path.startswith("/tiles")
    for method in methods
]


@pytest.fixture(scope="module")
def tiles_schema(engine: Engine, database_url: str) -> schemathesis.BaseSchema:
    """The app's OpenAPI document, the app running on the test database."""
    return schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(DatabaseSettings(database_url=database_url), ApiSettings())
    )


@pytest.mark.parametrize(("method", "path"), TILE_OPERATIONS)
def test_generated_requests_get_documented_answers(
    tiles_schema: schemathesis.BaseSchema, method: str, path: str
) -> None:
    operation = tiles_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(checks=SCHEMA_CHECKS)

    check()


def test_tile_workers_reconnect_when_their_connection_is_killed(engine: Engine) -> None:
    workers = open_tiles(engine, cache_bytes=0, poll_seconds=1.0, threads=1)
    units, tile = get_layer("units"), tile_for(105.338, 20.817, 12)
    try:
        first = asyncio.run(workers.tile(units, tile))
        with engine.connect() as conn:  # as a database restart or an idle timeout would
            activity = table("pg_stat_activity", column("pid"), column("datname"), column("query"))
            killed = conn.execute(
                select(func.pg_terminate_backend(activity.c.pid)).where(
                    activity.c.pid != func.pg_backend_pid(),
                    activity.c.datname == func.current_database(),
                    activity.c.query.like("%ST_AsMVT%"),
                )
            ).all()
        assert killed
        assert asyncio.run(workers.tile(units, tile)).etag == first.etag
    finally:
        workers.close()
