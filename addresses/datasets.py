"""One spec per dataset: its table, geometry, fields, statuses, who sees which rows, and unit validity.

The four datasets (``units``, ``villages``, ``places``, ``addresses``) are described here
once; the importers, the tile layers, the geocoder loader and the OGC collections (and
editing) read what they need from :data:`DATASETS` instead of writing it down again.

**The visibility rule** (one rule, every surface): a row is *public* once it is
published, that is when its status is ``active`` or ``retired``; a ``proposed`` row is
seen by staff only. Surfaces that show what is in force today (map tiles, forward and
reverse search) keep the public rows that are not retired (:func:`in_force_filter`:
status ``active``); surfaces that show the record (OGC collections, a registry code
looked up after it was retired) keep every public row, retired ones with their status
(:func:`public_filter`). Staff (``staff=True``) also see proposed rows. Units have no
status: they are all public, and in force while their validity period lasts
(:func:`valid_at`).

>>> get_dataset("villages").table.name, get_dataset("addresses").key_column
('village', 'registry_code')
>>> [spec.name for spec in DATASETS.values()]
['units', 'villages', 'places', 'addresses']
>>> str(public_filter(get_dataset("villages")))
'village.status IN (__[POSTCOMPILE_status_1])'
>>> str(public_filter(get_dataset("units")))
'true'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from geoalchemy2 import Geometry
from sqlalchemy import Column, ColumnElement, Table, and_, or_, true

from addresses.errors import InvalidParameterError, NotFoundError
from addresses.schema import address, admin_unit, place, village
from addresses.types import STATUSES, Expression, Status

__all__ = [
    "AREA_TYPES",
    "DATASETS",
    "IN_FORCE_STATUSES",
    "POINT_TYPES",
    "PUBLIC_STATUSES",
    "SOURCE_KEY",
    "STATUSES",
    "DatasetSpec",
    "Status",
    "get_dataset",
    "in_force_filter",
    "is_valid_on",
    "public_filter",
    "unit_valid_at",
    "valid_at",
    "valid_during",
]

PUBLIC_STATUSES: Final[tuple[Status, ...]] = ("active", "retired")
"""Published rows: what anonymous readers may see; ``proposed`` rows are for staff only."""
IN_FORCE_STATUSES: Final[tuple[Status, ...]] = ("active",)
"""Public rows in force today: what the map and search show."""
STAFF_IN_FORCE_STATUSES: Final[tuple[Status, ...]] = ("proposed", "active")
"""What staff see on the map and in search: proposed rows besides the active ones."""

POINT_TYPES: Final = frozenset({"Point"})
AREA_TYPES: Final = frozenset({"Polygon", "MultiPolygon"})
SOURCE_KEY: Final = ("source", "source_id")
"""The natural key of imported rows: a re-import of a source updates the rows it wrote before."""


@dataclass(frozen=True)
class DatasetSpec:
    """What one dataset is: where it is stored and which fields, geometries and statuses it has.

    ``target_fields`` are the fields an import maps source columns to (in that order),
    ``required_fields`` must be non-empty in every imported row, ``blankable_fields`` are
    stored fields a re-import overwrites (so a file without a column for one would blank
    it), ``editable_fields`` the attribute fields a staff editor may change (geometry and
    status have their own operations).
    """

    name: str
    """The public name, plural: in URLs, the CLI, import runs and mapping files."""
    title: str
    table: Table
    source_geometry_types: frozenset[str]
    """The geometry types an import accepts (shapely names); others are rejected."""
    target_fields: tuple[str, ...]
    required_fields: tuple[str, ...] = ()
    blankable_fields: tuple[str, ...] = ()
    editable_fields: tuple[str, ...] = ()
    id_column: str = "id"
    key_column: str = "id"
    """The column that identifies a row to the public (the registry code for addresses)."""
    geometry_column: str = "geom"
    geometry_required: bool = True
    """Whether a row needs a geometry (a unit may be known by its code alone)."""
    natural_key: tuple[str, ...] = SOURCE_KEY
    """What a re-import matches rows on."""
    statuses: tuple[Status, ...] = STATUSES
    """The statuses the dataset knows; () when it has no status column (units)."""
    validity: tuple[str, str] | None = None
    """(valid_from, valid_to exclusive) columns when rows hold for a period (units)."""

    @property
    def id(self) -> Column[Any]:
        """The primary key column."""
        return self.table.c[self.id_column]

    @property
    def key(self) -> Column[Any]:
        """The public key column."""
        return self.table.c[self.key_column]

    @property
    def geometry(self) -> Column[Any]:
        """The geometry column."""
        return self.table.c[self.geometry_column]

    @property
    def status(self) -> Column[Any] | None:
        """The status column, or None for a dataset without statuses."""
        return self.table.c["status"] if self.statuses else None

    @property
    def stores_points(self) -> bool:
        """Whether the geometry column holds points only (an imported area is stored as a point in it).

        >>> get_dataset("places").stores_points, get_dataset("villages").stores_points
        (True, False)
        """
        kind = self.geometry.type
        return isinstance(kind, Geometry) and kind.geometry_type == "POINT"

    @property
    def keyed_by_source(self) -> bool:
        """Whether rows are matched on (source, source_id) on re-import (units are not)."""
        return self.natural_key == SOURCE_KEY

    @property
    def stored_fields(self) -> tuple[str, ...]:
        """The target fields that are columns of the table, in target order.

        >>> get_dataset("addresses").stored_fields[:3]
        ('source_id', 'house_number', 'alley')
        """
        return tuple(name for name in self.target_fields if name in self.table.c)


def _units() -> DatasetSpec:
    """Administrative units of every level and period (no status: validity periods instead)."""
    return DatasetSpec(
        name="units",
        title="Administrative units",
        table=admin_unit,
        source_geometry_types=POINT_TYPES | AREA_TYPES,
        target_fields=(
            "source_id",
            "code",
            "name",
            "full_name",
            "unit_type",
            "level",
            "parent_code",
            "valid_from",
            "valid_to",
            "name_en",
            "population",
            "area_km2",
        ),
        required_fields=("code", "name", "unit_type", "level"),
        blankable_fields=(),  # an empty unit field keeps the stored value (importers.load.upsert_units)
        editable_fields=("name", "full_name", "name_en", "population", "area_km2"),
        geometry_required=False,
        natural_key=("level", "code", "valid_from"),
        statuses=(),
        validity=("valid_from", "valid_to"),
    )


def _villages() -> DatasetSpec:
    """Villages: thôn, xóm, bản, tổ dân phố... as points or polygons."""
    return DatasetSpec(
        name="villages",
        title="Villages",
        table=village,
        source_geometry_types=POINT_TYPES | AREA_TYPES,
        target_fields=("source_id", "name", "village_type"),
        required_fields=("name",),
        blankable_fields=(),  # the name is required; the type, when not given, comes from the name
        editable_fields=("name", "village_type"),
    )


def _places() -> DatasetSpec:
    """Points of interest; an imported area is stored as a point inside it."""
    return DatasetSpec(
        name="places",
        title="Places",
        table=place,
        source_geometry_types=POINT_TYPES | AREA_TYPES,
        target_fields=("source_id", "name", "category", "kind", "house_number", "street"),
        required_fields=("category", "kind"),
        blankable_fields=("name", "house_number", "street"),
        editable_fields=("name", "category", "kind", "house_number", "street"),
    )


def _addresses() -> DatasetSpec:
    """Address points, known to the public by their registry code (mã địa chỉ số)."""
    return DatasetSpec(
        name="addresses",
        title="Addresses",
        table=address,
        source_geometry_types=POINT_TYPES,
        target_fields=(
            "source_id",
            "house_number",
            "alley",
            "street",
            "village_name",
            "commune_code",
            "official_code",
            "status",
        ),
        blankable_fields=("house_number", "alley", "street", "village_name", "official_code", "status"),
        editable_fields=("house_number", "alley", "street", "village_name"),
        key_column="registry_code",
    )


DATASETS: Final[Mapping[str, DatasetSpec]] = {
    spec.name: spec for spec in (_units(), _villages(), _places(), _addresses())
}
"""Every dataset by its public name."""


def get_dataset(name: str, *, parameter: str | None = None) -> DatasetSpec:
    """The dataset called ``name``: NotFoundError, or InvalidParameterError naming ``parameter``.

    >>> get_dataset("streets")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    addresses.errors.NotFoundError: no dataset 'streets'; the datasets are units, villages, places, addresses
    >>> get_dataset("streets", parameter="dataset")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidParameterError: dataset: no dataset 'streets'; the datasets are units, ...
    """
    spec = DATASETS.get(name)
    if spec is not None:
        return spec
    message = f"no dataset {name!r}; the datasets are {', '.join(DATASETS)}"
    if parameter is not None:
        raise InvalidParameterError(parameter, message)
    raise NotFoundError(message)


# --- who sees which rows ----------------------------------------------------------------------


def _status_in(spec: DatasetSpec, statuses: tuple[Status, ...]) -> ColumnElement[bool]:
    """Rows whose status is one of ``statuses`` (every row of a dataset without statuses)."""
    column = spec.status
    if column is None:
        return true()
    if set(statuses) >= set(spec.statuses):
        return true()
    return column.in_(statuses)


def public_filter(spec: DatasetSpec, *, staff: bool = False) -> ColumnElement[bool]:
    """The rows a reader may see at all: published ones (active or retired); staff also proposed.

    >>> str(public_filter(get_dataset("places"), staff=True))
    'true'
    """
    return _status_in(spec, STATUSES if staff else PUBLIC_STATUSES)


def in_force_filter(spec: DatasetSpec, *, staff: bool = False) -> ColumnElement[bool]:
    """The visible rows in force today (map tiles, search): active; staff also proposed.

    Units are in force while their validity period lasts (no end date).

    >>> str(in_force_filter(get_dataset("units")))
    'admin_unit.valid_to IS NULL'
    """
    if spec.validity is not None:
        return spec.table.c[spec.validity[1]].is_(None)
    return _status_in(spec, STAFF_IN_FORCE_STATUSES if staff else IN_FORCE_STATUSES)


# --- validity periods (units) ------------------------------------------------------------------


def valid_during(
    valid_from: Expression, valid_to: Expression, *, start: dt.date | None, end: dt.date | None
) -> ColumnElement[bool]:
    """Rows whose period [valid_from, valid_to) meets the days ``start`` to ``end`` (inclusive; None: open).

    A NULL ``valid_from`` is an unknown start (taken as always), a NULL ``valid_to`` no end.
    """
    starts = true() if end is None else or_(valid_from.is_(None), valid_from <= end)
    lasts = true() if start is None else or_(valid_to.is_(None), valid_to > start)
    return and_(starts, lasts)


def valid_at(valid_from: Expression, valid_to: Expression, at: dt.date) -> ColumnElement[bool]:
    """Rows in force on the day ``at``: the SQL form of :func:`is_valid_on`."""
    return valid_during(valid_from, valid_to, start=at, end=at)


def unit_valid_at(at: dt.date, *, table: Any = admin_unit) -> ColumnElement[bool]:
    """Units (of ``table``, admin_unit or an alias of it) in force on the day ``at``."""
    return valid_at(table.c.valid_from, table.c.valid_to, at)


def is_valid_on(valid_from: dt.date | None, valid_to: dt.date | None, at: dt.date) -> bool:
    """Whether a period [valid_from, valid_to) holds on ``at``: the Python form of :func:`valid_at`.

    >>> day = dt.date(2025, 7, 1)
    >>> is_valid_on(None, None, day), is_valid_on(None, day, day), is_valid_on(day, None, day)
    (True, False, True)
    """
    return (valid_from is None or valid_from <= at) and (valid_to is None or valid_to > at)
