"""Reverse geocoding from memory answers exactly what the database path answers.

Every field of the result is compared (units of both periods, notes, village, address,
location code, label); distances in metres to 1e-6 m (pyproj's and PostGIS's geodesic
code differ by about 1e-8 m).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import Connection, select

from addresses.errors import OutOfTerritoryError
from addresses.schema import address
from geocoder.index import GeocoderIndex
from geocoder.results import ReverseResult
from geocoder.reverse import ReverseQuery, reverse
from geocoder.reverse_memory import Connect, ReverseIndex, reverse_in_memory
from importers import synth
from tests.records import retire_address

pytestmark = pytest.mark.db

Point = tuple[float, float]
DATES = (dt.date(2019, 6, 1), dt.date(2021, 1, 1), dt.date(2024, 6, 30))
RADII = (50.0, 2_000.0, 10_000.0)
SEED = 13


def _connect(conn: Connection) -> Connect:
    """A ``connect`` that hands out the test's connection (its transaction)."""

    @contextmanager
    def connect() -> Iterator[Connection]:
        yield conn

    return connect


def _close(first: Any, second: Any) -> bool:
    """Equal, floats within 1e-6 (nested dicts and lists)."""
    if isinstance(first, float) and isinstance(second, float):
        return math.isclose(first, second, rel_tol=0.0, abs_tol=1e-6)
    if isinstance(first, dict) and isinstance(second, dict):
        return first.keys() == second.keys() and all(_close(first[k], second[k]) for k in first)
    if isinstance(first, list | tuple) and isinstance(second, list | tuple):
        return len(first) == len(second) and all(_close(a, b) for a, b in zip(first, second, strict=True))
    return bool(first == second)


def _answer(call: Any) -> dict[str, Any] | str:
    """The result as a dict, or the out-of-territory message."""
    try:
        result: ReverseResult = call()
    except OutOfTerritoryError as error:
        return f"out of territory: {error}"
    return result.to_dict()


def _differences(
    conn: Connection, index: ReverseIndex, points: list[Point], *, fresh: bool = False, **options: Any
) -> list[tuple[Point, Any, Any]]:
    """The points where the two paths answer differently (with both answers).

    ``fresh``: the in-memory path reads the nearest address from the index's arrays too.
    """
    found = []
    connect = _connect(conn)
    for lon, lat in points:
        query = ReverseQuery(lon, lat, **options)
        in_db = _answer(lambda: reverse(conn, query=query))  # noqa: B023
        in_memory = _answer(
            lambda: reverse_in_memory(index, query=query, connect=connect, fresh=fresh)  # noqa: B023
        )
        if not _close(in_db, in_memory):
            found.append(((lon, lat), in_db, in_memory))
    return found


def _dev_points(data_dir: Path) -> list[Point]:
    """The reverse queries of the generated development set."""
    lines = (data_dir / "geocoding_dev_queries.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [(row["lon"], row["lat"]) for row in rows if row["kind"] == "reverse"]


def _wards(data_dir: Path) -> dict[str, shapely.Geometry]:
    """The 2025 ward polygons of the bundled file, by code."""
    features = json.loads((data_dir / "wards_2025.geojson").read_text(encoding="utf-8"))["features"]
    return {f["properties"]["code"]: shape(f["geometry"]) for f in features}


def _random_inside(geom: shapely.Geometry, count: int, rng: np.random.Generator) -> list[Point]:
    """``count`` uniform random points inside a polygon."""
    xmin, ymin, xmax, ymax = geom.bounds
    found: list[Point] = []
    while len(found) < count:
        xs, ys = rng.uniform(xmin, xmax, 64), rng.uniform(ymin, ymax, 64)
        inside = shapely.contains_xy(geom, xs, ys)
        found.extend(zip(xs[inside].tolist(), ys[inside].tolist(), strict=True))
    return found[:count]


def _real_ward_points(data_dir: Path) -> list[Point]:
    """Three random points (fixed seed) inside each 2025 ward the real development set names."""
    lines = (data_dir / "geocoding_dev_real.jsonl").read_text(encoding="utf-8").splitlines()
    codes = sorted(
        {code for line in lines if line.strip() for code in json.loads(line)["truth"]["ward_2025"]}
    )
    wards, rng = _wards(data_dir), np.random.default_rng(SEED)
    return [point for code in codes if code in wards for point in _random_inside(wards[code], 3, rng)]


def _border_points(data_dir: Path) -> list[Point]:
    """Vertices of shared ward borders and points 1 m beside them (both paths see the same polygons)."""
    wards = list(_wards(data_dir).values())
    rng = np.random.default_rng(SEED)
    points: list[Point] = []
    for first, second in itertools.pairwise(wards):
        shared = shapely.get_coordinates(first.boundary.intersection(second.boundary))
        for x, y in shared[rng.permutation(len(shared))[:3]]:
            step = 1.0 / 111_000
            points.extend(
                [(float(x), float(y)), (float(x) + step, float(y)), (float(x) - step, float(y + step))]
            )
    return points


def _outside_points(data_dir: Path) -> list[Point]:
    """Points 1 km, 3 km and far outside the province (within and beyond the 2 km margin)."""
    province = shapely.union_all(list(_wards(data_dir).values()))
    points: list[Point] = []
    for degrees in (0.01, 0.018, 0.03):
        ring = shapely.get_exterior_ring(shapely.buffer(province, degrees))
        coords = shapely.get_coordinates(ring)
        points.extend((float(x), float(y)) for x, y in coords[:: max(1, len(coords) // 12)])
    return [*points, (106.70, 10.78), (0.0, 0.0), (105.338, 60.0), (-179.9, -89.9)]


@pytest.fixture
def index(conn: Connection) -> ReverseIndex:
    """The reverse part of the index the API holds, built from the test's transaction."""
    return GeocoderIndex.load(conn).state.reverse


def test_the_development_set_answers_the_same(conn: Connection, index: ReverseIndex, data_dir: Path) -> None:
    points = _dev_points(data_dir)
    assert len(points) == 400
    assert _differences(conn, index, points) == []


@pytest.mark.parametrize("at", DATES)
def test_dated_answers_are_the_same(
    conn: Connection, index: ReverseIndex, data_dir: Path, at: dt.date
) -> None:
    points = _dev_points(data_dir)[::4]
    assert _differences(conn, index, points, at=at) == []


@pytest.mark.parametrize("radius_m", RADII)
def test_other_radii_answer_the_same(
    conn: Connection, index: ReverseIndex, data_dir: Path, radius_m: float
) -> None:
    points = _dev_points(data_dir)[1::4]
    assert _differences(conn, index, points, radius_m=radius_m) == []


def test_points_in_the_real_sets_wards_answer_the_same(
    conn: Connection, index: ReverseIndex, data_dir: Path
) -> None:
    points = _real_ward_points(data_dir)
    assert len(points) >= 60
    assert _differences(conn, index, points) == []
    assert _differences(conn, index, points[::3], at=DATES[0]) == []


def test_border_points_answer_the_same(conn: Connection, index: ReverseIndex, data_dir: Path) -> None:
    points = _border_points(data_dir)
    assert len(points) >= 100
    assert _differences(conn, index, points) == []


def test_points_outside_answer_the_same_or_the_same_error(
    conn: Connection, index: ReverseIndex, data_dir: Path
) -> None:
    points = _outside_points(data_dir)
    connect = _connect(conn)
    answers = [
        _answer(lambda: reverse_in_memory(index, query=ReverseQuery(x, y), connect=connect))  # noqa: B023
        for x, y in points
    ]
    assert any(isinstance(a, str) for a in answers), "some points must be out of territory"
    assert any(isinstance(a, dict) and not a["inside"] for a in answers), "some within the margin"
    assert _differences(conn, index, points) == []


def test_generated_addresses_answer_the_same(conn: Connection, data_dir: Path) -> None:
    synth.load(conn, synth.generate(data_dir, 3_000, seed=SEED), name="synth-reverse")
    index = GeocoderIndex.load(conn).state.reverse
    rows = conn.execute(select(address.c.registry_code, address.c.geom.ST_X(), address.c.geom.ST_Y())).all()
    rng = np.random.default_rng(SEED)
    chosen = [rows[i] for i in rng.choice(len(rows), 150, replace=False)]
    step = 15.0 / 111_000
    points = [
        (float(x) + step * rng.uniform(-1, 1), float(y) + step * rng.uniform(-1, 1)) for _c, x, y in chosen
    ]
    answers = [reverse_in_memory(index, query=ReverseQuery(x, y), connect=_connect(conn)) for x, y in points]
    assert sum(answer.address is not None for answer in answers) >= 140
    assert _differences(conn, index, points) == []
    assert _differences(conn, index, points[:50], radius_m=RADII[0]) == []
    # the nearest address from the index's arrays (what /reverse does while they are known fresh)
    assert _differences(conn, index, points, fresh=True) == []
    assert _differences(conn, index, points[:50], fresh=True, radius_m=RADII[0]) == []
    loaded = ReverseIndex.load(conn)  # what the CLI builds: the same answers
    assert _differences(conn, loaded, points[::3]) == []
    for code, _x, _y in chosen[:20]:  # retired after the index was built: the database has the last word
        retire_address(conn, code, reason="demolished")
    assert _differences(conn, index, points[:40]) == []


def test_a_change_makes_the_index_addresses_stale_until_the_rebuild(conn: Connection, data_dir: Path) -> None:
    synth.load(conn, synth.generate(data_dir, 200, seed=SEED), name="synth-fresh")
    geocoder = GeocoderIndex.load(conn)
    assert geocoder.confirm(conn)
    assert geocoder.addresses_fresh(60)
    code = conn.execute(select(address.c.registry_code).where(address.c.status == "active")).scalars().first()
    retire_address(conn, str(code), reason="demolished")
    assert not geocoder.confirm(conn)
    assert not geocoder.addresses_fresh(60)  # /reverse asks the database from now on
    assert geocoder.refresh_if_stale(conn, force=True)
    assert geocoder.addresses_fresh(60)
    assert not geocoder.addresses_fresh(0)
