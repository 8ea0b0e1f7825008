"""Turn validated rows into the columns of each target table (vectorized), and write units."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection

from addresses import bulk
from addresses.schema import SRID
from importers import load, locate
from importers.mapping import as_int
from importers.units import CODE_WIDTH, gso_code
from importers.validate import Validated

VILLAGE_TYPES = (
    "tổ dân phố",
    "khu dân cư",
    "tiểu khu",
    "khu phố",
    "thôn",
    "xóm",
    "bản",
    "làng",
    "khu",
    "tổ",
    "ấp",
    "buôn",
    "sóc",
    "khối",
)
GENERATED_SOURCE = "generated"


def ewkb_hex(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Geometries as hex EWKB with SRID 4326, the text form COPY reads into geometry columns."""
    result: NDArray[np.object_] = shapely.to_wkb(shapely.set_srid(geoms, SRID), hex=True, include_srid=True)
    return result


def as_points(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Points unchanged; areas replaced by a point inside them."""
    points = geoms.copy()
    areas = shapely.get_type_id(geoms) != shapely.GeometryType.POINT
    points[areas] = shapely.point_on_surface(geoms[areas])
    return points


def village_type(names: pd.Series) -> pd.Series:
    """The village type word a name starts with (thôn, xóm, bản...), or None."""
    lowered = names.str.lower()
    result = pd.Series([None] * len(names), index=names.index, dtype=object)
    for word in VILLAGE_TYPES:
        hit = result.isna() & (lowered.str.startswith(word + " ").fillna(False).astype(bool))
        result[hit] = word
    return result


def source_ids(rows: pd.DataFrame) -> pd.Series:
    """The mapped source id, or the 1-based feature number where the file has none."""
    fallback = pd.Series((rows.index + 1).astype(str), index=rows.index)
    return rows["source_id"].where(rows["source_id"].notna(), fallback)


def source_rows(
    conn: Connection, checked: Validated, raw: pd.Series, source: str, dataset: str
) -> pd.DataFrame:
    """The staged columns of villages, places or addresses, with their commune (and codes)."""
    rows = checked.rows
    communes = locate.commune_ids(locate.current_communes(conn), checked.geoms)
    base = pd.DataFrame(
        {"source": source, "source_id": source_ids(rows), "raw": raw, "commune_id": communes},
        index=rows.index,
    )
    extra: dict[str, Any]
    if dataset == "villages":
        kind = rows["village_type"].where(rows["village_type"].notna(), village_type(rows["name"]))
        extra = {"name": rows["name"], "village_type": kind, "geom": ewkb_hex(checked.geoms)}
    elif dataset == "places":
        extra = {
            "name": rows["name"],
            "category": rows["category"],
            "kind": rows["kind"],
            "tags": _tags(raw),
            "house_number": rows["house_number"],
            "street": rows["street"],
            "geom": ewkb_hex(as_points(checked.geoms)),
        }
    else:
        extra = _address_columns(rows, raw, source, checked.geoms)
        extra["location_code"] = locate.location_codes(checked.geoms)
        ids = base["source_id"].to_numpy(dtype=object)
        extra["registry_code"] = locate.registry_codes_for_new(conn, source, ids)
    return base.assign(**extra)


def _tags(raw: pd.Series) -> pd.Series:
    """The non-empty original fields of each place, as its tags."""
    return raw.map(
        lambda text: json.dumps(
            {k: v for k, v in json.loads(text).items() if v not in (None, "")}, ensure_ascii=False
        )
    )


def _address_columns(
    rows: pd.DataFrame, raw: pd.Series, source: str, geoms: NDArray[np.object_]
) -> dict[str, object]:
    """Address columns; generated data is labelled as such."""
    generated = raw.str.contains(r'"generated":\s*true', regex=True) | (source == GENERATED_SOURCE)
    return {
        "house_number": rows["house_number"],
        "alley": rows["alley"],
        "street": rows["street"],
        "village_name": rows["village_name"],
        "official_code": rows["official_code"],
        "status": rows["status"].fillna("active"),
        "is_generated": generated,
        "geom": ewkb_hex(geoms),
    }


def unit_rows(checked: Validated, raw: pd.Series, source: str) -> pd.DataFrame:
    """The staged columns of administrative units: polygons to geom, points to label_point."""
    rows = checked.rows
    geoms = checked.geoms
    is_point = shapely.get_type_id(geoms) == shapely.GeometryType.POINT
    areas = geoms.copy()
    areas[is_point] = None
    polygons = shapely.get_type_id(areas) == shapely.GeometryType.POLYGON
    areas[polygons] = [shapely.MultiPolygon([p]) for p in areas[polygons]]
    levels = as_int(rows["level"])
    codes = _padded(rows["code"], levels)
    unit_type = rows["unit_type"].str.lower()
    built = unit_type.str.capitalize().str.cat(rows["name"], sep=" ")
    full_name = rows["full_name"].where(rows["full_name"].notna(), built)
    return pd.DataFrame(
        {
            "code": codes,
            "level": levels,
            "unit_type": unit_type,
            "name": rows["name"],
            "full_name": full_name,
            "name_en": rows["name_en"],
            "parent_code": rows["parent_code"],
            "valid_from": rows["valid_from"],
            "valid_to": rows["valid_to"],
            "population": as_int(rows["population"]),
            "area_km2": pd.to_numeric(rows["area_km2"]),
            "geom": ewkb_hex(areas),
            "label_point": ewkb_hex(_only(geoms, is_point)),
            "source": source,
            "source_id": source_ids(rows),
            "raw": raw.map(lambda text: json.dumps({source: json.loads(text)}, ensure_ascii=False)),
        },
        index=rows.index,
    )


def _padded(codes: pd.Series, levels: pd.Series) -> pd.Series:
    """GSO codes zero-padded to the width of their level (None stays None)."""
    pairs = zip(codes, levels, strict=True)
    values = [gso_code(c, lv) if c is not None and lv in CODE_WIDTH else c for c, lv in pairs]
    return pd.Series(values, index=codes.index, dtype=object)


def _only(geoms: NDArray[np.object_], keep: NDArray[np.bool_]) -> NDArray[np.object_]:
    """The geometries where ``keep`` is true, None elsewhere."""
    kept = geoms.copy()
    kept[~keep] = None
    return kept


def write_units(
    conn: Connection, checked: Validated, raw: pd.Series, source: str, *, fill_only: bool
) -> load.UpsertCounts:
    """Stage units, merge them into admin_unit, then link parents and label points."""
    frame = unit_rows(checked, raw, source)
    staged = bulk.stage(conn, frame)
    columns = [c for c in frame.columns if c != "parent_code"]
    counts = load.upsert_units(conn, staged, columns, fill_only=fill_only)
    load.link_unit_parents(conn, staged)
    load.derive_unit_geometry(conn)
    return counts
