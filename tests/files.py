"""Small source files written for import tests."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely


def point_file(folder: Path, name: str, lon: float, lat: float, *, stem: str = "villages") -> Path:
    """A GeoJSON file of one point with ``id`` "v1" and name ``ten``, in ``folder``."""
    frame = gpd.GeoDataFrame(
        {"id": ["v1"], "ten": [name]}, geometry=[shapely.Point(lon, lat)], crs="EPSG:4326"
    )
    path = folder / f"{stem}.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    return path
