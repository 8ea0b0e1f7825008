"""Row and file builders for import tests: small, real files in every supported format."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

import geopandas as gpd
import shapely

#: Points inside old Hoa Binh (Hòa Bình city, Mai Châu, Lương Sơn).
INSIDE = [(105.338, 20.817), (105.0833, 20.6601), (105.5300, 20.8500)]


def village_frame(prefix: str = "t", crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """Three villages with ids, accented names in NFD (to prove NFC on the way in)."""
    names = ["Xóm Lác", "Bản Pom Coọng", "Thôn Hoà Lạc"]
    frame = gpd.GeoDataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(1, 4)],
            "ten": [unicodedata.normalize("NFD", n) for n in names],
        },
        geometry=[shapely.Point(x, y) for x, y in INSIDE],
        crs="EPSG:4326",
    )
    return frame.to_crs(crs) if crs != "EPSG:4326" else frame


def write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """Write a frame in the format its suffix names (.zip: a zipped shapefile)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(path)
    elif suffix == ".csv":
        table = frame.drop(columns="geometry").assign(lon=frame.geometry.x, lat=frame.geometry.y)
        table.to_csv(path, index=False)
    elif suffix == ".zip":
        folder = path.with_suffix("")
        folder.mkdir()
        frame.to_file(folder / "villages.shp", engine="pyogrio")
        with zipfile.ZipFile(path, "w") as archive:
            for part in folder.iterdir():
                archive.write(part, part.name)
    else:
        driver = {".geojson": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}[suffix]
        frame.to_file(path, driver=driver, engine="pyogrio")
    return path
