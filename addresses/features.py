"""OGC API Features over the data model: a small collection registry, extents and pages of features.

Four collections: ``addresses``, ``villages``, ``places`` and ``units`` (administrative
units of every level and both periods). Geometries are stored in WGS 84 and
transformed in PostGIS into the CRS a client asks for (OGC API Features Part 2):
CRS84 (lon, lat), EPSG:4326 (lat, lon, the EPSG axis order), EPSG:3857 and
EPSG:9211 VN-2000 / TM-3 106-00, the cadastral projection of Hoa Binh. VN-2000 is
reached with the official 7 parameters EPSG:6960 of our own spatial_ref_sys row, never
with whatever PROJ would pick on its own (see VN2000_TM3_106_SRID).

>>> parse_crs("EPSG:4326").lat_lon, parse_crs(None).uri
(True, 'http://www.opengis.net/def/crs/OGC/1.3/CRS84')
>>> parse_bbox("105.2,20.7,105.5,20.9")
(105.2, 20.7, 105.5, 20.9)
>>> parse_datetime("2025-06-30T20:00:00Z")  # 1 July 03:00 in Vietnam
(datetime.date(2025, 7, 1), datetime.date(2025, 7, 1))
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, TypeAlias

from sqlalchemy import (
    BigInteger,
    Connection,
    FromClause,
    Row,
    Select,
    case,
    cast,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSON, JSONB

from addresses.codes import is_valid_registry_code, normalise_registry_code
from addresses.datasets import DATASETS, PUBLIC_STATUSES, DatasetSpec, public_filter, valid_during
from addresses.errors import InvalidParameterError, NotFoundError
from addresses.limits import FEATURES_PAGE_SIZE, MAX_OFFSET, MAX_PAGE_SIZE
from addresses.schema import SRID, admin_unit
from addresses.types import UNIT_LEVEL_NAMES, BBox, Expression

__all__ = [
    "COLLECTIONS",
    "CRS84",
    "SUPPORTED_CRS",
    "VN2000_TM3_106_SRID",
    "CollectionInfo",
    "CollectionSpec",
    "Feature",
    "FeatureCrs",
    "FeaturePage",
    "FeatureQuery",
    "Interval",
    "JsonValue",
    "Queryable",
    "collection",
    "crs_uri",
    "item",
    "items",
    "list_collections",
    "parse_bbox",
    "parse_crs",
    "parse_datetime",
]

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
Interval: TypeAlias = tuple[dt.date | None, dt.date | None]
"""Inclusive first and last day; None is open (``..``)."""

CRS84: Final = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG_URI: Final = "http://www.opengis.net/def/crs/EPSG/0/"
VN2000_TM3_106_SRID: Final = 909211
"""spatial_ref_sys row of EPSG:9211 VN-2000 / TM-3 106-00 bound to the official EPSG:6960 parameters.

Registered by migration 0003 (PostGIS 3.3 lacks EPSG:9211; a PROJ text in ST_Transform
would be rebuilt for every row, ~3 ms each; the row has no authority so that PostGIS
uses its TOWGS84 instead of letting PROJ choose a datum shift per point).
"""
VIETNAM_TIME: Final = dt.timezone(dt.timedelta(hours=7))


# --- coordinate reference systems ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeatureCrs:
    """A CRS features can be returned in and bounding boxes given in."""

    uri: str
    epsg: int
    """Its EPSG code (CRS84 is EPSG:4326 with the axes swapped)."""
    postgis_srid: int
    """The spatial_ref_sys row ST_Transform uses for it."""
    lat_lon: bool
    """Coordinates are (lat, lon): EPSG:4326's own axis order."""
    decimals: int


SUPPORTED_CRS: Final = (
    FeatureCrs(CRS84, SRID, SRID, lat_lon=False, decimals=7),
    FeatureCrs(f"{_EPSG_URI}4326", SRID, SRID, lat_lon=True, decimals=7),
    FeatureCrs(f"{_EPSG_URI}3857", 3857, 3857, lat_lon=False, decimals=3),
    FeatureCrs(f"{_EPSG_URI}9211", 9211, VN2000_TM3_106_SRID, lat_lon=False, decimals=3),
)


def _aliases(crs: FeatureCrs) -> tuple[str, ...]:
    """Other spellings clients use for a CRS (lower case)."""
    if crs.uri == CRS84:
        return ("ogc:crs84", "crs84", "urn:ogc:def:crs:ogc:1.3:crs84", "urn:ogc:def:crs:ogc::crs84")
    return (f"epsg:{crs.epsg}", f"urn:ogc:def:crs:epsg::{crs.epsg}")


_CRS_BY_NAME: Final = {
    name: crs
    for crs in SUPPORTED_CRS
    for name in (crs.uri.lower(), crs.uri.lower().replace("http://", "https://"), *_aliases(crs))
}


def parse_crs(value: str | None, *, parameter: str = "crs") -> FeatureCrs:
    """The supported CRS a URI (or ``EPSG:n``, ``[EPSG:n]``, ``OGC:CRS84``) names; None is CRS84.

    >>> parse_crs("http://www.opengis.net/def/crs/EPSG/0/9211").epsg
    9211
    >>> parse_crs("EPSG:2000")
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidParameterError: crs: unsupported CRS 'EPSG:2000'; supported: ...
    """
    if value is None or value.strip() == "":
        return SUPPORTED_CRS[0]
    found = _CRS_BY_NAME.get(value.strip().strip("[]").lower())
    if found is None:
        supported = ", ".join(crs.uri for crs in SUPPORTED_CRS)
        raise InvalidParameterError(parameter, f"unsupported CRS {value!r}; supported: {supported}")
    return found


def crs_uri(value: str | None) -> str:
    """The canonical URI of a supported CRS (for the Content-Crs header).

    >>> crs_uri("EPSG:3857")
    'http://www.opengis.net/def/crs/EPSG/0/3857'
    """
    return parse_crs(value).uri


def _output_geometry(geometry: Expression, crs: FeatureCrs) -> Expression:
    """GeoJSON text of a stored geometry, transformed in PostGIS into ``crs`` and its axis order."""
    if crs.postgis_srid != SRID:
        geometry = func.ST_Transform(geometry, crs.postgis_srid)
    if crs.lat_lon:
        geometry = func.ST_FlipCoordinates(geometry)
    return func.ST_AsGeoJSON(geometry, crs.decimals, 0)


def _bbox_polygon(bbox: BBox, crs: FeatureCrs) -> Expression:
    """A bbox given in ``crs`` as a WGS 84 (lon, lat) polygon, densified before transforming."""
    xmin, ymin, xmax, ymax = (bbox[1], bbox[0], bbox[3], bbox[2]) if crs.lat_lon else bbox
    if crs.postgis_srid == SRID:
        return func.ST_MakeEnvelope(xmin, ymin, xmax, ymax, SRID)
    envelope = func.ST_MakeEnvelope(xmin, ymin, xmax, ymax, crs.postgis_srid)
    step = max(xmax - xmin, ymax - ymin, 1.0) / 32
    return func.ST_Transform(func.ST_Segmentize(envelope, step), SRID)


# --- parameters ------------------------------------------------------------------------


def parse_bbox(text: str, *, parameter: str = "bbox") -> BBox:
    """Read ``minx,miny,maxx,maxy`` (or 6 numbers with heights, which are dropped).

    >>> parse_bbox("1, 2, 0, 3, 4, 10")
    (1.0, 2.0, 3.0, 4.0)
    >>> parse_bbox("1,2,3")
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidParameterError: bbox: expected 4 or 6 comma-separated numbers, got 3
    """
    parts = [part.strip() for part in text.split(",")]
    if len(parts) not in (4, 6):
        raise InvalidParameterError(parameter, f"expected 4 or 6 comma-separated numbers, got {len(parts)}")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise InvalidParameterError(parameter, f"not a list of numbers: {text!r}") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    return numbers[0], numbers[1], numbers[2], numbers[3]


def _check_bbox(bbox: BBox, crs: FeatureCrs, parameter: str) -> None:
    """Refuse a bbox with infinite numbers, corners out of order or degrees out of range."""
    if not all(math.isfinite(v) for v in bbox):
        raise InvalidParameterError(parameter, "numbers must be finite")
    if bbox[0] > bbox[2] or bbox[1] > bbox[3]:
        raise InvalidParameterError(
            parameter, "the lower corner must not exceed the upper corner (no antimeridian crossing)"
        )
    if crs.postgis_srid != SRID:
        return
    lons, lats = ((bbox[1], bbox[3]), (bbox[0], bbox[2])) if crs.lat_lon else ((bbox[0], bbox[2]), bbox[1::2])
    if not all(-180 <= v <= 180 for v in lons) or not all(-90 <= v <= 90 for v in lats):
        order = "lat,lon" if crs.lat_lon else "lon,lat"
        raise InvalidParameterError(parameter, f"degrees out of range for {crs.uri} ({order} order)")


def _parse_day(text: str) -> dt.date | None:
    """One end of a datetime interval as a Vietnamese calendar day; '..' or '' is open."""
    text = text.strip()
    if text in ("", ".."):
        return None
    if len(text) == 10:
        return dt.date.fromisoformat(text)
    moment = dt.datetime.fromisoformat(text)
    return moment.astimezone(VIETNAM_TIME).date() if moment.tzinfo is not None else moment.date()


def parse_datetime(text: str, *, parameter: str = "datetime") -> Interval:
    """Read an OGC ``datetime``: an instant, or ``start/end`` with ``..`` for an open end.

    Days are calendar days in Vietnam (UTC+7); an instant gives a one-day interval.

    >>> parse_datetime("2020-01-01/..")
    (datetime.date(2020, 1, 1), None)
    >>> parse_datetime("2025-07-01/2020-01-01")
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidParameterError: datetime: the interval ends before it starts
    """
    ends = text.split("/")
    if len(ends) > 2 or (len(ends) == 1 and ends[0].strip() in ("", "..")):
        raise InvalidParameterError(parameter, f"expected an RFC 3339 date-time or an interval, got {text!r}")
    try:
        days = [_parse_day(end) for end in ends]
    except ValueError:
        raise InvalidParameterError(parameter, f"not an RFC 3339 date-time or interval: {text!r}") from None
    start, end = days if len(days) == 2 else (days[0], days[0])
    if start is None and end is None:
        raise InvalidParameterError(parameter, "an interval needs at least one end")
    if start is not None and end is not None and end < start:
        raise InvalidParameterError(parameter, "the interval ends before it starts")
    return start, end


def _page_limit(limit: int, max_limit: int) -> int:
    """The page size to use: at least 1, and larger requests are cut to ``max_limit`` (OGC)."""
    if limit < 1:
        raise InvalidParameterError("limit", f"must be at least 1, got {limit}")
    return min(limit, max_limit)


def _check_offset(offset: int) -> int:
    """Refuse a negative offset, or one beyond what PostgreSQL can skip."""
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidParameterError("offset", f"must be between 0 and {MAX_OFFSET}, got {offset}")
    return offset


# --- the collection registry -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Queryable:
    """A property items can be filtered on by equality (``?code=04795``)."""

    name: str
    column: Expression
    parse: Callable[[str], object]
    description: str


@dataclass(frozen=True, slots=True)
class CollectionSpec:
    """How one collection is read: its source, id, properties, geometry and queryables."""

    id: str
    title: str
    description: str
    source: FromClause
    id_column: Expression
    properties: tuple[Expression, ...]
    geometry: Expression
    queryables: tuple[Queryable, ...] = ()
    validity: tuple[Expression, Expression] | None = None
    """(valid_from, valid_to exclusive) columns of a collection with a temporal extent."""
    visible: Expression = field(default_factory=true)
    """Which rows anonymous readers see (addresses.datasets.public_filter)."""
    public_id: PublicId | None = None
    """What identifies a feature in answers and item paths instead of the database id, if anything."""


@dataclass(frozen=True, slots=True)
class PublicId:
    """A stable identifier of a collection's features (addresses: the registry code).

    Answers give it as the feature ``id``; an item path may give it in any spelling
    ``parse`` reads (None: not one), or the database id, which still finds the feature.
    """

    column: Expression
    parse: Callable[[str], str | None]
    description: str


def _registry_code_or_none(text: str) -> str | None:
    """The canonical registry code a text spells, or None.

    >>> _registry_code_or_none("1000-000-005"), _registry_code_or_none("17")
    ('1000000005', None)
    """
    return normalise_registry_code(text) if is_valid_registry_code(text) else None


def _level(text: str) -> int:
    """Parse a unit level: 1, 2, 3 or province, district, commune."""
    names = {"province": 1, "district": 2, "commune": 3}
    number = text.strip()
    value = names.get(number.lower()) or (int(number) if number.isascii() and number.isdigit() else 0)
    if value not in (1, 2, 3):
        raise ValueError("expected 1, 2, 3, province, district or commune")
    return value


def _units_collection(dataset: DatasetSpec) -> CollectionSpec:
    """Administrative units of both periods, with their parent's code."""
    unit, parent = dataset.table, dataset.table.alias("parent")
    level_name = case(UNIT_LEVEL_NAMES, value=unit.c.level)
    columns = [unit.c[name] for name in ("code", "level", "unit_type", "name", "full_name", "name_en")]
    return CollectionSpec(
        id=dataset.name,
        title=dataset.title,
        description=dataset.description,
        source=unit.outerjoin(parent, unit.c.parent_id == parent.c.id),
        id_column=unit.c.id,
        properties=(
            *columns,
            level_name.label("level_name"),
            unit.c.valid_from,
            unit.c.valid_to,
            parent.c.code.label("parent_code"),
            unit.c.geom_quality,
            unit.c.population,
            unit.c.area_km2,
        ),
        geometry=func.coalesce(unit.c.geom, unit.c.label_point),
        queryables=(
            Queryable("code", unit.c.code, str, "GSO code, e.g. 04795 (may name units of two periods)"),
            Queryable("level", unit.c.level, _level, "1 province, 2 district, 3 commune (or the word)"),
            Queryable("parent_code", parent.c.code, str, "GSO code of the parent unit, e.g. 148"),
        ),
        validity=(unit.c.valid_from, unit.c.valid_to),
        visible=public_filter(dataset),
    )


def _commune_queryable(commune: FromClause) -> Queryable:
    """Filter on the GSO code of the (current) commune."""
    return Queryable("commune_code", commune.c.code, str, "GSO code of the commune, e.g. 04795")


PUBLIC_KEYS: Final = {"registry_code": (_registry_code_or_none, "the registry code")}
"""How a public key column other than the id is read from an item path, and what it is called."""


def _property(dataset: DatasetSpec, commune: FromClause, name: str) -> Expression:
    """A feature property: a column, JSON for a JSONB column, or ``commune_code``/``commune_name``."""
    if name == "commune_code":
        return commune.c.code.label(name)
    if name == "commune_name":
        return commune.c.full_name.label(name)
    column = dataset.table.c[name]
    return cast(column, JSON).label(name) if isinstance(column.type, JSONB) else column


def _queryable(dataset: DatasetSpec, commune: FromClause, name: str) -> Queryable:
    """A filter on a property: the commune code, the (public) status or a column described by its comment."""
    if name == "commune_code":
        return _commune_queryable(commune)
    if name == "status":
        return Queryable(name, dataset.table.c[name], str, " or ".join(PUBLIC_STATUSES))
    column = dataset.table.c[name]
    return Queryable(name, column, str, column.comment or name)


def _public_id(dataset: DatasetSpec) -> PublicId | None:
    """What identifies the features to the public when it is not the database id."""
    if dataset.key_column == dataset.id_column:
        return None
    parse, description = PUBLIC_KEYS[dataset.key_column]
    return PublicId(dataset.key, parse, description)


def _dataset_collection(dataset: DatasetSpec) -> CollectionSpec:
    """The collection of a dataset placed in communes: its public rows with their commune's code."""
    table, commune = dataset.table, admin_unit.alias("commune")
    return CollectionSpec(
        id=dataset.name,
        title=dataset.title,
        description=dataset.description,
        source=table.outerjoin(commune, table.c.commune_id == commune.c.id),
        id_column=dataset.id,
        properties=tuple(_property(dataset, commune, name) for name in dataset.properties),
        geometry=dataset.geometry,
        queryables=tuple(_queryable(dataset, commune, name) for name in dataset.queryables),
        public_id=_public_id(dataset),
        visible=public_filter(dataset),
    )


def dataset_collection(dataset: DatasetSpec) -> CollectionSpec:
    """The collection of a dataset (units have their own: parents, levels and periods)."""
    return _units_collection(dataset) if dataset.validity is not None else _dataset_collection(dataset)


COLLECTIONS: Final[Mapping[str, CollectionSpec]] = {
    name: dataset_collection(dataset) for name, dataset in DATASETS.items()
}
"""The collections served, by id: one per dataset, in the order of addresses.datasets.DATASETS."""


def _spec(name: str) -> CollectionSpec:
    """The collection named ``name``, or NotFoundError."""
    try:
        return COLLECTIONS[name]
    except KeyError:
        raise NotFoundError(f"no collection {name!r}; there are {', '.join(COLLECTIONS)}") from None


# --- collections and their extents ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """What /collections says about one collection: extents in CRS84 and the CRSs offered."""

    id: str
    title: str
    description: str
    bbox: BBox | None
    temporal: list[Interval] | None
    """Overall interval first, then each distinct validity period (units only)."""
    crs: tuple[str, ...]
    storage_crs: str
    queryables: tuple[Queryable, ...]


def _spatial_extent(conn: Connection, spec: CollectionSpec) -> BBox | None:
    """The bbox of every geometry of a collection in CRS84, None when it is empty."""
    extent = (
        select(func.ST_Extent(spec.geometry).label("e"))
        .select_from(spec.source)
        .where(spec.visible)
        .subquery()
    )
    row = conn.execute(
        select(
            func.ST_XMin(extent.c.e),
            func.ST_YMin(extent.c.e),
            func.ST_XMax(extent.c.e),
            func.ST_YMax(extent.c.e),
        )
    ).one()
    return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def _temporal_extent(conn: Connection, spec: CollectionSpec) -> list[Interval] | None:
    """The overall validity of a temporal collection, then each distinct period in it."""
    if spec.validity is None:
        return None
    start, end = spec.validity
    periods = [
        (row[0], row[1])
        for row in conn.execute(
            select(start, end).select_from(spec.source).where(spec.visible).distinct().order_by(start, end)
        )
    ]
    if not periods:
        return None
    first = None if any(p[0] is None for p in periods) else min(p[0] for p in periods if p[0] is not None)
    last = None if any(p[1] is None for p in periods) else max(p[1] for p in periods if p[1] is not None)
    return [(first, last), *periods]


def _info(conn: Connection, spec: CollectionSpec) -> CollectionInfo:
    """Describe one collection with extents computed from its data."""
    return CollectionInfo(
        id=spec.id,
        title=spec.title,
        description=spec.description,
        bbox=_spatial_extent(conn, spec),
        temporal=_temporal_extent(conn, spec),
        crs=tuple(crs.uri for crs in SUPPORTED_CRS),
        storage_crs=CRS84,
        queryables=spec.queryables,
    )


def list_collections(conn: Connection) -> list[CollectionInfo]:
    """Every collection with its extents."""
    return [_info(conn, spec) for spec in COLLECTIONS.values()]


def collection(conn: Connection, name: str) -> CollectionInfo:
    """One collection with its extents; NotFoundError for an unknown name."""
    return _info(conn, _spec(name))


# --- features ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Feature:
    """One GeoJSON feature: id, geometry (in the requested CRS) and properties."""

    id: int | str
    """The collection's public id (addresses: the registry code), else the database id."""
    geometry: dict[str, Any] | None
    properties: dict[str, JsonValue]


@dataclass(frozen=True, slots=True)
class FeaturePage:
    """One page of items: features, how many match in all, and the paging that produced it."""

    collection: str
    features: list[Feature]
    number_matched: int
    limit: int
    offset: int
    crs: FeatureCrs

    @property
    def number_returned(self) -> int:
        """How many features this page holds."""
        return len(self.features)

    @property
    def has_next(self) -> bool:
        """Whether features follow this page."""
        return self.offset + self.number_returned < self.number_matched


def _json_value(value: object) -> JsonValue:
    """A database value as JSON: dates in ISO 8601, decimals as floats."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value  # type: ignore[return-value]


def _feature_select(spec: CollectionSpec, crs: FeatureCrs) -> Select[Any]:
    """SELECT id, geometry as GeoJSON (in ``crs``), properties FROM the collection's source."""
    geometry = cast(_output_geometry(spec.geometry, crs), JSON).label("__geometry")
    ids = [spec.id_column.label("__id")]
    if spec.public_id is not None:
        ids.append(spec.public_id.column.label("__public_id"))
    return select(*ids, geometry, *spec.properties).select_from(spec.source)


def _page_select(
    spec: CollectionSpec, crs: FeatureCrs, where: list[Expression], limit: int, offset: int
) -> Select[Any]:
    """The features of one page: ids picked first, so skipped rows are never turned into GeoJSON."""
    page = (
        select(spec.id_column.label("page_id"))
        .select_from(spec.source)
        .where(*where)
        .order_by(spec.id_column)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    return _feature_select(spec, crs).join(page, spec.id_column == page.c.page_id).order_by(spec.id_column)


def _feature(row: Row[Any]) -> Feature:
    """A result row as a Feature."""
    values = row._mapping
    properties = {key: _json_value(value) for key, value in values.items() if not key.startswith("__")}
    public = values.get("__public_id")
    feature_id = int(values["__id"]) if public is None else str(public)
    return Feature(id=feature_id, geometry=values["__geometry"], properties=properties)


def _filter_conditions(spec: CollectionSpec, filters: Mapping[str, str]) -> list[Expression]:
    """Equality conditions for property filters; unknown or malformed ones are refused."""
    by_name = {queryable.name: queryable for queryable in spec.queryables}
    conditions: list[Expression] = []
    for name, text in filters.items():
        queryable = by_name.get(name)
        if queryable is None:
            allowed = ", ".join(by_name) or "none"
            raise InvalidParameterError(name, f"collection {spec.id!r} cannot be filtered on it ({allowed})")
        try:
            value = queryable.parse(text)
        except ValueError as exc:
            raise InvalidParameterError(name, f"{text!r}: {exc}") from None
        conditions.append(queryable.column == value)
    return conditions


def _conditions(
    spec: CollectionSpec,
    *,
    bbox: BBox | None,
    bbox_crs: str | None,
    datetime: str | None,
    filters: Mapping[str, str],
) -> list[Expression]:
    """Every WHERE condition of an items request (the rows readers see, then the filters)."""
    conditions = [spec.visible, *_filter_conditions(spec, filters)]
    if bbox is not None:
        crs = parse_crs(bbox_crs, parameter="bbox-crs")
        _check_bbox(bbox, crs, "bbox")
        conditions.append(func.ST_Intersects(spec.geometry, _bbox_polygon(bbox, crs)))
    if datetime is not None:
        interval = parse_datetime(datetime)
        if spec.validity is not None:
            conditions.append(valid_during(*spec.validity, start=interval[0], end=interval[1]))
    return conditions


@dataclass(frozen=True, slots=True)
class FeatureQuery:
    """What page of a collection to read: where, in which CRS, how many, and which features.

    ``bbox`` is in ``bbox_crs`` (CRS84 by default) and its axis order; ``datetime``
    (instant or interval) keeps the units valid then and is ignored by collections
    without a validity; ``filters`` are equality filters on the collection's queryables.
    A ``limit`` above ``max_limit`` is cut to it.
    """

    bbox: BBox | Sequence[float] | None = None
    bbox_crs: str | None = None
    crs: str | None = None
    limit: int = FEATURES_PAGE_SIZE
    offset: int = 0
    max_limit: int = MAX_PAGE_SIZE
    datetime: str | None = None
    filters: Mapping[str, str] = field(default_factory=dict)


def items(conn: Connection, name: str, *, query: FeatureQuery | None = None) -> FeaturePage:
    """One page of a collection's features, filtered, in id order, geometries in the query's CRS."""
    asked = query or FeatureQuery()
    spec = _spec(name)
    out_crs = parse_crs(asked.crs)
    box = None if asked.bbox is None else _as_bbox(asked.bbox)
    where = _conditions(
        spec, bbox=box, bbox_crs=asked.bbox_crs, datetime=asked.datetime, filters=asked.filters
    )
    limit, offset = asked.limit, asked.offset
    page_limit, page_offset = _page_limit(limit, asked.max_limit), _check_offset(offset)
    matched = conn.execute(select(func.count()).select_from(spec.source).where(*where)).scalar_one()
    rows = conn.execute(_page_select(spec, out_crs, where, page_limit, page_offset)).all()
    return FeaturePage(
        collection=spec.id,
        features=[_feature(row) for row in rows],
        number_matched=int(matched),
        limit=page_limit,
        offset=page_offset,
        crs=out_crs,
    )


def _as_bbox(values: Sequence[float]) -> BBox:
    """A 4-number bbox from a sequence of 4 (or 6, heights dropped) numbers."""
    if len(values) not in (4, 6):
        raise InvalidParameterError("bbox", f"expected 4 or 6 numbers, got {len(values)}")
    upper = (3, 4) if len(values) == 6 else (2, 3)
    return float(values[0]), float(values[1]), float(values[upper[0]]), float(values[upper[1]])


def _item_condition(spec: CollectionSpec, feature_id: str | int) -> Expression:
    """The WHERE condition of one feature: its public id in any spelling, else its database id."""
    text = str(feature_id).strip()
    public = None if spec.public_id is None else spec.public_id.parse(text)
    if spec.public_id is not None and public is not None:
        return spec.public_id.column == public
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        kind = "whole numbers" if spec.public_id is None else f"{spec.public_id.description} (or a number)"
        raise NotFoundError(f"no feature {feature_id!r} in {spec.id!r}: ids are {kind}")
    return spec.id_column == literal(int(text), BigInteger)  # ids beyond int4 simply match nothing


def item(conn: Connection, name: str, feature_id: str | int, *, crs: str | None = None) -> Feature:
    """One feature by its id, geometry in ``crs``; NotFoundError for an unknown one.

    In a collection with a public id (addresses: the registry code) the id may be that, in
    any spelling (1000-000-005), or the database id; the feature answers with its public id.
    """
    spec = _spec(name)
    out_crs = parse_crs(crs)
    wanted = _item_condition(spec, feature_id)
    row = conn.execute(_feature_select(spec, out_crs).where(wanted, spec.visible)).one_or_none()
    if row is None:
        raise NotFoundError(f"no feature {feature_id!r} in {spec.id!r}")
    return _feature(row)
