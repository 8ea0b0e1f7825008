"""Realistic generated addresses for Hoa Binh, labelled as generated in the data itself.

``generate(data_dir, count, seed=..., messy=...)`` spreads ``count`` address points
over the 2025 wards in proportion to their population (largest remainders, so each
ward gets its share to within one point), clusters them around the real villages of
each ward, and lays streets with alleys (ngõ, ngách) around the centre of the urban
wards and former towns: real street names where OpenStreetMap has some in the ward,
generated ones ("Đường số 3", labelled) elsewhere; the street lines themselves are
generated (no road data is redistributable). House numbers follow the street (odd on
one side, even on the other, growing with the distance). Every record carries
``source = "generated"``, ``is_generated = true`` and ``generated = true``; the same
seed gives the same records.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from sqlalchemy import Connection

from addresses.errors import InvalidParameterError
from importers import messy as messy_text
from importers.mapping import default_mapping
from importers.pipeline import ImportOptions, ImportReport, import_source
from importers.prepare import GENERATED_SOURCE
from importers.readers import FEATURE, SourceFrame
from importers.street_layout import street_addresses
from importers.synth_data import METRIC_CRS, Ward, read_wards

PROVINCE: Final = "tỉnh Phú Thọ"
STREET_SHARE: Final = {"phường": 0.7, "xã": 0.35}
"""Of an urban ward's addresses, the share on streets and alleys (the rest in its villages)."""
COLUMNS: Final = (
    "id",
    "house_number",
    "alley",
    "street",
    "village",
    "commune_code",
    "commune_name",
    "address",
    "address_written",
    "messy",
    "street_name_source",
    "village_name_source",
    "old_town",
    "source",
    "is_generated",
    "generated",
)
_TO_WGS84: Final = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)


def allocate(populations: NDArray[np.int64], count: int) -> NDArray[np.int64]:
    """Split ``count`` in proportion to ``populations`` by largest remainders (ties: first).

    >>> allocate(np.array([50, 30, 20]), 7).tolist()
    [4, 2, 1]
    """
    quotas = populations / populations.sum() * count
    shares = np.floor(quotas).astype(np.int64)
    order = np.argsort(-(quotas - shares), kind="stable")
    shares[order[: count - int(shares.sum())]] += 1
    result: NDArray[np.int64] = shares
    return result


def generate(data_dir: Path, count: int, *, seed: int = 2025, messy: float = 0.0) -> gpd.GeoDataFrame:
    """``count`` generated addresses (WGS 84), ward by ward in code order, all labelled generated."""
    if count < 1:
        raise InvalidParameterError("addresses", f"a positive number of addresses, not {count}")
    if not 0.0 <= messy <= 1.0:
        raise InvalidParameterError("messy", f"a fraction between 0 and 1, not {messy}")
    wards = read_wards(data_dir)
    shares = allocate(np.array([w.population for w in wards], dtype=np.int64), count)
    parts = [
        ward_addresses(ward, int(n), np.random.default_rng([seed, i]))
        for i, (ward, n) in enumerate(zip(wards, shares, strict=True))
        if n
    ]
    return _labelled(pd.concat(parts, ignore_index=True), seed=seed, messy=messy)


def ward_addresses(ward: Ward, count: int, rng: np.random.Generator) -> pd.DataFrame:
    """``count`` addresses inside one ward: street addresses first (urban wards), then villages."""
    on_streets = round(count * STREET_SHARE[ward.kind]) if ward.urban else 0
    streets = street_addresses(ward, on_streets, rng, inside=_inside) if on_streets else None
    villages = village_addresses(ward, count - (0 if streets is None else on_streets), rng)
    if streets is not None:
        streets = streets.assign(old_town=ward.town)
    frame = pd.concat(
        [f for f in (streets, villages.assign(old_town=None)) if f is not None], ignore_index=True
    )
    return frame.assign(commune_code=ward.code, commune_name=f"{ward.kind} {ward.name}")


def _inside(ward: Ward, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Which metric points lie inside the ward's WGS 84 polygon (the one the database holds)."""
    lon, lat = _TO_WGS84.transform(xs, ys)
    inside: NDArray[np.bool_] = shapely.contains_xy(ward.area, lon, lat)
    return inside


def _village_centres(
    ward: Ward, rng: np.random.Generator
) -> tuple[tuple[str, ...], NDArray[np.float64], str]:
    """The ward's real villages, or three numbered ones placed inside it when it has none."""
    if len(ward.villages):
        return ward.villages, ward.village_xy, "geonames"
    minx, miny, maxx, maxy = ward.metric.bounds
    found: list[NDArray[np.float64]] = []
    while sum(len(f) for f in found) < 3:
        xy = rng.uniform((minx, miny), (maxx, maxy), (16, 2))
        found.append(xy[shapely.contains_xy(ward.metric, xy[:, 0], xy[:, 1])])
    return ("Thôn 1", "Thôn 2", "Thôn 3"), np.concatenate(found)[:3], "generated"


def village_addresses(ward: Ward, count: int, rng: np.random.Generator) -> pd.DataFrame:
    """``count`` houses clustered around the ward's villages (each village its own size and spread)."""
    names, xy, origin = _village_centres(ward, rng)
    weights = rng.lognormal(0.0, 0.6, len(names))
    spread = rng.uniform(150.0, 500.0, len(names))
    clusters = Clusters(xy, weights / weights.sum(), spread)
    xs, ys, which = _draw_inside(ward, count, rng, clusters=clusters)
    order = np.lexsort((rng.random(count), which))
    numbers = np.empty(count, dtype=np.int64)
    numbers[order] = pd.Series(which[order]).groupby(which[order]).cumcount().to_numpy() + 1
    village = np.asarray(names, dtype=object)[which]
    return pd.DataFrame(
        {
            "x": xs,
            "y": ys,
            "house_number": numbers.astype(str).astype(object),
            "alley": None,
            "street": None,
            "village": village,
            "street_name_source": None,
            "village_name_source": origin,
        }
    )


@dataclass(frozen=True)
class Clusters:
    """Where points gather: centres (metric x, y), the share of points each gets, and their spread."""

    centres: NDArray[np.float64]
    weights: NDArray[np.float64]
    spread: NDArray[np.float64]


def _draw_inside(
    ward: Ward, count: int, rng: np.random.Generator, *, clusters: Clusters
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]:
    """Normal clusters around their centres, redrawn until ``count`` points fall inside the ward."""
    centres, weights, spread = clusters.centres, clusters.weights, clusters.spread
    xs, ys, which = [], [], []
    found = 0
    while found < count:
        size = (count - found) * 2 + 16
        pick = rng.choice(len(centres), size=size, p=weights)
        x = centres[pick, 0] + rng.normal(0.0, spread[pick])
        y = centres[pick, 1] + rng.normal(0.0, spread[pick])
        keep = _inside(ward, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        which.append(pick[keep])
        found += int(keep.sum())
    return (np.concatenate(xs)[:count], np.concatenate(ys)[:count], np.concatenate(which)[:count])


def _texts(values: pd.Series) -> list[str | None]:
    """The cells as text, None where empty."""
    return [value if isinstance(value, str) and value else None for value in values.tolist()]


def clean_addresses(frame: pd.DataFrame) -> list[str]:
    """The full address of every row, as an official letter would write it."""
    columns = ("house_number", "alley", "street", "village", "commune_name")
    rows = zip(*(_texts(frame[name]) for name in columns), strict=True)
    return [
        messy_text.address_text(
            [
                f"số {number}",
                *_alley_parts(alley),
                messy_text.street_label(street) if street else None,
                messy_text.village_label(village) if village else None,
                commune,
                PROVINCE,
            ]
        )
        for number, alley, street, village, commune in rows
    ]


def _alley_parts(alley: str | None) -> list[str]:
    """The alley parts of an address: a ngách is written with its ngõ.

    >>> _alley_parts("ngách 34/2"), _alley_parts("ngõ 34"), _alley_parts(None)
    (['ngách 34/2', 'ngõ 34'], ['ngõ 34'], [])
    """
    if not alley:
        return []
    if alley.startswith("ngách "):
        return [alley, "ngõ " + alley.removeprefix("ngách ").split("/")[0]]
    return [alley]


def _labelled(frame: pd.DataFrame, *, seed: int, messy: float) -> gpd.GeoDataFrame:
    """The final records: ids, clean and written text, the generated labels, WGS 84 points."""
    rng = np.random.default_rng([seed, 1_000_003])
    clean = clean_addresses(frame)
    towns = _texts(frame["old_town"])
    written, is_messy = messy_text.messy_texts(clean, fraction=messy, rng=rng, towns=towns)
    lon, lat = _TO_WGS84.transform(frame["x"].to_numpy(), frame["y"].to_numpy())
    out = frame.assign(
        id=[f"gen-{seed}-{i:07d}" for i in range(len(frame))],
        address=clean,
        address_written=written,
        messy=is_messy,
        source=GENERATED_SOURCE,
        is_generated=True,
        generated=True,
    )
    return gpd.GeoDataFrame(out[list(COLUMNS)], geometry=shapely.points(lon, lat), crs="EPSG:4326")


def write(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write the records as GeoParquet (the same records give the same bytes)."""
    frame.to_parquet(path, index=False, compression="zstd")


def load(conn: Connection, frame: gpd.GeoDataFrame, *, name: str) -> ImportReport:
    """Import the records through the normal importer (codes assigned) in the caller's transaction."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    numbered = frame.reset_index(drop=True).assign(**{FEATURE: np.arange(1, len(frame) + 1)})
    source = SourceFrame(frame=numbered, declared_crs="EPSG:4326", file_name=name)
    options = ImportOptions(mapping=default_mapping("addresses"), source=GENERATED_SOURCE)
    return import_source(
        conn,
        source,
        options=options,
        sha256=hashlib.sha256(buffer.getvalue()).hexdigest(),
        source=GENERATED_SOURCE,
    )
