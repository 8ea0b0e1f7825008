"""Tile look-ups the tests need (the app itself only works with tile ranges, tiles.tilematrix)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from tiles.tilematrix import TileId, column_of, row_of, tile_range


def tile_for(lon: float, lat: float, z: int) -> TileId:
    """The tile of zoom ``z`` that contains a point.

    >>> str(tile_for(105.338, 20.817, 12))
    '12/3246/1805'
    """
    last = (1 << z) - 1
    x = min(last, max(0, math.floor(column_of(lon, z))))
    y = min(last, max(0, math.floor(row_of(lat, z))))
    return TileId(z, x, y)


def tiles_covering(bbox: Sequence[float], zooms: Sequence[int]) -> list[TileId]:
    """Every tile of the given zooms that a box touches, zoom by zoom.

    >>> [str(t) for t in tiles_covering((105.30, 20.80, 105.38, 20.87), [11, 12])]
    ['11/1623/902', '12/3246/1805']
    """
    return [tile for z in zooms for tile in tile_range(bbox, z)]
