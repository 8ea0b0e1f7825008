"""TileJSON 3.0.0 documents describing a tile layer to map clients (MapLibre, Leaflet plugins).

>>> from tiles.layers import get_layer
>>> doc = tilejson(get_layer("villages"), tiles_url="http://h/tiles/villages/{z}/{x}/{y}.mvt", bounds=None)
>>> doc["tilejson"], doc["minzoom"], doc["bounds"], doc["vector_layers"][0]["fields"]["name"]
('3.0.0', 10, [-180.0, -85.0511287798066, 180.0, 85.0511287798066], 'String')
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from addresses.types import BBox
from tiles.layers import Layer
from tiles.tilematrix import MAX_LATITUDE

WORLD: BBox = (-180.0, -MAX_LATITUDE, 180.0, MAX_LATITUDE)


def layer_bounds(conn: Connection, *, layer: Layer) -> BBox | None:
    """The box around the layer's data, or None when it has none."""
    source = layer.source().subquery("source")
    extent = select(func.ST_Extent(source.c.geom)).scalar_subquery()
    row = conn.execute(
        select(func.ST_XMin(extent), func.ST_YMin(extent), func.ST_XMax(extent), func.ST_YMax(extent))
    ).one()
    if row[0] is None:
        return None
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])


def vector_layer(layer: Layer) -> dict[str, Any]:
    """The layer's ``vector_layers`` entry: its id, fields and zooms."""
    return {
        "id": layer.name,
        "description": layer.description,
        "fields": dict(layer.fields),
        "minzoom": layer.minzoom,
        "maxzoom": layer.maxzoom,
    }


def tilejson(layer: Layer, *, tiles_url: str, bounds: BBox | None) -> dict[str, Any]:
    """The TileJSON 3.0.0 document of one layer, with its tile URL template and data bounds."""
    west, south, east, north = bounds or WORLD
    document: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": layer.name,
        "description": layer.description,
        "version": "1.0.0",
        "attribution": layer.attribution,
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": layer.minzoom,
        "maxzoom": layer.maxzoom,
        "bounds": [west, south, east, north],
        "vector_layers": [vector_layer(layer)],
    }
    if bounds is not None:
        zoom = min(layer.minzoom + 2, layer.maxzoom)
        document["center"] = [round((west + east) / 2, 6), round((south + north) / 2, 6), zoom]
    return document
