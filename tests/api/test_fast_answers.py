"""The geocoding answers serialised once (geocoder.geocodejson) are what the response models document.

/search, /autocomplete and /reverse send bytes built straight from the result objects;
the pydantic models only document them. Here, for a sample of the development set, both
languages and with filters, each body of the running app is read back through its model
(``GeocodeCollection``): what the model keeps and dumps (``model_dump(mode="json")``, what
FastAPI would send) must be the whole body, nothing missing, added or retyped; and the
body must answer the same results as the index searched in-process with the same
filters. The OpenAPI schema still names the models.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.deps import app_state_of
from api.schemas_geocode import GeocodeCollection
from geocoder.geocodejson import (
    Lang,
    collection,
    reverse_feature,
    reverse_query_json,
    search_feature,
    search_query_json,
)
from geocoder.index import GeocoderIndex
from geocoder.parse import parse
from geocoder.reverse import DEFAULT_RADIUS_M, ReverseQuery
from geocoder.reverse_memory import reverse_in_memory
from geocoder.search import SearchFilters, autocomplete, search

pytestmark = pytest.mark.db

SAMPLE = 40
LANGS: tuple[Lang, ...] = ("vi", "en")
FILTERS: list[tuple[dict[str, Any], SearchFilters, dict[str, Any]]] = [
    ({}, SearchFilters(), {}),
    ({"type": "village"}, SearchFilters(types=frozenset({"village"})), {"type": ["village"]}),
    ({"lon": 105.07, "lat": 20.65}, SearchFilters(near=(105.07, 20.65)), {"near": [105.07, 20.65]}),
]


def _rows(data_dir: Path) -> list[dict[str, Any]]:
    lines = (data_dir / "geocoding_dev_queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _same(first: Any, second: Any) -> bool:
    """Equal JSON values; numbers equal as floats (an integral float may come back as either)."""
    if isinstance(first, int | float) and isinstance(second, int | float) and not isinstance(first, bool):
        return math.isclose(first, second, rel_tol=0, abs_tol=0)
    if isinstance(first, dict) and isinstance(second, dict):
        return first.keys() == second.keys() and all(_same(first[k], second[k]) for k in first)
    if isinstance(first, list) and isinstance(second, list):
        return len(first) == len(second) and all(_same(a, b) for a, b in zip(first, second, strict=True))
    return bool(first == second)


def _index(client: TestClient) -> GeocoderIndex:
    return app_state_of(cast(FastAPI, client.app)).geocoder


def _in_process(index: GeocoderIndex, path: str, text: str, case: int, lang: Lang) -> dict[str, Any]:
    """The answer of the same search made in this process on the app's own index."""
    _params, filters, shown = FILTERS[case]
    find = search if path == "/search" else autocomplete
    results = find(index, text, limit=5, filters=filters)
    query = search_query_json(text, parsed=parse(text).to_dict(), limit=5, lang=lang, filters=shown)
    return collection([search_feature(result, lang=lang) for result in results], query)


def _as_the_model_documents(body: dict[str, Any]) -> bool:
    """Whether the body, read through its response model and dumped again, is the same body."""
    return _same(GeocodeCollection.model_validate(body).model_dump(mode="json"), body)


@pytest.mark.parametrize("path", ["/search", "/autocomplete"])
def test_search_bodies_are_the_models_and_the_results(client: TestClient, data_dir: Path, path: str) -> None:
    rng = random.Random(5)
    texts = [row["query"] for row in _rows(data_dir) if row["kind"] != "reverse"]
    index, compared = _index(client), 0
    for text in rng.sample(texts, SAMPLE):
        case, lang = rng.randrange(len(FILTERS)), rng.choice(LANGS)
        params = {"q": text, "limit": 5, "lang": lang, **FILTERS[case][0]}
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert _as_the_model_documents(body), text
        expected = _in_process(index, path, text, case, lang)
        assert _same(body, json.loads(json.dumps(expected))), text
        compared += len(expected["features"])
    assert compared >= SAMPLE  # most queries find something: the features were compared too


def test_reverse_bodies_are_the_models_and_the_results(
    client: TestClient, engine: Engine, data_dir: Path
) -> None:
    rng = random.Random(7)
    points = [(row["lon"], row["lat"]) for row in _rows(data_dir) if row["kind"] == "reverse"]
    index = _index(client)
    for lon, lat in rng.sample(points, SAMPLE):
        lang = rng.choice(LANGS)
        response = client.get("/reverse", params={"lon": lon, "lat": lat, "lang": lang})
        assert response.status_code == 200, response.text
        body = response.json()
        assert _as_the_model_documents(body), (lon, lat)
        result = reverse_in_memory(index.state.reverse, query=ReverseQuery(lon, lat), connect=engine.connect)
        query = reverse_query_json((lon, lat), radius_m=DEFAULT_RADIUS_M, lang=lang)
        expected = collection([reverse_feature(result, lang=lang)], query)
        assert _same(body, json.loads(json.dumps(expected))), (lon, lat)


def test_the_openapi_schema_documents_the_models(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path in ("/search", "/autocomplete", "/reverse"):
        ok = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": "#/components/schemas/GeocodeCollection"}, path
    schemas = document["components"]["schemas"]
    assert "diachiso" in schemas["GeocodeCollection"]["properties"]
    assert "address" in schemas["DiachisoProperties"]["properties"]
