"""Turn validated rows into the columns of each target table (vectorized), and write units."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection

from addresses import bulk
from addresses.datasets import DatasetSpec
from addresses.schema import SRID
from addresses.types import DEFAULT_STATUS
from importers import arrowtext, load, locate
from importers.mapping import all_none, as_int
from importers.points import Geoms, PlainPoints
from importers.rawjson import raw_json, raw_json_arrow
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
GENERATED_FIELD = r'"generated":\s*true'
"""How a row's original fields (its ``raw`` JSON) say it is generated."""
BATCH_ROWS = 25_000
"""Rows built and COPYed at a time when writing new rows."""


def ewkb_hex(geoms: Geoms) -> NDArray[np.object_] | pd.arrays.ArrowStringArray:
    """Geometries as hex EWKB with SRID 4326, the text form COPY reads into geometry columns.

    Plain 2D points (every address) are packed with numpy straight into an Arrow
    string array, byte for byte what GEOS writes, ten times faster.
    """
    if isinstance(geoms, PlainPoints):
        return _point_ewkb_hex(geoms.xs, geoms.ys)
    if len(geoms) and _plain_points(geoms):
        return _point_ewkb_hex(shapely.get_x(geoms), shapely.get_y(geoms))
    result: NDArray[np.object_] = shapely.to_wkb(shapely.set_srid(geoms, SRID), hex=True, include_srid=True)
    return result


_HEX_PAIRS: Final = np.frombuffer(b"".join(b"%02X" % byte for byte in range(256)), dtype=np.uint16)
"""The two upper-case hex digits of each byte value, as one 16-bit cell (looked up per byte)."""
_POINT_EWKB: Final = np.dtype([("order", "u1"), ("kind", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")])
_LITTLE_ENDIAN, _POINT_WITH_SRID = 1, 0x20000001


def _plain_points(geoms: NDArray[np.object_]) -> bool:
    """Whether every geometry is a non-empty point without Z."""
    points = shapely.get_type_id(geoms) == shapely.GeometryType.POINT
    return bool(points.all() and not shapely.has_z(geoms).any() and not shapely.is_empty(geoms).any())


def _point_ewkb_hex(xs: NDArray[np.float64], ys: NDArray[np.float64]) -> pd.arrays.ArrowStringArray:
    """Little-endian EWKB of 2D points with the SRID, in upper-case hex, as one Arrow string array."""
    packed = np.zeros(len(xs), dtype=_POINT_EWKB)
    packed["order"], packed["kind"], packed["srid"] = _LITTLE_ENDIAN, _POINT_WITH_SRID, SRID
    packed["x"], packed["y"] = xs, ys
    width = 2 * _POINT_EWKB.itemsize
    offsets = np.arange(0, width * (len(xs) + 1), width, dtype=np.int32)
    text = np.take(_HEX_PAIRS, np.frombuffer(packed.tobytes(), dtype=np.uint8)).tobytes()
    strings = pa.StringArray.from_buffers(len(xs), pa.py_buffer(offsets), pa.py_buffer(text))
    return pd.arrays.ArrowStringArray(strings)


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
    ids = rows["source_id"]
    missing = ids.isna().to_numpy()
    if not missing.any():
        return ids.copy()
    fallback = pd.Series((rows.index + 1).astype(str), index=rows.index)
    return ids.where(~missing, fallback)


@dataclass(frozen=True)
class Placement:
    """What building rows needs from the database, read before any COPY starts."""

    communes: locate.Communes
    registry_serials: NDArray[np.int64]
    """One per row: the serial drawn for an address the source never imported, else -1."""

    def take(self, positions: NDArray[np.intp]) -> Placement:
        """The placement of the rows at ``positions``."""
        return Placement(self.communes, self.registry_serials[positions])


def placement(conn: Connection, *, spec: DatasetSpec, is_new: NDArray[np.bool_]) -> Placement:
    """Read the communes and draw registry serials for new rows of a dataset that has codes."""
    if "registry_code" in spec.table.c:
        serials = locate.registry_serials(conn, is_new)
    else:
        serials = np.full(len(is_new), -1, dtype=np.int64)
    return Placement(locate.current_communes(conn), serials)


def written_geoms(geoms: NDArray[np.object_], spec: DatasetSpec) -> NDArray[np.object_]:
    """The geometries as stored: as points (inside their area) where the table holds points."""
    return locate.as_points(geoms) if spec.stores_points else geoms


def _written(geoms: Geoms, spec: DatasetSpec) -> Geoms:
    """:func:`written_geoms`, plain points as they are."""
    return geoms if isinstance(geoms, PlainPoints) else written_geoms(geoms, spec)


def written_bounds(geoms: Geoms, spec: DatasetSpec) -> NDArray[np.float64]:
    """The bounds of each geometry as stored (``shapely.bounds``)."""
    written = _written(geoms, spec)
    bounds: NDArray[np.float64] = (
        written.bounds() if isinstance(written, PlainPoints) else shapely.bounds(written)
    )
    return bounds


def source_rows(
    checked: Validated, fields: pd.DataFrame, *, source: str, spec: DatasetSpec, placement: Placement
) -> pd.DataFrame:
    """The columns of a dataset keyed by source, with their commune (and codes).

    The target fields that are columns are copied; the columns derived from them (a
    village type from the name, tags from the original fields, codes from the point)
    are filled where the table has them. ``fields`` are the rows' original fields
    (kept as ``raw``). Needs no database.
    """
    return located_rows(checked.rows, checked.geoms, fields, source=source, spec=spec, placement=placement)


def located_rows(  # noqa: PLR0913 - source_rows' parts, the geometries not yet objects
    rows: pd.DataFrame,
    geometries: Geoms,
    fields: pd.DataFrame,
    *,
    source: str,
    spec: DatasetSpec,
    placement: Placement,
) -> pd.DataFrame:
    """:func:`source_rows` of checked ``rows`` and their geometries (plain points or objects)."""
    raw = pd.Series(pd.arrays.ArrowStringArray(raw_json_arrow(fields)), index=rows.index)
    geoms = _written(geometries, spec)
    communes = locate.commune_id_array(placement.communes, geometries)
    base = {"source": source, "source_id": source_ids(rows), "raw": raw, "commune_id": _integers(communes)}
    copied = {name: _empty_as_arrow(rows[name]) for name in spec.stored_fields if name != "source_id"}
    derived = _derived_columns(spec, rows, raw, source) | _code_columns(spec, geoms, placement)
    return pd.DataFrame({**base, **(copied | derived), "geom": ewkb_hex(geoms)}, index=rows.index)


def _empty_as_arrow(values: pd.Series) -> pd.Series:
    """A column of None objects only as Arrow nulls (COPY's CSV gets empty fields from both); else as is."""
    if values.dtype == object and all_none(values.to_numpy()):
        return pd.Series(pd.arrays.ArrowExtensionArray(pa.nulls(len(values))), index=values.index)
    return values


def _filled(values: pd.Series, value: str) -> pd.Series:
    """``values.fillna(value)``: as Arrow text where the column holds no value (no Python string per row)."""
    if values.dtype == object and all_none(values.to_numpy()):
        repeated = pa.repeat(pa.scalar(value, type=pa.large_string()), len(values))
        return pd.Series(arrowtext.as_text(repeated), index=values.index)
    return values.fillna(value)


def _integers(values: NDArray[np.int64]) -> pd.arrays.ArrowExtensionArray:
    """Integers as an Arrow int64 column, missing where negative (the CSV text of the old objects)."""
    return pd.arrays.ArrowExtensionArray(pa.array(values, mask=values < 0))


def _ascii(codes: NDArray[np.bytes_], missing: NDArray[np.bool_] | None = None) -> pd.arrays.ArrowStringArray:
    """ASCII codes as a text column, missing where ``missing`` (no Python string per code)."""
    return arrowtext.as_text(pa.array(codes, type=pa.binary(), mask=missing).cast(pa.large_string()))


def _derived_columns(spec: DatasetSpec, rows: pd.DataFrame, raw: pd.Series, source: str) -> dict[str, Any]:
    """Columns filled from other fields where the table has them: type from name, tags, status, generated."""
    columns = spec.table.c
    derived: dict[str, Any] = {}
    if "village_type" in columns:
        from_name = village_type(rows["name"])
        given = rows.get("village_type")
        derived["village_type"] = from_name if given is None else given.where(given.notna(), from_name)
    if "tags" in columns:
        derived["tags"] = _tags(raw)
    if "status" in spec.stored_fields:
        derived["status"] = _filled(rows["status"], DEFAULT_STATUS)
    if "is_generated" in columns:
        derived["is_generated"] = _generated(raw, source)
    return derived


def _code_columns(spec: DatasetSpec, geoms: Geoms, placement: Placement) -> dict[str, Any]:
    """The location code of each point and the registry code drawn for it, where the table has them."""
    columns = spec.table.c
    codes: dict[str, Any] = {}
    if "location_code" in columns:
        codes["location_code"] = _ascii(locate.location_code_bytes(geoms))
    if "registry_code" in columns:
        serials = placement.registry_serials
        codes["registry_code"] = _ascii(locate.registry_code_bytes(serials), missing=serials < 0)
    return codes


@dataclass(frozen=True)
class SourceRows:
    """The validated rows of one source, with their original fields (kept as ``raw``)."""

    checked: Validated
    fields: pd.DataFrame
    source: str


def row_batches(
    rows: SourceRows,
    positions: NDArray[np.intp],
    *,
    spec: DatasetSpec,
    placement: Placement,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pd.DataFrame]:
    """The rows at ``positions``, built ``batch_rows`` at a time, in that order.

    A COPY consumes them lazily: the database stores one batch while the next is built.
    """
    for start in range(0, len(positions), batch_rows):
        take = positions[start : start + batch_rows]
        part = Validated(rows.checked.rows.iloc[take], rows.checked.geoms[take])
        where = placement.take(take)
        yield source_rows(part, rows.fields.iloc[take], source=rows.source, spec=spec, placement=where)


def _tags(raw: pd.Series) -> pd.Series:
    """The non-empty original fields of each place, as its tags."""
    return raw.map(
        lambda text: json.dumps(
            {k: v for k, v in json.loads(text).items() if v not in (None, "")}, ensure_ascii=False
        )
    )


def _generated(raw: pd.Series, source: str) -> pd.Series:
    """Whether each row is generated data: its source is, or its original fields say so (Arrow's regex)."""
    stored = arrowtext.arrow_text(raw)
    texts = pa.array(raw.to_numpy(), type=pa.large_string(), from_pandas=True) if stored is None else stored
    said = pc.fill_null(pc.match_substring_regex(texts, GENERATED_FIELD), False)
    return pd.Series(said.to_numpy(zero_copy_only=False) | (source == GENERATED_SOURCE), index=raw.index)


def unit_rows(checked: Validated, fields: pd.DataFrame, source: str) -> pd.DataFrame:
    """The staged columns of administrative units: polygons to geom, points to label_point."""
    rows, geoms, raw = checked.rows, checked.geoms, raw_json(fields)
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
    conn: Connection, checked: Validated, fields: pd.DataFrame, source: str, *, fill_only: bool
) -> load.UpsertCounts:
    """Stage units, merge them into admin_unit, then link parents and label points."""
    frame = unit_rows(checked, fields, source)
    staged = bulk.stage(conn, frame)
    columns = [c for c in frame.columns if c != "parent_code"]
    counts = load.upsert_units(conn, staged, columns, fill_only=fill_only)
    load.link_unit_parents(conn, staged)
    load.derive_unit_geometry(conn)
    return counts
