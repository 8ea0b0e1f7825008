"""CRS resolution and the VN-2000 -> WGS 84 transformation of the importers (no database)."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.transformer import TransformerGroup

from addresses.errors import DiachisoError
from importers.crs import (
    VN2000_TOWGS84,
    CrsError,
    InvalidCrsError,
    LocalVn2000Error,
    MissingCrsError,
    ResolvedCrs,
    UnsupportedCrsError,
    array_to_wgs84,
    bind_official_vn2000,
    resolve_crs,
    wgs84_transformer,
)

# WGS 84 ellipsoid, which VN-2000 also uses.
A = 6378137.0
F = 1 / 298.257223563
E2 = F * (2 - F)
ARCSEC = math.pi / 648_000

# EPSG:6960 as published (coordinate frame rotation, EPSG method 9607).
EPSG_6960 = {
    "tx": -191.90441429,
    "ty": -39.30318279,
    "tz": -111.45032835,
    "rx": -0.00928836,
    "ry": 0.01975479,
    "rz": -0.00427372,
    "ds_ppm": 0.252906278,
}

# A point in Hoa Binh city in VN-2000 / TM-3 106-00 (EPSG:9211), ~105.338 E 20.817 N.
HOA_BINH_E, HOA_BINH_N = 431000.0, 2302800.0

ESRI_LOCAL_PRJ = (
    'PROJCS["VN_2000_Hoa_Binh_KT106_mui3",'
    'GEOGCS["GCS_VN_2000",DATUM["D_VN_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],'
    'PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],'
    'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",{lon0}],'
    'PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)

# A datum name PROJ does not know at all: left alone it would apply a null (ballpark) shift.
UNKNOWN_DATUM_PRJ = (
    ESRI_LOCAL_PRJ.format(lon0=106.0)
    .replace("D_VN_2000", "VN_2000_Hoa_Binh")
    .replace("GCS_VN_2000", "VN_2000_Hoa_Binh")
)

# EPSG:4756 declared by authority, but a datum name PROJ cannot tie to it.
EPSG_4756_UNKNOWN_DATUM = (
    'PROJCS["VN-2000 Hoa Binh",GEOGCS["VN-2000",DATUM["VN-2000 (local)",'
    'SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],'
    'UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4756"]],'
    'PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],'
    'PARAMETER["central_meridian",106],PARAMETER["scale_factor",0.9999],'
    'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1]]'
)

# A geographic VN-2000 WKT1 as GDAL writes it, with a TOWGS84 to fill in.
GDAL_STYLE_GEOGRAPHIC = (
    'GEOGCS["VN-2000",DATUM["Vietnam_2000",SPHEROID["WGS 84",6378137,298.257223563],'
    'TOWGS84[{towgs84}]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]'
)

TM3_106 = "+proj=tmerc +lat_0=0 +lon_0=106 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m"


# --- independent reference: inverse TM, geocentric, Helmert (coordinate frame) -------------


def to_wgs84(
    xs: ArrayLike, ys: ArrayLike, *, crs: ResolvedCrs | CRS | str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Transform coordinate arrays to WGS 84 ``(lons, lats)`` with the importers' transformer."""
    x = np.asarray(xs, dtype=np.float64)
    y = np.asarray(ys, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"xs and ys differ in shape: {x.shape} != {y.shape}")
    lons, lats = wgs84_transformer(crs).transform(x, y)
    return np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)


def inverse_tm(
    easting: float, northing: float, *, lon0: float, k0: float = 0.9999, fe: float = 500000.0
) -> tuple[float, float]:
    """Inverse transverse Mercator (Krüger series, 3rd order in n) -> (lon, lat) radians."""
    n = F / (2 - F)
    big_a = A / (1 + n) * (1 + n**2 / 4 + n**4 / 64)
    beta = (n / 2 - 2 * n**2 / 3 + 37 * n**3 / 96, n**2 / 48 + n**3 / 15, 17 * n**3 / 480)
    delta = (2 * n - 2 * n**2 / 3 - 2 * n**3, 7 * n**2 / 3 - 8 * n**3 / 5, 56 * n**3 / 15)
    xi = northing / (k0 * big_a)
    eta = (easting - fe) / (k0 * big_a)
    xi_p = xi - sum(b * math.sin(2 * j * xi) * math.cosh(2 * j * eta) for j, b in enumerate(beta, 1))
    eta_p = eta - sum(b * math.cos(2 * j * xi) * math.sinh(2 * j * eta) for j, b in enumerate(beta, 1))
    chi = math.asin(math.sin(xi_p) / math.cosh(eta_p))
    lat = chi + sum(d * math.sin(2 * j * chi) for j, d in enumerate(delta, 1))
    lon = math.radians(lon0) + math.atan2(math.sinh(eta_p), math.cos(xi_p))
    return lon, lat


def geographic_to_geocentric(lon: float, lat: float, h: float = 0.0) -> NDArray[np.float64]:
    """Geodetic (radians, metres) -> ECEF metres on the WGS 84 ellipsoid."""
    nu = A / math.sqrt(1 - E2 * math.sin(lat) ** 2)
    return np.array(
        [
            (nu + h) * math.cos(lat) * math.cos(lon),
            (nu + h) * math.cos(lat) * math.sin(lon),
            (nu * (1 - E2) + h) * math.sin(lat),
        ]
    )


def geocentric_to_geographic(xyz: NDArray[np.float64]) -> tuple[float, float]:
    """ECEF metres -> geodetic (lon, lat) radians, iterated to convergence."""
    x, y, z = xyz
    p = math.hypot(x, y)
    lat = math.atan2(z, p * (1 - E2))
    for _ in range(10):
        nu = A / math.sqrt(1 - E2 * math.sin(lat) ** 2)
        h = p / math.cos(lat) - nu
        lat = math.atan2(z, p * (1 - E2 * nu / (nu + h)))
    return math.atan2(y, x), lat


def helmert_coordinate_frame(xyz: NDArray[np.float64], p: dict[str, float]) -> NDArray[np.float64]:
    """EPSG method 9607 (coordinate frame rotation), EPSG Guidance Note 7-2 form."""
    rx, ry, rz = (p[k] * ARCSEC for k in ("rx", "ry", "rz"))
    rotation = np.array([[1.0, rz, -ry], [-rz, 1.0, rx], [ry, -rx, 1.0]])
    translation = np.array([p["tx"], p["ty"], p["tz"]])
    return translation + (1 + p["ds_ppm"] * 1e-6) * rotation @ xyz


def reference_wgs84(easting: float, northing: float, *, lon0: float) -> tuple[float, float]:
    """VN-2000 TM-3 (easting, northing) -> WGS 84 (lon, lat) degrees, by hand."""
    lon, lat = inverse_tm(easting, northing, lon0=lon0)
    shifted = helmert_coordinate_frame(geographic_to_geocentric(lon, lat), EPSG_6960)
    lon84, lat84 = geocentric_to_geographic(shifted)
    return math.degrees(lon84), math.degrees(lat84)


def metres_between(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance in metres between two close points (local ellipsoidal approximation)."""
    lat = math.radians((lat1 + lat2) / 2)
    nu = A / math.sqrt(1 - E2 * math.sin(lat) ** 2)
    rho = A * (1 - E2) / (1 - E2 * math.sin(lat) ** 2) ** 1.5
    dx = math.radians(lon2 - lon1) * nu * math.cos(lat)
    dy = math.radians(lat2 - lat1) * rho
    return math.hypot(dx, dy)


def one_point(crs: ResolvedCrs | CRS | str, x: float, y: float) -> tuple[float, float]:
    """Transform one point with the module under test."""
    lons, lats = to_wgs84([x], [y], crs=crs)
    return float(lons[0]), float(lats[0])


# --- the EPSG database facts the module relies on -----------------------------------------


def test_epsg_9211_is_the_hoa_binh_tm3_projection() -> None:
    crs = CRS.from_epsg(9211)
    assert crs.coordinate_operation is not None
    assert crs.geodetic_crs is not None
    assert crs.area_of_use is not None
    params = {p.name: float(p.value) for p in crs.coordinate_operation.params}
    assert crs.name == "VN-2000 / TM-3 106-00"
    assert crs.geodetic_crs.to_epsg() == 4756
    assert params["Longitude of natural origin"] == 106.0
    assert params["Scale factor at natural origin"] == 0.9999
    assert params["False easting"] == 500000.0
    assert "Hoa Binh" in crs.area_of_use.name


def test_epsg_6960_carries_the_official_parameters_as_coordinate_frame() -> None:
    operation = Transformer.from_pipeline("urn:ogc:def:coordinateOperation:EPSG::6960")
    document = operation.to_json_dict()
    values = [p["value"] for p in document["parameters"]]
    assert document["name"] == "VN-2000 to WGS 84 (2)"
    assert document["method"]["id"]["code"] == 9607  # coordinate frame rotation
    assert values == list(EPSG_6960.values())
    # TOWGS84 is position vector: same translations and scale, rotations negated.
    assert list(VN2000_TOWGS84) == [*values[:3], *(-v for v in values[3:6]), values[6]]


def test_errors_are_diachiso_domain_errors() -> None:
    assert issubclass(CrsError, DiachisoError)
    for error in (InvalidCrsError, LocalVn2000Error, MissingCrsError, UnsupportedCrsError):
        assert issubclass(error, CrsError)


# --- accuracy: EPSG:6960 to the centimetre -------------------------------------------------


def test_tm3_point_matches_hand_computed_epsg_6960_to_the_centimetre() -> None:
    expected = reference_wgs84(HOA_BINH_E, HOA_BINH_N, lon0=106.0)
    got = one_point("EPSG:9211", HOA_BINH_E, HOA_BINH_N)
    assert 105.3 < got[0] < 105.4
    assert 20.78 < got[1] < 20.85
    assert metres_between(*got, *expected) < 0.01


def test_utm_48n_point_matches_hand_computed_epsg_6960() -> None:
    lon, lat = math.radians(105.338), math.radians(20.817)
    to_utm = Transformer.from_crs("EPSG:4756", "EPSG:3405", always_xy=True)  # pure projection
    easting, northing = to_utm.transform(math.degrees(lon), math.degrees(lat))
    shifted = helmert_coordinate_frame(geographic_to_geocentric(lon, lat), EPSG_6960)
    expected = tuple(math.degrees(v) for v in geocentric_to_geographic(shifted))
    assert metres_between(*one_point("EPSG:3405", easting, northing), *expected) < 0.01


def test_shift_near_hoa_binh_is_about_224_metres() -> None:
    lon, lat = 105.338, 20.817
    shifted = one_point("EPSG:4756", lon, lat)
    assert 222.0 < metres_between(lon, lat, *shifted) < 226.0


def test_vn2000_uses_epsg_6960_even_where_proj_alone_would_not() -> None:
    # Can Tho, in the area of EPSG:5194 (Total, Mekong delta): PROJ prefers it there.
    lon, lat = 105.78, 10.03
    proj_default = Transformer.from_crs("EPSG:4756", "EPSG:4326", always_xy=True)
    ours = one_point("EPSG:4756", lon, lat)
    shifted = helmert_coordinate_frame(
        geographic_to_geocentric(math.radians(lon), math.radians(lat)), EPSG_6960
    )
    expected = tuple(math.degrees(v) for v in geocentric_to_geographic(shifted))
    assert metres_between(*ours, *expected) < 0.01
    assert metres_between(*ours, *proj_default.transform(lon, lat)) > 0.1


# --- the shift is applied exactly once -----------------------------------------------------


def test_wgs84_input_is_unchanged() -> None:
    lons = np.array([105.338, 105.1, 105.6])
    lats = np.array([20.817, 20.5, 21.0])
    for crs in ("EPSG:4326", "OGC:CRS84"):
        got_lons, got_lats = to_wgs84(lons, lats, crs=crs)
        np.testing.assert_allclose(got_lons, lons, rtol=0, atol=1e-12)
        np.testing.assert_allclose(got_lats, lats, rtol=0, atol=1e-12)
    assert resolve_crs("EPSG:4326").transformation.startswith("none")
    assert not resolve_crs("EPSG:4326").is_vn2000


def test_wgs84_utm_gets_no_datum_shift() -> None:
    easting, northing = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True).transform(
        105.338, 20.817
    )
    assert metres_between(*one_point("EPSG:32648", easting, northing), 105.338, 20.817) < 1e-3


def test_wgs84_declaring_a_towgs84_still_gets_no_shift() -> None:
    towgs84 = ",".join(str(v) for v in VN2000_TOWGS84[:3])
    resolved = resolve_crs(f"+proj=longlat +datum=WGS84 +towgs84={towgs84} +no_defs")
    assert resolved.transformation.startswith("none")
    assert one_point(resolved, 105.338, 20.817) == pytest.approx((105.338, 20.817), abs=1e-12)


def test_bound_crs_from_the_file_is_not_shifted_twice() -> None:
    towgs84 = ",".join(str(v) for v in VN2000_TOWGS84)
    file_crs = f"{TM3_106} +towgs84={towgs84} +no_defs"
    resolved = resolve_crs(file_crs)
    assert resolved.is_vn2000
    assert "as declared by the file" in resolved.transformation
    reference = one_point("EPSG:9211", HOA_BINH_E, HOA_BINH_N)
    assert metres_between(*one_point(resolved, HOA_BINH_E, HOA_BINH_N), *reference) < 0.001
    # Resolving an already resolved (bound) CRS again keeps a single shift.
    again = resolve_crs(resolved.crs)
    assert metres_between(*one_point(again, HOA_BINH_E, HOA_BINH_N), *reference) < 0.001
    assert wgs84_transformer(again).definition.count("proj=helmert") == 1


def test_round_trip_returns_to_the_tm3_coordinates() -> None:
    eastings = np.array([HOA_BINH_E, 420_000.0, 445_500.5])
    northings = np.array([HOA_BINH_N, 2_290_000.0, 2_315_250.25])
    transformer = wgs84_transformer("EPSG:9211")
    lons, lats = to_wgs84(eastings, northings, crs="EPSG:9211")
    back_e, back_n = transformer.transform(lons, lats, direction="INVERSE")
    np.testing.assert_allclose(back_e, eastings, rtol=0, atol=0.01)
    np.testing.assert_allclose(back_n, northings, rtol=0, atol=0.01)


def test_transformers_are_cached_and_explicit() -> None:
    transformer = wgs84_transformer("EPSG:9211")
    assert transformer is wgs84_transformer(CRS.from_epsg(9211))
    assert "VN-2000 to WGS 84 (2)" in transformer.description
    assert "ballpark" not in transformer.description.lower()


# --- local VN-2000 variants -----------------------------------------------------------------


def test_local_esri_prj_is_refused_with_the_fix() -> None:
    with pytest.raises(LocalVn2000Error) as caught:
        resolve_crs(ESRI_LOCAL_PRJ.format(lon0=106.0))
    message = str(caught.value)
    assert "no TOWGS84 and no EPSG code" in message
    assert "--crs EPSG:9211 (VN-2000 / TM-3 106-00)" in message
    assert "assume_official_vn2000=True" in message
    assert "longitude of natural origin 106" in message


def test_local_prj_with_other_meridian_suggests_its_epsg_code() -> None:
    with pytest.raises(LocalVn2000Error, match=r"--crs EPSG:9213 \(VN-2000 / TM-3 106-30\)"):
        resolve_crs(ESRI_LOCAL_PRJ.format(lon0=106.5))


@pytest.mark.parametrize("lon0", [106.0, 106.5])
def test_local_prj_with_opt_in_transforms_like_epsg(lon0: float) -> None:
    code = {106.0: "EPSG:9211", 106.5: "EPSG:9213"}[lon0]
    resolved = resolve_crs(ESRI_LOCAL_PRJ.format(lon0=lon0), assume_official_vn2000=True)
    assert resolved.is_vn2000
    assert resolved.source == "file"
    assert "assumed by assume_official_vn2000" in resolved.transformation
    got = one_point(resolved, HOA_BINH_E, HOA_BINH_N)
    assert metres_between(*got, *one_point(code, HOA_BINH_E, HOA_BINH_N)) < 0.01
    assert metres_between(*got, *reference_wgs84(HOA_BINH_E, HOA_BINH_N, lon0=lon0)) < 0.01


def test_unknown_datum_name_is_refused_and_proj_ballpark_is_reported() -> None:
    proj_alone = TransformerGroup(CRS(UNKNOWN_DATUM_PRJ), "EPSG:4326").transformers
    assert "Ballpark" in proj_alone[0].description
    with pytest.raises(LocalVn2000Error, match="Ballpark geographic offset"):
        resolve_crs(UNKNOWN_DATUM_PRJ)


def test_epsg_4756_based_crs_that_proj_would_ballpark_is_refused() -> None:
    with pytest.raises(LocalVn2000Error, match="ballpark"):
        resolve_crs(EPSG_4756_UNKNOWN_DATUM)
    resolved = resolve_crs(EPSG_4756_UNKNOWN_DATUM, assume_official_vn2000=True)
    reference = one_point("EPSG:9211", HOA_BINH_E, HOA_BINH_N)
    assert metres_between(*one_point(resolved, HOA_BINH_E, HOA_BINH_N), *reference) < 0.01


def test_zero_towgs84_is_refused() -> None:
    with pytest.raises(LocalVn2000Error, match="zero TOWGS84") as caught:
        resolve_crs(GDAL_STYLE_GEOGRAPHIC.format(towgs84="0,0,0,0,0,0,0"))
    assert "--crs EPSG:4756" in str(caught.value)


def test_towgs84_with_coordinate_frame_signs_is_refused() -> None:
    cf_signs = ",".join(str(v) for v in EPSG_6960.values())
    file_crs = f"{TM3_106} +towgs84={cf_signs} +no_defs"
    with pytest.raises(LocalVn2000Error, match="position vector"):
        resolve_crs(file_crs)
    fixed = resolve_crs(file_crs, assume_official_vn2000=True)
    reference = one_point("EPSG:9211", HOA_BINH_E, HOA_BINH_N)
    assert metres_between(*one_point(fixed, HOA_BINH_E, HOA_BINH_N), *reference) < 0.01


def test_other_towgs84_is_honoured_and_flagged() -> None:
    mekong = "-192.873,-39.382,-111.202,-0.00205,-0.0005,0.00335,0.0188"  # EPSG:5194, PV
    resolved = resolve_crs(GDAL_STYLE_GEOGRAPHIC.format(towgs84=mekong))
    assert resolved.is_vn2000
    assert "NOT the official EPSG:6960" in resolved.transformation
    shifted = one_point(resolved, 105.338, 20.817)
    assert metres_between(*shifted, *one_point("EPSG:4756", 105.338, 20.817)) > 0.1


def test_local_crs_passed_straight_to_to_wgs84_is_refused() -> None:
    with pytest.raises(LocalVn2000Error):
        to_wgs84([HOA_BINH_E], [HOA_BINH_N], crs=ESRI_LOCAL_PRJ.format(lon0=106.0))


def test_vn2000_name_on_another_ellipsoid_is_invalid() -> None:
    krassowsky = ESRI_LOCAL_PRJ.format(lon0=106.0).replace(
        'SPHEROID["WGS_1984",6378137.0,298.257223563]',
        'SPHEROID["Krassowsky_1940",6378245.0,298.3]',
    )
    with pytest.raises(InvalidCrsError, match="Krassowsky"):
        resolve_crs(krassowsky, assume_official_vn2000=True)


def test_bind_official_vn2000_refuses_other_datums() -> None:
    with pytest.raises(InvalidCrsError):
        bind_official_vn2000("EPSG:32648")


# --- choosing the source CRS ---------------------------------------------------------------


def test_override_beats_file() -> None:
    resolved = resolve_crs(ESRI_LOCAL_PRJ.format(lon0=106.0), override="EPSG:9211")
    assert resolved.source == "override"
    assert resolved.crs.source_crs is not None
    assert resolved.crs.source_crs.to_epsg() == 9211


def test_file_crs_used_without_override() -> None:
    resolved = resolve_crs(CRS.from_epsg(3405).to_wkt())
    assert (resolved.source, resolved.is_vn2000) == ("file", True)


def test_no_crs_and_lonlat_coordinates_assume_wgs84() -> None:
    resolved = resolve_crs(None, xs=[105.338, 105.2, np.nan], ys=[20.817, 20.6, np.nan])
    assert resolved.source == "assumed"
    assert resolved.crs.to_epsg() == 4326
    assert not resolved.is_vn2000


def test_no_crs_and_projected_coordinates_is_an_error() -> None:
    with pytest.raises(MissingCrsError, match="look like VN-2000 metres"):
        resolve_crs(None, xs=[HOA_BINH_E], ys=[HOA_BINH_N])


def test_no_crs_and_lonlat_outside_vietnam_is_an_error() -> None:
    with pytest.raises(MissingCrsError, match="not WGS 84 lon/lat in Vietnam"):
        resolve_crs("", xs=[2.35], ys=[48.85])


def test_no_crs_and_no_coordinates_is_an_error() -> None:
    with pytest.raises(MissingCrsError, match="no coordinates"):
        resolve_crs(None)


def test_unreadable_override_is_invalid() -> None:
    with pytest.raises(InvalidCrsError, match="EPSG:99999"):
        resolve_crs(None, override="EPSG:99999")


def test_unknown_datum_without_vn2000_name_has_no_ballpark_fallback() -> None:
    with pytest.raises(UnsupportedCrsError, match="ballpark"):
        resolve_crs(TM3_106)


def test_shape_mismatch_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="shape"):
        to_wgs84([1.0, 2.0], [1.0], crs="EPSG:4326")


# --- GeoSeries / GeoDataFrame ---------------------------------------------------------------


def geometries_to_wgs84(data: Any, *, assume_official_vn2000: bool = False) -> Any:
    """A GeoSeries/GeoDataFrame in EPSG:4326 as the importers make it (CRS resolved, array_to_wgs84)."""
    values = np.asarray(data.geometry.values)
    coords = shapely.get_coordinates(values)
    resolved = resolve_crs(
        data.crs, xs=coords[:, 0], ys=coords[:, 1], assume_official_vn2000=assume_official_vn2000
    )
    series = gpd.GeoSeries(array_to_wgs84(values, resolved), index=data.index, crs="EPSG:4326")
    if isinstance(data, gpd.GeoDataFrame):
        return data.set_geometry(series.rename(data.geometry.name), crs="EPSG:4326")
    return series.rename(data.name)


def test_geodataframe_is_transformed_with_the_explicit_transformer() -> None:
    points = [shapely.Point(HOA_BINH_E, HOA_BINH_N), shapely.Point(420_000.0, 2_290_000.0)]
    frame = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=points, crs="EPSG:9211")
    out = geometries_to_wgs84(frame)
    assert out.crs.to_epsg() == 4326
    assert list(out["name"]) == ["a", "b"]
    assert frame.crs.to_epsg() == 9211  # the input is left alone
    lons, lats = to_wgs84([HOA_BINH_E, 420_000.0], [HOA_BINH_N, 2_290_000.0], crs="EPSG:9211")
    np.testing.assert_allclose(out.geometry.x, lons, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out.geometry.y, lats, rtol=0, atol=1e-12)


def test_geoseries_of_lines_in_local_crs_needs_the_opt_in() -> None:
    line = shapely.LineString([(HOA_BINH_E, HOA_BINH_N), (HOA_BINH_E + 100, HOA_BINH_N + 50)])
    series = gpd.GeoSeries([line], crs=ESRI_LOCAL_PRJ.format(lon0=106.0), name="geom")
    with pytest.raises(LocalVn2000Error):
        geometries_to_wgs84(series)
    out = geometries_to_wgs84(series, assume_official_vn2000=True)
    assert out.name == "geom"
    start = shapely.get_point(out.iloc[0], 0)
    expected = reference_wgs84(HOA_BINH_E, HOA_BINH_N, lon0=106.0)
    assert metres_between(start.x, start.y, *expected) < 0.01


def test_geoseries_without_crs_and_lonlat_is_assumed_wgs84() -> None:
    series = gpd.GeoSeries([shapely.Point(105.338, 20.817)])
    out = geometries_to_wgs84(series)
    assert out.crs.to_epsg() == 4326
    assert (out.iloc[0].x, out.iloc[0].y) == (105.338, 20.817)


def test_wgs84_points_pass_unchanged_and_heights_are_dropped() -> None:
    rng = np.random.default_rng(3)
    flat = shapely.points(rng.uniform(104.8, 105.9, 100), rng.uniform(20.3, 21.2, 100))
    series = gpd.GeoSeries(flat, crs="EPSG:4326")
    out = geometries_to_wgs84(series)
    np.testing.assert_array_equal(shapely.get_coordinates(out.to_numpy()), shapely.get_coordinates(flat))
    assert out.crs.to_epsg() == 4326
    lifted = gpd.GeoSeries(shapely.force_3d(flat, 120.0), crs="EPSG:4326")
    dropped = geometries_to_wgs84(lifted).to_numpy()
    assert not shapely.has_z(dropped).any()  # heights are dropped, on WGS 84 too
    np.testing.assert_allclose(shapely.get_coordinates(dropped), shapely.get_coordinates(flat), atol=1e-12)
