"""The tile layers: which rows each one draws, with which attributes, at which zooms.

Each layer's ``source`` builds a SELECT of a ``geom`` column (WGS 84) and exactly the
attributes the viewer needs; nothing else goes into the tiles. Every dataset with a tile
style (addresses.datasets) is a layer, drawing its public rows in force (status
``active``: a proposed row is not on the public map); ``units_2024`` shows the units at
a date before the 2025 reorganisation.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Column, Float, Integer, Numeric, Select, Table, Text, cast, func, select

from addresses.datasets import DATASETS, DatasetSpec, in_force_filter, unit_valid_at
from addresses.errors import NotFoundError
from addresses.schema import admin_unit

LAST_DAY_BEFORE_2025: Final = dt.date(2025, 6, 30)
"""The ``units_2024`` layer shows the units as they were on this day, before the reorganisation."""


@dataclass(frozen=True)
class Layer:
    """A tile layer: its rows, attributes (name -> TileJSON type), zoom range and attribution.

    ``simplify`` says the layer may hold lines or polygons, clipped and simplified per zoom.
    """

    name: str
    description: str
    table: Table
    fields: Mapping[str, str]
    minzoom: int
    maxzoom: int
    source: Callable[[], Select[Any]]
    simplify: bool
    attribution: str

    def serves(self, z: int) -> bool:
        """Whether the layer has tiles at zoom ``z``."""
        return self.minzoom <= z <= self.maxzoom


def tilejson_type(column: Column[Any]) -> str:
    """The TileJSON type of a column's values: Number for numbers, else String.

    >>> tilejson_type(admin_unit.c.level), tilejson_type(admin_unit.c.name)
    ('Number', 'String')
    """
    return "Number" if isinstance(column.type, Integer | Float | Numeric) else "String"


def dataset_rows(spec: DatasetSpec) -> Select[Any]:
    """The rows of a dataset's layer: the public ones in force (addresses.datasets), with a geometry."""
    style = spec.tiles
    assert style is not None
    where = [in_force_filter(spec)]
    if spec.geometry.nullable:
        where.append(spec.geometry.is_not(None))
    if style.where is not None:
        where.append(style.where)
    columns = (spec.table.c[name] for name in style.fields)
    return select(spec.geometry.label("geom"), *columns).where(*where)


def dataset_layer(spec: DatasetSpec) -> Layer:
    """The tile layer of a dataset that has one, named like it."""
    style = spec.tiles
    assert style is not None
    return Layer(
        name=spec.name,
        description=style.description,
        table=spec.table,
        fields={name: tilejson_type(spec.table.c[name]) for name in style.fields},
        minzoom=style.minzoom,
        maxzoom=style.maxzoom,
        source=functools.partial(dataset_rows, spec),
        simplify=not spec.stores_points,
        attribution=spec.attribution,
    )


def units_2024() -> Select[Any]:
    """Districts (polygons) and communes (points) as they were before 1 July 2025."""
    unit = admin_unit.c
    day = LAST_DAY_BEFORE_2025
    shape = func.coalesce(unit.geom, unit.label_point)
    return select(
        shape.label("geom"),
        unit.code,
        unit.name,
        unit.full_name,
        unit.level,
        cast(unit.valid_to, Text).label("valid_to"),
    ).where(
        unit.level.in_((2, 3)),
        unit_valid_at(day),
        unit.valid_to.is_not(None),
        unit.geom_quality.in_(("polygon", "point")),
    )


UNITS_2024: Final = Layer(
    name="units_2024",
    description="Districts (polygons) and communes (points) before 1 July 2025",
    table=admin_unit,
    fields=dict.fromkeys(("code", "name", "full_name", "valid_to"), "String") | {"level": "Number"},
    minzoom=6,
    maxzoom=16,
    source=units_2024,
    simplify=True,
    attribution="GSO; Who's On First; gis.chinhphu.vn; vietnamadminunits",
)
"""The units as they were before the reorganisation: a layer of the units dataset at a date."""


def build_layers() -> dict[str, Layer]:
    """One layer per dataset that has tiles (in DATASETS order, drawn bottom up), units_2024 after units."""
    layers: dict[str, Layer] = {}
    for spec in DATASETS.values():
        if spec.tiles is not None:
            layers[spec.name] = dataset_layer(spec)
        if spec.table is UNITS_2024.table:
            layers[UNITS_2024.name] = UNITS_2024
    return layers


LAYERS: Final = build_layers()
"""Every tile layer by name."""


def get_layer(name: str) -> Layer:
    """The layer called ``name``, or NotFoundError listing the layers there are.

    >>> get_layer("villages").minzoom
    10
    >>> get_layer("roads")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    addresses.errors.NotFoundError: no tile layer 'roads'; the layers are units, units_2024, villages, ...
    """
    try:
        return LAYERS[name]
    except KeyError:
        raise NotFoundError(f"no tile layer {name!r}; the layers are {', '.join(LAYERS)}") from None


def layers_fed_by(table_name: str) -> tuple[Layer, ...]:
    """The layers drawn from a table, whose tiles its changes make stale.

    >>> [layer.name for layer in layers_fed_by("admin_unit")]
    ['units', 'units_2024']
    """
    return tuple(layer for layer in LAYERS.values() if layer.table.name == table_name)
