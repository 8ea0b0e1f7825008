"""The tile layers: which rows each one draws, with which attributes, at which zooms.

Each layer's ``source`` builds a SELECT of a ``geom`` column (WGS 84) and exactly the
attributes the viewer needs; nothing else goes into the tiles.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Select, Table, Text, cast, func, or_, select

from addresses.errors import NotFoundError
from addresses.schema import address, admin_unit, place, village

LAST_DAY_BEFORE_2025: Final = dt.date(2025, 6, 30)
"""The ``units_2024`` layer shows the units as they were on this day, before the reorganisation."""

ATTRIBUTION: Final = {
    "units": "Administrative units: national administrative map (bando.com.vn), GSO",
    "units_2024": "GSO; Who's On First; gis.chinhphu.vn; vietnamadminunits",
    "villages": "GeoNames (CC-BY) via Who's On First",
    "places": "© OpenStreetMap contributors (ODbL)",
    "addresses": "diachiso address registry",
}


@dataclass(frozen=True)
class Layer:
    """A tile layer: its rows, attributes (name -> TileJSON type) and zoom range.

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

    @property
    def attribution(self) -> str:
        """Whom the layer's data comes from (see data/hoabinh/SOURCES.md)."""
        return ATTRIBUTION[self.name]

    def serves(self, z: int) -> bool:
        """Whether the layer has tiles at zoom ``z``."""
        return self.minzoom <= z <= self.maxzoom


def units_2025() -> Select[Any]:
    """Current communes and wards (since 1 July 2025), as polygons."""
    unit = admin_unit.c
    return select(unit.geom.label("geom"), unit.code, unit.name, unit.full_name, unit.unit_type).where(
        unit.level == 3, unit.valid_to.is_(None), unit.geom.is_not(None)
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
        or_(unit.valid_from.is_(None), unit.valid_from <= day),
        unit.valid_to > day,
        unit.geom_quality.in_(("polygon", "point")),
    )


def villages() -> Select[Any]:
    """Villages (thôn, xóm, bản, tổ dân phố...) that are not retired."""
    row = village.c
    return select(row.geom, row.id, row.name, row.village_type).where(row.status != "retired")


def places() -> Select[Any]:
    """Points of interest that are not retired."""
    row = place.c
    return select(row.geom, row.id, row.name, row.kind).where(row.status != "retired")


def addresses() -> Select[Any]:
    """Address points, proposed or active (retired ones are left out)."""
    row = address.c
    return select(row.geom, row.registry_code, row.location_code, row.house_number, row.street).where(
        row.status != "retired"
    )


LAYERS: Final = {
    layer.name: layer
    for layer in (
        Layer(
            name="units",
            description="Communes and wards since 1 July 2025",
            table=admin_unit,
            fields={"code": "String", "name": "String", "full_name": "String", "unit_type": "String"},
            minzoom=6,
            maxzoom=16,
            source=units_2025,
            simplify=True,
        ),
        Layer(
            name="units_2024",
            description="Districts (polygons) and communes (points) before 1 July 2025",
            table=admin_unit,
            fields=dict.fromkeys(("code", "name", "full_name", "valid_to"), "String") | {"level": "Number"},
            minzoom=6,
            maxzoom=16,
            source=units_2024,
            simplify=True,
        ),
        Layer(
            name="villages",
            description="Villages: thôn, xóm, bản, tổ dân phố",
            table=village,
            fields={"id": "Number", "name": "String", "village_type": "String"},
            minzoom=10,
            maxzoom=16,
            source=villages,
            simplify=True,
        ),
        Layer(
            name="places",
            description="Points of interest",
            table=place,
            fields={"id": "Number", "name": "String", "kind": "String"},
            minzoom=12,
            maxzoom=16,
            source=places,
            simplify=False,
        ),
        Layer(
            name="addresses",
            description="Address points with their digital address codes",
            table=address,
            fields=dict.fromkeys(("registry_code", "location_code", "house_number", "street"), "String"),
            minzoom=14,
            maxzoom=16,
            source=addresses,
            simplify=False,
        ),
    )
}
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
