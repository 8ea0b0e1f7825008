"""Plain points by their coordinates: an import of GeoParquet points without a geometry object per row.

Most address files hold only 2D points. Their WKB (21 bytes: byte order, type 1, x, y)
is read with numpy straight from the Arrow buffer, and everything an import does with
a point (territory, commune, location code, EWKB, tile boxes, repeated-row key) needs
only its x and y. Anything else (other types, Z, big-endian, missing, NaN or infinite
coordinates) is decoded into geometries as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pyarrow as pa
import shapely
from numpy.typing import NDArray

_WKB_POINT: Final = np.dtype([("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])
_LITTLE_ENDIAN, _POINT = 1, 1


@dataclass(frozen=True)
class PlainPoints:
    """2D points with finite coordinates, as an (n, 2) array of x, y (a GEOS point is valid)."""

    xy: NDArray[np.float64]

    def __len__(self) -> int:
        """How many points."""
        return len(self.xy)

    def __getitem__(self, which: NDArray[np.bool_] | NDArray[np.intp]) -> PlainPoints:
        """The points where ``which`` is true (or at its positions)."""
        return PlainPoints(self.xy[which])

    @property
    def xs(self) -> NDArray[np.float64]:
        """The x (longitude) of each point."""
        return self.xy[:, 0]

    @property
    def ys(self) -> NDArray[np.float64]:
        """The y (latitude) of each point."""
        return self.xy[:, 1]

    def geoms(self) -> NDArray[np.object_]:
        """The points as geometries (the same as decoding their WKB)."""
        geoms: NDArray[np.object_] = shapely.points(self.xy)
        return geoms

    def bounds(self) -> NDArray[np.float64]:
        """The bounds of each point (``shapely.bounds``): x, y, x, y."""
        return np.column_stack([self.xs, self.ys, self.xs, self.ys])


Geoms = NDArray[np.object_] | PlainPoints
"""Geometries: as geometry objects, or plain points by their coordinates."""


def as_geoms(geoms: Geoms) -> NDArray[np.object_]:
    """The geometries as objects (plain points made into points)."""
    return geoms.geoms() if isinstance(geoms, PlainPoints) else geoms


def wkb_points(wkb: pa.Array) -> PlainPoints | None:
    """The coordinates of WKB cells that are all little-endian 2D points with finite coordinates; else None.

    >>> cells = pa.array([shapely.to_wkb(shapely.Point(105.3, 20.8))])
    >>> wkb_points(cells).xy.tolist(), wkb_points(pa.array([None], type=pa.binary()))
    ([[105.3, 20.8]], None)
    """
    offsets = _offsets(wkb)
    if offsets is None or not bool((np.diff(offsets) == _WKB_POINT.itemsize).all()):
        return None
    data = wkb.buffers()[2]
    cells = np.frombuffer(data, dtype=_WKB_POINT, count=len(wkb), offset=int(offsets[0]))
    if not bool(((cells["order"] == _LITTLE_ENDIAN) & (cells["kind"] == _POINT)).all()):
        return None
    xy = np.column_stack([cells["x"], cells["y"]])
    return PlainPoints(xy) if bool(np.isfinite(xy).all()) else None


def _offsets(wkb: pa.Array) -> NDArray[np.signedinteger[Any]] | None:
    """The offsets of the cells of a binary array with no missing cell, else None."""
    binary = pa.types.is_binary(wkb.type) or pa.types.is_large_binary(wkb.type)
    if len(wkb) == 0 or wkb.null_count or not binary:
        return None
    width = np.int64 if pa.types.is_large_binary(wkb.type) else np.int32
    offsets: NDArray[np.signedinteger[Any]] = np.frombuffer(wkb.buffers()[1], dtype=width)
    return offsets[wkb.offset : wkb.offset + len(wkb) + 1]
