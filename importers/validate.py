"""Validate mapped rows before loading: text, geometry, territory, required fields, duplicates.

Two kinds of findings:
- *problems* make the whole file fail (nothing is written): a required field empty, a
  duplicate id, a value that cannot be read;
- *rejections* drop one feature and are reported (no geometry, outside the province,
  a geometry of the wrong kind); ``strict`` turns them into problems.
Invalid geometries are repaired (``shapely.make_valid``) and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from addresses.text import canonical_text
from importers.mapping import REQUIRED_FIELDS, Dataset

ADDRESS_STATUSES = ("proposed", "active", "retired")
POINT_TYPES = {"Point"}
AREA_TYPES = {"Polygon", "MultiPolygon"}
ALLOWED_TYPES: dict[Dataset, set[str]] = {
    "units": POINT_TYPES | AREA_TYPES,
    "villages": POINT_TYPES | AREA_TYPES,
    "places": POINT_TYPES | AREA_TYPES,
    "addresses": POINT_TYPES,
}


@dataclass(frozen=True)
class Rejection:
    """One feature left out, with where and why."""

    feature: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.feature}, field {self.field!r}: {self.reason}"


@dataclass
class Validated:
    """Rows that passed, and what was found on the way."""

    rows: pd.DataFrame
    geoms: NDArray[np.object_]
    rejections: list[Rejection] = field(default_factory=list)
    problems: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repaired: int = 0


def canonical_value(value: object) -> object:
    """Text in NFC with one canonical tone-mark placement ("Hoà" -> "Hòa"); non-text unchanged."""
    return canonical_text(value) if isinstance(value, str) else value


def normalise_text(rows: pd.DataFrame) -> pd.DataFrame:
    """All text fields in NFC with canonical tone marks (the originals stay in ``raw``)."""
    return pd.DataFrame({name: rows[name].map(canonical_value) for name in rows.columns}, index=rows.index)


def repair_geometries(geoms: NDArray[np.object_]) -> tuple[NDArray[np.object_], int]:
    """Make invalid geometries valid, keeping polygons polygonal; return them and the count."""
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    invalid = present & ~shapely.is_valid(geoms)
    fixed = geoms.copy()
    if invalid.any():
        repaired = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        fixed[invalid] = repaired
    return fixed, int(invalid.sum())


def geometry_rejections(
    geoms: NDArray[np.object_], features: NDArray[np.int64], dataset: Dataset
) -> list[Rejection]:
    """Features with no geometry (units may have none) or a geometry type the dataset cannot hold."""
    found: list[Rejection] = []
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if dataset != "units":
        found += [Rejection(int(f), "geometry", "no geometry") for f in features[missing]]
    types = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    allowed = ALLOWED_TYPES[dataset]
    wrong = ~missing & ~np.isin(types, list(allowed))
    found += [
        Rejection(int(f), "geometry", f"{t} is not allowed here (expected {'/'.join(sorted(allowed))})")
        for f, t in zip(features[wrong], types[wrong], strict=True)
    ]
    return found


def territory_rejections(
    geoms: NDArray[np.object_], features: NDArray[np.int64], territory: shapely.Geometry | None
) -> list[Rejection]:
    """Features whose geometry does not touch the territory (the province plus a margin)."""
    if territory is None:
        return []
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    shapely.prepare(territory)
    points = present & (shapely.get_type_id(geoms) == shapely.GeometryType.POINT)
    others = present & ~points
    inside = np.zeros(len(geoms), dtype=bool)
    xs, ys = shapely.get_x(geoms[points]), shapely.get_y(geoms[points])
    inside[points] = shapely.contains_xy(territory, xs, ys)
    inside[others] = shapely.intersects(territory, geoms[others])
    outside = present & ~inside
    distances = shapely.distance(territory, geoms[outside]) * 111.0 if outside.any() else []
    return [
        Rejection(int(f), "geometry", f"outside the province (about {d:.1f} km away)")
        for f, d in zip(features[outside], distances, strict=True)
    ]


def required_problems(rows: pd.DataFrame, features: NDArray[np.int64], dataset: Dataset) -> list[Rejection]:
    """Rows whose required fields are empty."""
    found: list[Rejection] = []
    for name in REQUIRED_FIELDS[dataset]:
        empty = rows[name].isna().to_numpy()
        found += [Rejection(int(f), name, "required but empty") for f in features[empty]]
    return found


def duplicate_problems(rows: pd.DataFrame, features: NDArray[np.int64]) -> list[Rejection]:
    """Rows that repeat another row's source id (the key of idempotent re-import)."""
    ids = rows["source_id"]
    dup = (ids.duplicated(keep="first") & ids.notna()).to_numpy()
    first = dict(zip(ids[~ids.duplicated(keep="first")], features[~ids.duplicated().to_numpy()], strict=True))
    return [
        Rejection(int(f), "source_id", f"duplicate id {i!r} (first at row {first[i]})")
        for f, i in zip(features[dup], ids[dup], strict=True)
    ]


def status_problems(rows: pd.DataFrame, features: NDArray[np.int64]) -> list[Rejection]:
    """Address rows with a status other than proposed, active or retired."""
    status = rows["status"]
    bad = (status.notna() & ~status.isin(ADDRESS_STATUSES)).to_numpy()
    return [
        Rejection(int(f), "status", f"{s!r} is not one of {ADDRESS_STATUSES}")
        for f, s in zip(features[bad], status[bad], strict=True)
    ]


def duplicate_warnings(
    rows: pd.DataFrame, geoms: NDArray[np.object_], features: NDArray[np.int64]
) -> list[str]:
    """Rows with the same name/house number and the same geometry as an earlier row."""
    label = rows.get("name", rows.get("house_number"))
    if label is None:
        return []
    wkb = pd.Series(shapely.to_wkb(geoms), index=rows.index)
    key = pd.DataFrame({"label": label, "wkb": wkb})
    dup = key.duplicated(keep="first").to_numpy() & key["wkb"].notna().to_numpy()
    return [f"row {int(f)} repeats the name and geometry of an earlier row" for f in features[dup]]
