"""Plain geocoding requests (api.routes.geocode_plain) answer exactly what the FastAPI routes answer.

Two apps share the session app's index and database, neither with an answer cache: the
app as made (plain requests take the plain routes) and the same app without its plain
routes (every request goes through FastAPI's routes, parameters and dependencies). For
development-set queries with every parameter, and for requests that are not plain (each
must fall through to the FastAPI route: errors, numbers written otherwise, unknown or
repeated parameters), both must answer the same status, headers and bytes. The OpenAPI
document is the same with and without the plain routes.
"""

from __future__ import annotations

import json
import random
import urllib.parse
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.routing import Match

from addresses.settings import DatabaseSettings
from api.app import create_app
from api.deps import app_state_of, set_app_state
from api.routes.geocode_plain import REVERSE_NAMES, SEARCH_NAMES, PlainRoute
from api.settings import ApiSettings
from geocoder.answer_cache import AnswerCache
from geocoder.geocodejson import collection, encode, reverse_feature, reverse_query_json
from geocoder.reverse import DEFAULT_RADIUS_M, ReverseQuery
from geocoder.reverse_memory import reverse_in_memory

pytestmark = pytest.mark.db

SAMPLE = 30
MAI_HA = "05251"
SEARCH_EXTRAS = [
    "",
    "&limit=1",
    "&limit=50&lang=en",
    "&type=village",
    "&type=village&type=street&type=address",
    f"&unit={MAI_HA}",
    "&unit=%2005251%20",
    "&bbox=104.9,20.5,105.2,20.8",
    "&bbox=104.9,20.5,0,105.2,20.8,10",
    "&lat=20.65&lon=105.07",
    "&lon=-105&lat=-20.5&lang=vi&limit=7&type=commune",
]
REVERSE_EXTRAS = [
    "",
    "&lang=en",
    "&radius_m=50",
    "&radius_m=10000",
    "&at=2024-06-30",
    "&at=2025-07-01&lang=en",
]
NOT_PLAIN = [
    "/search?q=xom+lac&limit=05",  # another spelling of 5: FastAPI reads it
    "/search?q=xom+lac&limit=51",  # 422
    "/search?q=xom+lac&limit=0",  # 422
    "/search?q=xom+lac&limit=five",  # 422
    "/search?q=xom+lac&lang=fr",  # 422
    "/search?q=",  # 422
    "/search",  # 422
    "/search?q=a&q=xom+lac",  # the last one counts
    "/search?q=xom+lac&unit=",  # an empty unit: none
    "/search?q=xom+lac&_=123",  # an unknown parameter is ignored
    "/search?q=xom+lac&type=",  # 422
    "/search?q=xom+lac&type=nowhere",  # 422
    "/search?q=xom+lac&bbox=1,2,3",  # 400 naming bbox
    "/search?q=xom+lac&lat=20.65",  # 400: lat without lon
    "/search?q=xom+lac&lat=91&lon=105",  # 422
    "/search?q=xom+lac&lat=2.065e1&lon=105.07",  # an exponent: FastAPI reads it
    "/search?q=" + "x" * 301,  # 422: too long
    "/autocomplete?q=xom+la&limit=+5",
    "/reverse?lon=105.07",  # 422
    "/reverse?lon=105.07&lat=20.65&radius_m=0",  # 422
    "/reverse?lon=105.07&lat=20.65&radius_m=10001",  # 422
    "/reverse?lon=105.07&lat=20.65&at=2024-02-30",  # 422
    "/reverse?lon=105.07&lat=20.65&at=20240630",  # 422
    "/reverse?lon=105.07&lat=20.65&radius_m=1e2",
    "/reverse?lon=105.07&lat=20.65&lat=20.7",
    "/reverse?lon=181&lat=20.65",  # 422
]
OUT_OF_TERRITORY = "/reverse?lon=100.5&lat=13.7"  # 400: far from every commune


@pytest.fixture(scope="module")
def pair(client: TestClient, database_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    """(the app as made, the app without plain routes), both on the session app's state, no answer cache."""
    state = replace(app_state_of(cast(FastAPI, client.app)), answer_cache=AnswerCache(0))
    settings = DatabaseSettings(database_url=database_url)
    plain = create_app(settings, ApiSettings())
    routed = create_app(settings, ApiSettings())
    routed.router.routes[:] = [route for route in routed.router.routes if not isinstance(route, PlainRoute)]
    for app in (plain, routed):
        set_app_state(app, state)  # the session app's lifespan owns what the state holds
    yield TestClient(plain), TestClient(routed)
    for app in (plain, routed):
        set_app_state(app, None)


def _plain_route(client: TestClient, path: str) -> PlainRoute[Any]:
    app = cast(FastAPI, client.app)
    found = [r for r in app.router.routes if isinstance(r, PlainRoute) and r.path == path.partition("?")[0]]
    assert len(found) == 1
    return found[0]


def _is_plain(client: TestClient, path: str) -> bool:
    """Whether the plain route of the path takes this GET request."""
    route_path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "method": "GET",
        "path": route_path,
        "root_path": "",
        "query_string": query.encode(),
    }
    return _plain_route(client, path).matches(scope)[0] == Match.FULL


def _answer(client: TestClient, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
    response = client.get(path)
    return response.status_code, list(response.headers.items()), response.content


def _rows(data_dir: Path) -> list[dict[str, Any]]:
    lines = (data_dir / "geocoding_dev_queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _outside_every_ward_but_near(client: TestClient) -> str:
    """A point 100 m east of the easternmost ward corner: the database says which ward is nearest."""
    wards = app_state_of(cast(FastAPI, client.app)).geocoder.state.reverse.wards
    corners = shapely.get_coordinates(np.array([unit.geom for unit in wards.units], dtype=object))
    lon, lat = corners[int(np.argmax(corners[:, 0]))]
    return f"/reverse?lon={round(float(lon) + 0.001, 6)}&lat={round(float(lat), 6)}"


@pytest.mark.parametrize("path", ["/search", "/autocomplete"])
def test_plain_searches_answer_the_fastapi_routes_bytes(
    pair: tuple[TestClient, TestClient], data_dir: Path, path: str
) -> None:
    plain, routed = pair
    rng = random.Random(17)
    texts = [row["query"] for row in _rows(data_dir) if row["kind"] != "reverse"]
    found = 0
    for text in rng.sample(texts, SAMPLE):
        target = f"{path}?q={urllib.parse.quote_plus(text)}{rng.choice(SEARCH_EXTRAS)}"
        assert _is_plain(plain, target), target
        answer = _answer(plain, target)
        assert answer == _answer(routed, target), target
        found += answer[0] == 200 and b'"Feature"' in answer[2]
    assert found >= SAMPLE // 2  # most find something: features were compared, not only empty answers


def test_plain_reverses_answer_the_fastapi_routes_bytes(
    pair: tuple[TestClient, TestClient], data_dir: Path
) -> None:
    plain, routed = pair
    rng = random.Random(19)
    points = [(row["lon"], row["lat"]) for row in _rows(data_dir) if row["kind"] == "reverse"]
    targets = [
        f"/reverse?lon={lon}&lat={lat}{rng.choice(REVERSE_EXTRAS)}" for lon, lat in rng.sample(points, SAMPLE)
    ]
    for target in [*targets, _outside_every_ward_but_near(plain), OUT_OF_TERRITORY]:
        assert _is_plain(plain, target), target
        assert _answer(plain, target) == _answer(routed, target), target
    assert _answer(plain, OUT_OF_TERRITORY)[0] == 400


def test_a_point_just_outside_every_ward_is_answered_with_the_database(
    pair: tuple[TestClient, TestClient], engine: Engine
) -> None:
    """Computed from memory on the event loop, the answer needs the database: a worker thread answers."""
    plain, _routed = pair
    target = _outside_every_ward_but_near(plain)
    query = dict(urllib.parse.parse_qsl(target.partition("?")[2]))
    lon, lat = float(query["lon"]), float(query["lat"])
    index = app_state_of(cast(FastAPI, plain.app)).geocoder.state
    asked = ReverseQuery(lon, lat, radius_m=DEFAULT_RADIUS_M)
    result = reverse_in_memory(index.reverse, query=asked, connect=engine.connect, fresh=True)
    echo = reverse_query_json((lon, lat), radius_m=DEFAULT_RADIUS_M)
    assert not result.inside
    assert _answer(plain, target)[2] == encode(collection([reverse_feature(result, lang="vi")], echo))


@pytest.mark.parametrize("target", NOT_PLAIN)
def test_other_requests_fall_through_to_the_fastapi_routes(
    pair: tuple[TestClient, TestClient], target: str
) -> None:
    plain, routed = pair
    assert not _is_plain(plain, target)
    assert _answer(plain, target) == _answer(routed, target)


def test_plain_routes_read_the_parameters_the_routes_document(pair: tuple[TestClient, TestClient]) -> None:
    plain, routed = pair
    document = cast(FastAPI, plain.app).openapi()
    assert document == cast(FastAPI, routed.app).openapi()  # the plain routes are not documented
    for path, names in (
        ("/search", SEARCH_NAMES),
        ("/autocomplete", SEARCH_NAMES),
        ("/reverse", REVERSE_NAMES),
    ):
        assert {parameter["name"] for parameter in document["paths"][path]["get"]["parameters"]} == names
