"""A cadastral file in VN-2000 / TM-3 106-00 lands where the official transformation puts it."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, func, select

from addresses.errors import DiachisoError
from addresses.schema import village
from importers.mapping import FieldMapping
from importers.pipeline import ImportOptions, import_file

MAPPING = FieldMapping("villages", {"source_id": ("id",), "name": ("ten",)})
#: A TM-3 106-00 point in Hòa Bình city (easting, northing in metres).
TM3_POINT = (431000.0, 2302800.0)
#: The same point by EPSG:6960 computed independently (tests/importers/test_crs.py): lon, lat.
EXPECTED = (105.338977, 20.816674)
LOCAL_PRJ = (
    'PROJCS["VN2000_HoaBinh_TM3",GEOGCS["GCS_VN_2000_local",DATUM["D_Vietnam_2000",'
    'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],'
    'PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",106.0],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],'
    'UNIT["Meter",1.0]]'
)


def _tm3_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["vn1"], "ten": ["Xóm Địa Chính"]},
        geometry=[shapely.Point(*TM3_POINT)],
        crs="EPSG:9211",
    )


def _imported_point(conn: Connection, source: str) -> tuple[float, float]:
    row = conn.execute(
        select(func.ST_X(village.c.geom), func.ST_Y(village.c.geom)).where(village.c.source == source)
    )
    x, y = row.one()
    return float(x), float(y)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    geod = Transformer.from_crs("EPSG:4326", "EPSG:3405", always_xy=True)
    (ax, bx), (ay, by) = geod.transform([a[0], b[0]], [a[1], b[1]])
    return float(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5)


def test_epsg_9211_geopackage_lands_to_the_centimetre(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "cadastre.gpkg"
    _tm3_frame().to_file(path, driver="GPKG", engine="pyogrio")
    report = import_file(conn, path, options=ImportOptions(mapping=MAPPING, source="cadastre"))
    assert "6960" in report.crs
    point = _imported_point(conn, "cadastre")
    assert (
        _metres(point, EXPECTED) < 0.05
    )  # EXPECTED is rounded to 1e-6 degree (~0.1 m); see test_crs for 1 cm
    assert point == pytest.approx(EXPECTED, abs=1e-6)


def test_the_datum_shift_is_applied_once(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "cadastre.gpkg"
    _tm3_frame().to_file(path, driver="GPKG", engine="pyogrio")
    import_file(conn, path, options=ImportOptions(mapping=MAPPING, source="once"))
    no_shift = Transformer.from_pipeline(
        "+proj=pipeline +step +inv +proj=tmerc +lon_0=106 +k=0.9999 +x_0=500000 +ellps=WGS84 "
        "+step +proj=unitconvert +xy_in=rad +xy_out=deg"
    ).transform(*TM3_POINT)
    shift = _metres(_imported_point(conn, "once"), (float(no_shift[0]), float(no_shift[1])))
    assert 215 < shift < 235  # one shift is ~224 m; none would be 0, two ~448


def test_a_local_vn2000_shapefile_is_reported_not_misplaced(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "local.shp"
    _tm3_frame().set_crs(None, allow_override=True).to_file(path, engine="pyogrio")
    path.with_suffix(".prj").write_text(LOCAL_PRJ)
    with pytest.raises(DiachisoError, match="EPSG:9211"):
        import_file(conn, path, options=ImportOptions(mapping=MAPPING, source="local"))
    fixed = ImportOptions(mapping=MAPPING, source="local", assume_official_vn2000=True)
    import_file(conn, path, options=fixed)
    assert _imported_point(conn, "local") == pytest.approx(EXPECTED, abs=1e-6)


def test_crs_override_wins_over_a_missing_prj(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "noprj.shp"
    _tm3_frame().set_crs(None, allow_override=True).to_file(path, engine="pyogrio")
    with pytest.raises(DiachisoError, match="metres"):
        import_file(conn, path, options=ImportOptions(mapping=MAPPING, source="noprj"))
    import_file(conn, path, options=ImportOptions(mapping=MAPPING, source="noprj", crs="EPSG:9211"))
    assert _imported_point(conn, "noprj") == pytest.approx(EXPECTED, abs=1e-6)
