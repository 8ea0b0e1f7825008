"""Synthetic address points for tests and benchmarks (not the app: `diachiso synth` is importers.synth).

Every row carries ``generated = true`` and the source label "generated", so generated
points can never be mistaken for surveyed ones. Points are drawn uniformly inside the
2025 commune/ward polygons (vectorized rejection sampling), with house numbers in
the forms people write ("12", "12A", "40bis", "1806/127/2").
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from importers.prepare import GENERATED_SOURCE

SUFFIXES = np.array(["", "", "", "", "A", "B", "bis"], dtype=object)
STREETS = np.array(
    ["", "", "Trần Hưng Đạo", "Cù Chính Lan", "Quốc lộ 6", "Đường 12B", "Phùng Hưng"], dtype=object
)


def points_in(polygons: gpd.GeoSeries, count: int, rng: np.random.Generator) -> NDArray[np.object_]:
    """``count`` points uniformly inside the union of ``polygons`` (by rejection, in batches)."""
    area = shapely.union_all(polygons.to_numpy())
    shapely.prepare(area)
    minx, miny, maxx, maxy = area.bounds
    found: list[NDArray[np.object_]] = []
    total = 0
    while total < count:
        xs = rng.uniform(minx, maxx, count * 2)
        ys = rng.uniform(miny, maxy, count * 2)
        inside = shapely.contains_xy(area, xs, ys)
        found.append(shapely.points(xs[inside], ys[inside]))
        total += int(inside.sum())
    return np.concatenate(found)[:count]


def house_numbers(count: int, rng: np.random.Generator) -> NDArray[np.object_]:
    """House numbers as people write them: plain, lettered, bis, and alley paths."""
    numbers = rng.integers(1, 400, count).astype(str).astype(object)
    numbers = numbers + SUFFIXES[rng.integers(0, len(SUFFIXES), count)]
    paths = rng.random(count) < 0.1
    numbers[paths] = [f"{a}/{b}/{c}" for a, b, c in rng.integers(1, 2000, (int(paths.sum()), 3))]
    result: NDArray[np.object_] = numbers
    return result


def generate_addresses(wards: gpd.GeoSeries, count: int, *, seed: int = 2025) -> gpd.GeoDataFrame:
    """A frame of ``count`` generated addresses inside ``wards``, each marked generated."""
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {
            "id": [f"gen-{seed}-{i}" for i in range(count)],
            "house_number": house_numbers(count, rng),
            "street": STREETS[rng.integers(0, len(STREETS), count)],
            "generated": True,
            "source_note": f"{GENERATED_SOURCE} by tests.synthetic (seed {seed}), not surveyed",
        },
        geometry=points_in(wards, count, rng),
        crs="EPSG:4326",
    )
