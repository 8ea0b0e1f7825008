"""Read a source file of any supported format into a GeoDataFrame, keeping every original field.

Formats: GeoJSON, GeoPackage, Shapefile (also zipped), CSV (lon/lat columns or a WKT
column, UTF-8 with or without BOM, UTF-16, or a named encoding), GeoParquet. Every
frame gets a ``feature`` column: the 1-based row/feature number used in reports.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import shapely
from numpy.typing import NDArray

from addresses.errors import ImportValidationError
from importers.points import PlainPoints, wkb_points

FEATURE = "feature"
VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml", ".kml"}
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "kinh_do", "kinh do", "kinhdo")
LAT_NAMES = ("lat", "latitude", "y", "vi_do", "vi do", "vido")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")


@dataclass(frozen=True)
class CsvOptions:
    """How to find the geometry and decode the text of a CSV file."""

    lon_column: str | None = None
    lat_column: str | None = None
    wkt_column: str | None = None
    encoding: str | None = None
    delimiter: str | None = None


@dataclass(frozen=True)
class SourceFrame:
    """A file as read: its rows with the original fields, and the CRS it declares."""

    frame: gpd.GeoDataFrame
    declared_crs: str | None
    file_name: str
    wkb: pa.Array | None = field(default=None, compare=False)
    """The geometries still as WKB (an Arrow binary array), when read so (``read_source(..., decode=False)``).

    The frame's geometry column then holds None only: :meth:`geometries` decodes
    the rows asked for, so that an import decodes its file chunk by chunk.
    """

    def geometries(self, rows: slice = slice(None)) -> NDArray[np.object_]:
        """The geometries of ``rows`` (all by default), decoded from WKB where they are still WKB."""
        if self.wkb is None:
            values: NDArray[np.object_] = self.frame.geometry.to_numpy()[rows]
            return values
        decoded: NDArray[np.object_] = shapely.from_wkb(_cells(self.wkb, rows).to_numpy(zero_copy_only=False))
        return decoded

    def plain_points(self, rows: slice = slice(None)) -> PlainPoints | None:
        """The coordinates of ``rows`` when still WKB and all plain 2D points (``points.wkb_points``)."""
        return None if self.wkb is None else wkb_points(_cells(self.wkb, rows))


def _cells(values: pa.Array, rows: slice) -> pa.Array:
    """The cells of ``rows`` (a slice with no step), without copying them."""
    start, stop, _ = rows.indices(len(values))
    return values.slice(start, max(stop - start, 0))


def read_source(
    path: Path, *, layer: str | None = None, csv_options: CsvOptions | None = None, decode: bool = True
) -> SourceFrame:
    """Read any supported file; raise ImportValidationError naming the file on failure.

    With ``decode=False`` a GeoParquet file's WKB geometries are kept undecoded
    (:attr:`SourceFrame.wkb`; other formats are decoded as they are read).
    """
    suffix = (
        "".join(path.suffixes[-2:]).lower() if path.name.lower().endswith(".shp.zip") else path.suffix.lower()
    )
    if not path.exists():
        raise ImportValidationError(path.name, [f"file not found: {path}"])
    if suffix in {".csv", ".txt"}:
        frame = read_csv(path, csv_options or CsvOptions())
    elif suffix in (".parquet", ".geoparquet"):
        undecoded = None if decode else _read_geoparquet_wkb(path)
        if undecoded is not None:
            return _numbered(undecoded[0], path.name, wkb=undecoded[1])
        frame = gpd.read_parquet(path)
    elif suffix in (".zip", ".shp.zip"):
        frame = _read_vector(f"zip://{path}", path.name, layer)
    elif suffix in VECTOR_SUFFIXES:
        frame = _read_vector(str(path), path.name, layer)
    else:
        raise ImportValidationError(path.name, [f"unsupported format {suffix!r}"])
    return _numbered(frame, path.name)


def _numbered(frame: gpd.GeoDataFrame, file_name: str, *, wkb: pa.Array | None = None) -> SourceFrame:
    """The frame with its rows numbered from 1 (the ``feature`` column), and the CRS it declares."""
    frame = frame.reset_index(drop=True)
    frame[FEATURE] = np.arange(1, len(frame) + 1)
    crs = frame.crs.to_wkt() if frame.crs is not None else None
    return SourceFrame(frame=frame, declared_crs=crs, file_name=file_name, wkb=wkb)


def _read_geoparquet_wkb(path: Path) -> tuple[gpd.GeoDataFrame, pa.Array] | None:
    """A GeoParquet file's fields, its geometry column left empty, and its geometries as WKB.

    The frame is built as geopandas builds it (same columns, order and CRS), but no
    geometry is decoded. None when the file is not the plain case (one WKB geometry
    column, planar edges): geopandas then reads it.
    """
    try:
        table = pq.read_table(path)
        geo = json.loads((table.schema.metadata or {})[b"geo"])
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None  # geopandas reads it, or names the error
    columns = geo.get("columns", {})
    name = geo.get("primary_column")
    if len(columns) != 1 or name not in columns or name not in table.column_names:
        return None
    meta = columns[name]
    plain = meta.get("encoding") == "WKB" and meta.get("edges", "planar") == "planar"
    kind = table.schema.field(name).type
    if not plain or not (pa.types.is_binary(kind) or pa.types.is_large_binary(kind)):
        return None
    order = list(table.slice(0, 0).to_pandas().columns)
    fields = table.drop_columns([name]).to_pandas()
    empty = gpd.GeoSeries(
        np.full(len(fields), None, dtype=object), index=fields.index, crs=meta.get("crs", "OGC:CRS84")
    )
    fields.insert(order.index(name), name, empty)
    wkb = table.column(name).combine_chunks()
    return gpd.GeoDataFrame(fields, geometry=name), wkb


def _read_vector(uri: str, file_name: str, layer: str | None) -> gpd.GeoDataFrame:
    """Read a vector file through pyogrio."""
    try:
        return gpd.read_file(uri, layer=layer, engine="pyogrio")
    except Exception as error:  # pyogrio raises many types; the message is what matters
        raise ImportValidationError(file_name, [f"cannot read as vector data: {error}"]) from error


def decode_text(raw: bytes, file_name: str, encoding: str | None) -> str:
    """Decode CSV bytes: the given encoding, else UTF-8 (BOM or not) or UTF-16 with a BOM."""
    if encoding is None and raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode(encoding or "utf-8-sig")
    except LookupError as error:
        raise ImportValidationError(file_name, [f"unknown encoding {encoding!r} (e.g. cp1258)"]) from error
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        fix = (
            "if Excel saved it as 'CSV' (Windows-1258), pass --encoding cp1258, or save it as 'CSV UTF-8'"
            if encoding is None
            else "pass the file's real encoding with --encoding"
        )
        raise ImportValidationError(
            file_name, [f"row {line - 1}: not {encoding or 'UTF-8'} text (byte {error.start}); {fix}"]
        ) from error


def read_csv(path: Path, options: CsvOptions) -> gpd.GeoDataFrame:
    """Read a CSV with lon/lat or WKT columns into a GeoDataFrame (EPSG:4326 unless told)."""
    text = decode_text(path.read_bytes(), path.name, options.encoding)
    delimiter = options.delimiter or _sniff_delimiter(text)
    table = _arrow_cells(text, delimiter)
    if table is None:
        try:
            table = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, csv.Error) as error:
            raise ImportValidationError(path.name, [f"malformed CSV: {error}"]) from error
    geometry = _csv_geometry(table, options, path.name)
    return gpd.GeoDataFrame(table, geometry=geometry)


def _arrow_cells(text: str, delimiter: str) -> pd.DataFrame | None:
    """Every cell as text ("" where empty) through Arrow's parser, as pandas would read them.

    None when Arrow declines (a malformed row, repeated column names): pandas then
    reads the file, and its errors name the line.
    """
    header = next(csv.reader([text.split("\n", 1)[0].rstrip("\r")], delimiter=delimiter), [])
    if not header or len(set(header)) != len(header):
        return None
    try:
        table = pa_csv.read_csv(
            io.BytesIO(text.encode()),
            read_options=pa_csv.ReadOptions(skip_rows=1, column_names=header),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:
        return None
    cells: pd.DataFrame = table.to_pandas()
    return cells


def _sniff_delimiter(text: str) -> str:
    """Guess the delimiter from the header line (comma, semicolon, tab or pipe)."""
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t", "|"), key=header.count)


def _find_column(table: pd.DataFrame, given: str | None, names: tuple[str, ...]) -> str | None:
    """The given column name if present, else the first conventional name present."""
    if given is not None:
        return given if given in table.columns else None
    lowered = {str(column).strip().lower(): str(column) for column in table.columns}
    return next((lowered[name] for name in names if name in lowered), None)


def _csv_geometry(table: pd.DataFrame, options: CsvOptions, file_name: str) -> gpd.GeoSeries:
    """Build point geometries from lon/lat columns, or parse a WKT column."""
    wkt = _find_column(table, options.wkt_column, WKT_NAMES)
    lon = _find_column(table, options.lon_column, LON_NAMES)
    lat = _find_column(table, options.lat_column, LAT_NAMES)
    if lon is not None and lat is not None:
        return gpd.GeoSeries(_points_from_columns(table, lon, lat, file_name))
    if wkt is not None:
        return gpd.GeoSeries(_parse_wkt(table[wkt], wkt, file_name))
    raise ImportValidationError(
        file_name,
        [
            f"no geometry columns: expected lon/lat (one of {LON_NAMES} and {LAT_NAMES}) or WKT "
            f"({WKT_NAMES}); columns are {list(table.columns)}; use --lon/--lat or --wkt"
        ],
    )


def _points_from_columns(table: pd.DataFrame, lon: str, lat: str, file_name: str) -> NDArray[np.object_]:
    """Points from two text columns; an empty pair is no geometry, a bad number is an error."""
    xs = _numbers(table[lon], lon, file_name)
    ys = _numbers(table[lat], lat, file_name)
    points: NDArray[np.object_] = shapely.points(xs, ys)
    points[np.isnan(xs) | np.isnan(ys)] = None
    return points


def _numbers(column: pd.Series, name: str, file_name: str) -> NDArray[np.float64]:
    """Parse a text column as floats (a decimal comma is accepted); report bad cells by row.

    NaN, infinity and numbers too large for a double (1e400) are not finite numbers:
    each is a problem, like any other text that is not a number (addresses.validation).
    """
    text = column.str.strip().str.replace(",", ".", regex=False)
    values = pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(values) & (text != "").to_numpy()
    if bad.any():
        rows = (np.flatnonzero(bad) + 1).tolist()
        problems = [
            f"row {row}, field {name!r}: not a finite number: {column.iloc[row - 1]!r}" for row in rows
        ]
        raise ImportValidationError(file_name, problems)
    return values


def _parse_wkt(column: pd.Series, name: str, file_name: str) -> NDArray[np.object_]:
    """Parse WKT cells; an empty cell is no geometry, unparseable text is an error."""
    text = column.str.strip()
    geoms: NDArray[np.object_] = shapely.from_wkt(
        text.where(text != "").to_numpy(dtype=object), on_invalid="ignore"
    )
    bad = shapely.is_missing(geoms) & (text != "").to_numpy()
    if bad.any():
        rows = (np.flatnonzero(bad) + 1).tolist()
        problems = [f"row {row}, field {name!r}: not WKT: {column.iloc[row - 1][:60]!r}" for row in rows]
        raise ImportValidationError(file_name, problems)
    return geoms
