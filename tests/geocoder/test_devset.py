"""Quality gate: hit rates on the development set (data/hoabinh/geocoding_dev_queries.jsonl).

Not a speed test. A forward answer is judged by its top result's point: inside one of the
truth's 2025 ward polygons, or within ``r_m`` metres of the truth point (SOURCES.md: the
ward criterion still applies where a name is shared by several places in one ward).
The stricter reading - every criterion the truth holds - is checked with a lower bar:
the only misses allowed there are such same-ward namesakes.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import Connection

from geocoder.index import GeocoderIndex
from geocoder.reverse import ReverseQuery, reverse
from geocoder.search import search

pytestmark = pytest.mark.db

FORWARD_GATE = 0.99
STRICT_GATE = 0.97


@pytest.fixture(scope="module")
def queries(data_dir_module: Path) -> list[dict[str, Any]]:
    """The development queries."""
    lines = (data_dir_module / "geocoding_dev_queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def data_dir_module() -> Path:
    """The bundled data folder (module scope)."""
    return Path(__file__).resolve().parents[2] / "data" / "hoabinh"


@pytest.fixture(scope="module")
def wards(data_dir_module: Path) -> dict[str, shapely.Geometry]:
    """The 2025 ward polygons of the bundled file, by code."""
    features = json.loads((data_dir_module / "wards_2025.geojson").read_text(encoding="utf-8"))["features"]
    polygons = {f["properties"]["code"]: shape(f["geometry"]) for f in features}
    for polygon in polygons.values():
        shapely.prepare(polygon)
    return polygons


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    x = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(x, lat2 - lat1) * 111_195.0


def _criteria(
    truth: dict[str, Any], lon: float, lat: float, wards: dict[str, shapely.Geometry]
) -> list[bool]:
    """Each criterion the truth holds, judged for one point."""
    found = []
    if "ward_2025" in truth:
        point = shapely.Point(lon, lat)
        found.append(any(wards[code].covers(point) for code in truth["ward_2025"]))
    if "point" in truth:
        found.append(_metres(truth["point"][0], truth["point"][1], lon, lat) <= truth["r_m"])
    return found


def test_forward_hit_rate_per_kind(
    index: GeocoderIndex, queries: list[dict[str, Any]], wards: dict[str, shapely.Geometry]
) -> None:
    hits: dict[str, list[bool]] = defaultdict(list)
    strict: dict[str, list[bool]] = defaultdict(list)
    for query in queries:
        if query["kind"] == "reverse":
            continue
        results = search(index, query["query"], limit=1)
        criteria = _criteria(query["truth"], results[0].lon, results[0].lat, wards) if results else [False]
        hits[query["kind"]].append(any(criteria))
        strict[query["kind"]].append(all(criteria))
    assert set(hits) == {"ward_2025", "commune_old", "village", "poi", "address_messy"}
    rates = {kind: sum(found) / len(found) for kind, found in hits.items()}
    strict_rates = {kind: sum(found) / len(found) for kind, found in strict.items()}
    assert all(rate >= FORWARD_GATE for rate in rates.values()), rates
    assert all(rate >= STRICT_GATE for rate in strict_rates.values()), strict_rates


def test_reverse_hit_rate_is_total(conn: Connection, queries: list[dict[str, Any]]) -> None:
    reverse_queries = [query for query in queries if query["kind"] == "reverse"]
    assert len(reverse_queries) == 400
    wrong = [
        query["id"]
        for query in reverse_queries
        if reverse(conn, query=ReverseQuery(query["lon"], query["lat"])).current_unit.code
        not in query["truth"]["ward_2025"]
    ]
    assert wrong == []
