"""The Web Mercator tile matrix (XYZ scheme, as OpenStreetMap and MapLibre use): pure arithmetic.

Tile ``z/x/y`` covers ``1 / 2**z`` of the world's width; ``y`` counts down from the
north. Bounds are given in degrees (west, south, east, north), WGS 84.

>>> tile = TileId(12, 3246, 1805)  # the tile of Hòa Bình city at zoom 12
>>> [round(v, 4) for v in tile_bounds(tile)]
[105.293, 20.7972, 105.3809, 20.8793]
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from addresses.errors import InvalidParameterError
from addresses.types import BBox

MAX_ZOOM: Final = 22
"""The deepest zoom served."""

EXTENT: Final = 4096
"""Tile coordinates per tile side in an MVT."""

BUFFER: Final = 64
"""Tile coordinates drawn beyond each tile edge (so lines and labels join across tiles)."""

MAX_LATITUDE: Final = 85.0511287798066
"""Web Mercator's northern and southern limit."""


@dataclass(frozen=True, order=True)
class TileId:
    """One tile of the matrix: zoom, column (from the west), row (from the north)."""

    z: int
    x: int
    y: int

    def __str__(self) -> str:
        """The tile as ``z/x/y``."""
        return f"{self.z}/{self.x}/{self.y}"


@dataclass(frozen=True)
class TileRange:
    """The tiles of one zoom whose columns and rows lie in the inclusive ranges given."""

    z: int
    x_min: int
    y_min: int
    x_max: int
    y_max: int

    def __contains__(self, tile: object) -> bool:
        """Whether ``tile`` (a TileId) is one of these tiles."""
        return (
            isinstance(tile, TileId)
            and tile.z == self.z
            and self.x_min <= tile.x <= self.x_max
            and self.y_min <= tile.y <= self.y_max
        )

    def __len__(self) -> int:
        """How many tiles the range holds."""
        return (self.x_max - self.x_min + 1) * (self.y_max - self.y_min + 1)

    def __iter__(self) -> Iterator[TileId]:
        """The tiles, row by row."""
        for y in range(self.y_min, self.y_max + 1):
            for x in range(self.x_min, self.x_max + 1):
                yield TileId(self.z, x, y)


def tile_id(z: int, x: int, y: int) -> TileId:
    """Return the tile, or raise InvalidParameterError naming ``z``, ``x`` or ``y`` if out of range.

    >>> tile_id(2, 3, 1)
    TileId(z=2, x=3, y=1)
    >>> tile_id(2, 4, 1)
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidParameterError: x: must be between 0 and 3 at zoom 2, got 4
    """
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidParameterError("z", f"must be between 0 and {MAX_ZOOM}, got {z}")
    last = (1 << z) - 1
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value <= last:
            raise InvalidParameterError(name, f"must be between 0 and {last} at zoom {z}, got {value}")
    return TileId(z, x, y)


def column_of(lon: float, z: int) -> float:
    """The fractional tile column of a longitude at zoom ``z``.

    >>> column_of(0.0, 1), column_of(-180.0, 3)
    (1.0, 0.0)
    """
    return (lon + 180.0) / 360.0 * (1 << z)


def row_of(lat: float, z: int) -> float:
    """The fractional tile row of a latitude at zoom ``z`` (clamped to Web Mercator's limits).

    >>> row_of(0.0, 1), round(row_of(20.817, 12), 2)
    (1.0, 1805.76)
    """
    phi = math.radians(max(-MAX_LATITUDE, min(MAX_LATITUDE, lat)))
    return (1.0 - math.asinh(math.tan(phi)) / math.pi) / 2.0 * (1 << z)


def longitude_of(column: float, z: int) -> float:
    """The longitude of a (fractional) tile column's western edge.

    >>> longitude_of(1, 1)
    0.0
    """
    return column / (1 << z) * 360.0 - 180.0


def latitude_of(row: float, z: int) -> float:
    """The latitude of a (fractional) tile row's northern edge.

    >>> round(latitude_of(0, 0), 6)
    85.051129
    """
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * row / (1 << z)))))


def tile_bounds(tile: TileId, *, margin: float = 0.0) -> BBox:
    """The tile's bounds in degrees, grown by ``margin`` tile widths on every side.

    >>> [round(v, 4) for v in tile_bounds(TileId(0, 0, 0))]
    [-180.0, -85.0511, 180.0, 85.0511]
    """
    return (
        longitude_of(tile.x - margin, tile.z),
        latitude_of(tile.y + 1 + margin, tile.z),
        longitude_of(tile.x + 1 + margin, tile.z),
        latitude_of(tile.y - margin, tile.z),
    )


def tile_range(bbox: Sequence[float], z: int, *, margin: float = 0.0) -> TileRange:
    """The tiles of zoom ``z`` that a box touches, counting ``margin`` tile widths around each tile.

    >>> tile_range((105.30, 20.80, 105.38, 20.87), 12)
    TileRange(z=12, x_min=3246, y_min=1805, x_max=3246, y_max=1805)
    >>> len(tile_range((105.30, 20.80, 105.38, 20.87), 14))
    16
    """
    west, south, east, north = bbox
    last = (1 << z) - 1

    def clamp(value: float) -> int:
        return min(last, max(0, math.floor(value)))

    return TileRange(
        z,
        clamp(column_of(west, z) - margin),
        clamp(row_of(north, z) - margin),
        clamp(column_of(east, z) + margin),
        clamp(row_of(south, z) + margin),
    )


def degrees_per_unit(tile: TileId) -> float:
    """The size of one tile coordinate (1/EXTENT of the tile) in degrees, the smaller of x and y.

    At Hòa Bình's latitude a unit at zoom 12 is about 2 m tall.

    >>> round(degrees_per_unit(TileId(12, 3246, 1805)) * 111_320, 1)
    2.2
    """
    west, south, east, north = tile_bounds(tile)
    return min(east - west, north - south) / EXTENT
