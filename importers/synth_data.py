"""What the address generator takes from the bundled reference data, read once per folder.

The 2025 wards (full-resolution polygons, population from the simplified file), the
real villages inside each ward, the pre-2025 towns (thị trấn) whose centres become
town streets, and the real street names OpenStreetMap has in each urban ward.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

METRIC_CRS: Final = "EPSG:32648"
"""UTM zone 48N: metres around Hoa Binh, where streets and offsets are laid out."""

WARDS_FILE: Final = "wards_2025.geojson"
POPULATION_FILE: Final = "wards_2025_simplified_population.geojson"
VILLAGES_FILE: Final = "villages_geonames_wof.geojson"
POIS_FILE: Final = "pois_osm.geojson"
COMMUNES_FILE: Final = "communes_pre2025_points.geojson"

_NOT_STREET_WORDS: Final = ("xóm", "bản", "làng", "thôn", "tổ", "số", "khu", "ngõ")
_FINALS: Final = ("c", "ch", "m", "n", "ng", "nh", "p", "t")


@dataclass(frozen=True)
class Ward:
    """One 2025 ward or commune with what the generator needs of it."""

    code: str
    name: str
    kind: str
    """"phường" or "xã"."""
    population: int
    area: shapely.Geometry
    """The polygon in WGS 84 (points are checked against it)."""
    metric: shapely.Geometry
    """The polygon in ``METRIC_CRS``."""
    centre: tuple[float, float]
    """Where town streets are laid out, in metres: the old town centre, else the ward's centre."""
    town: str | None
    """The name of the pre-2025 town (thị trấn) inside it, if any."""
    villages: tuple[str, ...]
    village_xy: NDArray[np.float64]
    """Village points in metres, one row (x, y) per village."""
    streets: tuple[str, ...]
    """Real street names (OpenStreetMap addr:street) inside the ward."""

    @property
    def urban(self) -> bool:
        """Whether the ward has streets: a phường, or a commune around a former town."""
        return self.kind == "phường" or self.town is not None


def looks_like_street(name: str) -> bool:
    """Whether an ``addr:street`` value is a street name (not a village, a full address or a typo).

    >>> [looks_like_street(n) for n in ("Cù Chính Lan", "Quốc lộ 15", "xóm Lác", "Trần Hưng Đaoj")]
    [True, True, False, False]
    >>> looks_like_street("Số 9, ngõ 1, tổ 3, xóm mỏ")
    False
    """
    words = name.split()
    if "," in name or not words or not words[0][0].isupper() or words[0].lower() in _NOT_STREET_WORDS:
        return False
    return all(_vietnamese_word(word) for word in words)


def _vietnamese_word(word: str) -> bool:
    """Whether a word can be a Vietnamese syllable (by its final letters) or a road number.

    >>> _vietnamese_word("Đạo"), _vietnamese_word("Đaoj"), _vietnamese_word("12B")
    (True, False, True)
    """
    if any(char.isdigit() for char in word):
        return True
    plain = "".join(c for c in unicodedata.normalize("NFD", word.lower()) if c.isalpha() and c.isascii())
    return plain[-1:] in set("aeiouy") or plain.endswith(_FINALS)


@functools.lru_cache(maxsize=4)
def read_wards(data_dir: Path) -> tuple[Ward, ...]:
    """The 46 wards of old Hoa Binh, in code order, with their villages, towns and streets."""
    wards = gpd.read_file(data_dir / WARDS_FILE)[["code", "fullName", "geometry"]]
    people = gpd.read_file(data_dir / POPULATION_FILE)
    wards = wards.merge(
        pd.DataFrame(
            {
                "code": people["id"],
                "name": people["name"],
                "population": people["population"],
                "center": people["center"],
            }
        ),
        on="code",
    )
    wards = wards.sort_values("code").reset_index(drop=True)
    metric = wards.to_crs(METRIC_CRS)
    villages = _villages_by_ward(data_dir, wards)
    towns = _towns_by_ward(data_dir, wards)
    streets = _streets_by_ward(data_dir, wards)
    return tuple(
        _ward(
            row,
            metric.geometry.iloc[i],
            villages.get(row["code"]),
            towns.get(row["code"]),
            streets.get(row["code"], ()),
        )
        for i, (_, row) in enumerate(wards.iterrows())
    )


def _ward(
    row: pd.Series,
    metric: shapely.Geometry,
    villages: gpd.GeoDataFrame | None,
    town: tuple[str, float, float] | None,
    streets: tuple[str, ...],
) -> Ward:
    """One Ward from its row of the joined ward table."""
    code, full_name, name = (
        str(row["code"]),
        str(row["fullName"]),
        str(row["name"]),
    )
    kind = "phường" if full_name.lower().startswith("phường") else "xã"
    centre = _metric_xy(np.array([list(row["center"])], dtype=float))[0]
    if town is not None:
        centre = _metric_xy(np.array([[town[1], town[2]]]))[0]
    names: tuple[str, ...] = ()
    xy = np.zeros((0, 2))
    if villages is not None and len(villages):
        names = tuple(villages["gn_name"].astype(str))
        xy = _metric_xy(shapely.get_coordinates(villages.geometry.to_numpy()))
    return Ward(
        code=code,
        name=name,
        kind=kind,
        population=int(row["population"]),
        area=row["geometry"],
        metric=metric,
        centre=(float(centre[0]), float(centre[1])),
        town=town[0] if town is not None else None,
        villages=names,
        village_xy=xy,
        streets=streets,
    )


def _metric_xy(lonlat: NDArray[np.float64]) -> NDArray[np.float64]:
    """WGS 84 coordinates (rows of lon, lat) in metres of ``METRIC_CRS``."""
    points = gpd.GeoSeries(shapely.points(lonlat), crs="EPSG:4326").to_crs(METRIC_CRS)
    result: NDArray[np.float64] = shapely.get_coordinates(points.to_numpy())
    return result


def _ward_of(points: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The points with the code of the ward they lie in (points outside every ward dropped)."""
    joined = gpd.sjoin(points, wards[["code", "geometry"]], predicate="within", how="inner")
    return joined.drop(columns="index_right")


def _villages_by_ward(data_dir: Path, wards: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """The real villages (GeoNames names with diacritics) inside each ward, in file order."""
    villages = gpd.read_file(data_dir / VILLAGES_FILE)[["gn_name", "geometry"]]
    villages = villages[villages["gn_name"].notna()]
    joined = _ward_of(villages, wards)
    return {str(code): group for code, group in joined.groupby("code", sort=True)}


def _towns_by_ward(data_dir: Path, wards: gpd.GeoDataFrame) -> dict[str, tuple[str, float, float]]:
    """The pre-2025 town (thị trấn) inside each ward: its name and centre (lon, lat)."""
    communes = gpd.read_file(data_dir / COMMUNES_FILE)
    towns = _ward_of(communes[communes["wardType"] == "Thị trấn"][["wardShort", "geometry"]], wards)
    return {
        str(row.code): (str(row.wardShort), float(row.geometry.x), float(row.geometry.y))
        for row in towns.sort_values("wardShort").itertuples()
    }


def _streets_by_ward(data_dir: Path, wards: gpd.GeoDataFrame) -> dict[str, tuple[str, ...]]:
    """Real street names (addr:street values that look like streets) found in each ward."""
    pois = gpd.read_file(data_dir / POIS_FILE)
    pois = pois[pois["addr:street"].notna()][["addr:street", "geometry"]]
    pois = pois[pois["addr:street"].map(looks_like_street)]
    joined = _ward_of(pois, wards)
    return {
        str(code): tuple(dict.fromkeys(group["addr:street"].astype(str)))
        for code, group in joined.groupby("code", sort=True)
    }
