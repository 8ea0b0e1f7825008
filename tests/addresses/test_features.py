"""OGC API Features library on the real database: collections, extents, pages, filters and CRSs."""

from __future__ import annotations

import datetime as dt

import pytest
from pyproj import Transformer
from sqlalchemy import Column, Connection, Integer, MetaData, Table, Text, func, insert, select

from addresses import features
from addresses.datasets import DATASETS
from addresses.errors import InvalidParameterError, NotFoundError
from addresses.schema import address, admin_unit
from addresses.types import BBox
from importers.crs import VN2000_TOWGS84, wgs84_transformer

spatial_ref_sys = Table(
    "spatial_ref_sys",
    MetaData(),
    Column("srid", Integer),
    Column("auth_name", Text),
    Column("proj4text", Text),
    Column("srtext", Text),
)
"""PostGIS's table, read here only (it is not part of our schema)."""

CITY_E, CITY_N = 431000.0, 2302800.0
"""A point in Hòa Bình city in VN-2000 / TM-3 106-00 (EPSG:9211)."""
EPSG_9211 = "http://www.opengis.net/def/crs/EPSG/0/9211"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"


def _add_address(conn: Connection, lon: float, lat: float, source_id: str, commune: str = "04795") -> int:
    """Insert an address point (rolled back with the test) and return its id."""
    commune_id = select(admin_unit.c.id).where(admin_unit.c.code == commune, admin_unit.c.valid_to.is_(None))
    values = {
        "geom": func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326),
        "house_number": "12A",
        "street": "Đường Cù Chính Lan",
        "commune_id": commune_id.scalar_subquery(),
        "source": "test-features",
        "source_id": source_id,
    }
    return int(conn.execute(insert(address).values(values).returning(address.c.id)).scalar_one())


def _city_address(conn: Connection) -> int:
    """An address exactly at (CITY_E, CITY_N) of EPSG:9211, placed with importers.crs."""
    lons, lats = wgs84_transformer("EPSG:9211").transform([CITY_E], [CITY_N])
    return _add_address(conn, float(lons[0]), float(lats[0]), "city")


# --- collections -------------------------------------------------------------------------------


def test_the_four_collections_are_listed_with_extents(conn: Connection) -> None:
    infos = {info.id: info for info in features.list_collections(conn)}
    assert list(infos) == list(DATASETS)
    west, south, east, north = infos["units"].bbox or (0, 0, 0, 0)
    assert west < 105.34 < east
    assert south < 20.82 < north
    assert infos["villages"].bbox == pytest.approx((104.85294, 20.31667, 105.83333, 21.10477))
    assert infos["units"].crs == tuple(crs.uri for crs in features.SUPPORTED_CRS)
    assert infos["units"].storage_crs == features.CRS84


def test_an_empty_collection_has_no_bbox(conn: Connection) -> None:
    conn.execute(address.delete())
    assert features.collection(conn, "addresses").bbox is None


def test_units_have_a_temporal_extent_with_each_period(conn: Connection) -> None:
    temporal = features.collection(conn, "units").temporal
    assert temporal is not None
    assert temporal[0] == (None, None)  # old units' start is unknown, new units are open-ended
    assert (None, dt.date(2020, 1, 1)) in temporal  # Kỳ Sơn district and the communes merged in 2020
    assert (dt.date(2009, 7, 14), dt.date(2020, 1, 1)) in temporal  # communes moved in 2009, merged in 2020
    assert (None, dt.date(2025, 7, 1)) in temporal
    assert (dt.date(2025, 7, 1), None) in temporal
    assert features.collection(conn, "villages").temporal is None


def test_an_unknown_collection_is_not_found(conn: Connection) -> None:
    with pytest.raises(NotFoundError, match="no collection 'roads'"):
        features.collection(conn, "roads")
    with pytest.raises(NotFoundError):
        features.items(conn, "roads")


# --- pages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "count"), [("villages", 596), ("places", 367), ("units", 321)])
def test_number_matched_counts_the_bundled_data(conn: Connection, name: str, count: int) -> None:
    page = features.items(conn, name, query=features.FeatureQuery(limit=5))
    assert page.number_matched >= count
    assert page.number_returned == 5
    assert [f.id for f in page.features] == sorted(f.id for f in page.features)


def test_pages_follow_each_other_without_overlap(conn: Connection) -> None:
    first = features.items(conn, "units", query=features.FeatureQuery(limit=100))
    second = features.items(conn, "units", query=features.FeatureQuery(limit=100, offset=100))
    third = features.items(conn, "units", query=features.FeatureQuery(limit=100, offset=200))
    last = features.items(conn, "units", query=features.FeatureQuery(limit=100, offset=300))
    ids = [f.id for page in (first, second, third, last) for f in page.features]
    assert len(ids) == len(set(ids)) == first.number_matched == 321  # 210 units + 111 periods before 2020
    assert first.has_next
    assert second.has_next
    assert third.has_next
    assert not last.has_next
    assert last.number_returned == 21


def test_limit_above_the_maximum_is_cut_and_below_one_is_refused(conn: Connection) -> None:
    assert (
        features.items(
            conn, "villages", query=features.FeatureQuery(limit=5000, max_limit=50)
        ).number_returned
        == 50
    )
    with pytest.raises(InvalidParameterError) as error:
        features.items(conn, "villages", query=features.FeatureQuery(limit=0))
    assert error.value.parameter == "limit"
    for offset in (-1, 2**64):
        with pytest.raises(InvalidParameterError) as error:
            features.items(conn, "villages", query=features.FeatureQuery(offset=offset))
        assert error.value.parameter == "offset"
    assert features.items(conn, "villages", query=features.FeatureQuery(offset=10**12)).features == []


def test_unit_features_carry_their_properties_and_best_geometry(conn: Connection) -> None:
    page = features.items(conn, "units", query=features.FeatureQuery(filters={"code": "04795"}))
    by_name = {f.properties["name"]: f for f in page.features}
    assert set(by_name) == {"Thịnh Lang", "Hòa Bình"}
    old, new = by_name["Thịnh Lang"], by_name["Hòa Bình"]
    assert old.properties["valid_to"] == "2025-07-01"
    assert old.properties["valid_from"] is None
    assert old.properties["parent_code"] == "148"
    assert old.properties["level_name"] == "commune"
    assert old.properties["geom_quality"] == "point"
    assert old.geometry is not None
    assert old.geometry["type"] == "Point"  # the label point stands in for the missing polygon
    assert new.properties["valid_from"] == "2025-07-01"
    assert new.properties["parent_code"] == "25"
    assert new.geometry is not None
    assert new.geometry["type"] == "MultiPolygon"


def test_places_keep_their_tags_as_an_object(conn: Connection) -> None:
    feature = features.items(conn, "places", query=features.FeatureQuery(limit=1)).features[0]
    assert isinstance(feature.properties["tags"], dict)
    assert feature.properties["tags"].get("osm_id") is not None


def test_addresses_are_served_with_their_commune_code(conn: Connection) -> None:
    ours = {_add_address(conn, 105.34, 20.82, "a"), _add_address(conn, 105.35, 20.83, "b")}
    _add_address(conn, 105.05, 20.66, "c", commune="05200")
    page = features.items(
        conn, "addresses", query=features.FeatureQuery(filters={"commune_code": "04795"}, limit=100)
    )
    assert {f.id for f in page.features} >= ours
    assert all(f.properties["commune_code"] == "04795" for f in page.features)
    assert page.features[0].properties["street"] == "Đường Cù Chính Lan"


# --- filters ----------------------------------------------------------------------------------------


def test_units_filter_on_level_parent_and_validity(conn: Connection) -> None:
    assert (
        features.items(
            conn, "units", query=features.FeatureQuery(filters={"level": "commune"})
        ).number_matched
        == 197 + 111
    )
    assert (
        features.items(conn, "units", query=features.FeatureQuery(filters={"level": "2"})).number_matched
        == 11
    )
    assert (
        features.items(
            conn, "units", query=features.FeatureQuery(filters={"parent_code": "148"})
        ).number_matched
        == 19 + 6
    )
    assert (
        features.items(conn, "units", query=features.FeatureQuery(datetime="2024-01-01")).number_matched
        == 162
    )
    assert (
        features.items(conn, "units", query=features.FeatureQuery(datetime="2025-07-01")).number_matched == 47
    )
    # 2019: province, 11 districts (Kỳ Sơn too) and the 210 communes of the GSO list of 2019-12-01
    assert (
        features.items(
            conn, "units", query=features.FeatureQuery(datetime="2019-01-01/2019-12-31")
        ).number_matched
        == 1 + 11 + 210
    )
    # until 2020-01-31: also every earlier period, and the 2020 communes but the two of 2021
    assert (
        features.items(conn, "units", query=features.FeatureQuery(datetime="../2020-01-31")).number_matched
        == 1 + 11 + 111 + 149
    )
    valid_2024 = features.items(
        conn,
        "units",
        query=features.FeatureQuery(filters={"code": "04795"}, datetime="2024-01-01T12:00:00+07:00"),
    )
    assert [f.properties["name"] for f in valid_2024.features] == ["Thịnh Lang"]


def test_datetime_is_a_day_in_vietnam(conn: Connection) -> None:
    late_utc = features.items(
        conn, "units", query=features.FeatureQuery(filters={"code": "04795"}, datetime="2025-06-30T18:00:00Z")
    )
    assert [f.properties["name"] for f in late_utc.features] == ["Hòa Bình"]  # 1 July 01:00 in Hanoi


def test_datetime_is_ignored_by_collections_without_validity(conn: Connection) -> None:
    assert (
        features.items(conn, "villages", query=features.FeatureQuery(datetime="2000-01-01")).number_matched
        >= 596
    )


@pytest.mark.parametrize(
    ("filters", "parameter"),
    [
        ({"code": "04795"}, "code"),
        ({"level": "county"}, "level"),
        ({"commune_code": "04795"}, "commune_code"),
    ],
)
def test_bad_filters_name_the_parameter(conn: Connection, filters: dict[str, str], parameter: str) -> None:
    name = "villages" if parameter == "code" else "units"  # villages have no code, units no commune
    with pytest.raises(InvalidParameterError) as error:
        features.items(conn, name, query=features.FeatureQuery(filters=filters))
    assert error.value.parameter == parameter


@pytest.mark.parametrize("text", ["2025-13-01", "soon", "../..", "2025-07-01/2024-01-01", "a/b/c"])
def test_bad_datetimes_are_refused(conn: Connection, text: str) -> None:
    with pytest.raises(InvalidParameterError) as error:
        features.items(conn, "units", query=features.FeatureQuery(datetime=text))
    assert error.value.parameter == "datetime"


# --- bbox -------------------------------------------------------------------------------------------


def test_bbox_in_crs84_and_epsg_4326_axis_orders_agree(conn: Connection) -> None:
    lon_lat = features.items(
        conn, "units", query=features.FeatureQuery(bbox=(105.30, 20.78, 105.40, 20.88), limit=100)
    )
    lat_lon = features.items(
        conn,
        "units",
        query=features.FeatureQuery(bbox=(20.78, 105.30, 20.88, 105.40), bbox_crs=EPSG_4326, limit=100),
    )
    assert {f.id for f in lon_lat.features} == {f.id for f in lat_lon.features}
    current = [f for f in lon_lat.features if f.properties["valid_to"] is None and f.properties["level"] == 3]
    assert len(current) == 6


def test_bbox_in_vn2000_finds_the_point_it_surrounds(conn: Connection) -> None:
    ours = _city_address(conn)
    near = (CITY_E - 5, CITY_N - 5, CITY_E + 5, CITY_N + 5)
    assert [
        f.id
        for f in features.items(
            conn, "addresses", query=features.FeatureQuery(bbox=near, bbox_crs=EPSG_9211)
        ).features
    ] == [ours]
    beside = (CITY_E + 1, CITY_N - 5, CITY_E + 11, CITY_N + 5)
    assert (
        features.items(
            conn, "addresses", query=features.FeatureQuery(bbox=beside, bbox_crs="EPSG:9211")
        ).number_matched
        == 0
    )


def test_bbox_in_web_mercator(conn: Connection) -> None:
    ours = _city_address(conn)
    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(105.338977, 20.816674)
    page = features.items(
        conn,
        "addresses",
        query=features.FeatureQuery(bbox=(x - 10, y - 10, x + 10, y + 10), bbox_crs=EPSG_3857),
    )
    assert [f.id for f in page.features] == [ours]


@pytest.mark.parametrize(
    ("bbox", "crs", "match"),
    [
        ((105.4, 20.7, 105.3, 20.9), None, "lower corner"),
        ((105.3, 20.7, 105.4, 95.0), None, "out of range"),
        ((105.3, 20.7, 105.4, 20.9), EPSG_4326, "out of range"),  # lon,lat given where lat,lon is due
        ((105.3, 20.7, float("inf"), 20.9), None, "finite"),
    ],
)
def test_bad_bboxes_are_refused(conn: Connection, bbox: BBox, crs: str | None, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match) as error:
        features.items(conn, "villages", query=features.FeatureQuery(bbox=bbox, bbox_crs=crs))
    assert error.value.parameter == "bbox"


def test_an_unsupported_bbox_crs_names_bbox_crs(conn: Connection) -> None:
    with pytest.raises(InvalidParameterError) as error:
        features.items(
            conn, "villages", query=features.FeatureQuery(bbox=(0, 0, 1, 1), bbox_crs="EPSG:32648")
        )
    assert error.value.parameter == "bbox-crs"


def test_six_number_bboxes_drop_the_heights(conn: Connection) -> None:
    flat = features.items(conn, "villages", query=features.FeatureQuery(bbox=(105.3, 20.78, 105.4, 20.88)))
    tall = features.items(
        conn, "villages", query=features.FeatureQuery(bbox=(105.3, 20.78, -10, 105.4, 20.88, 900))
    )
    assert flat.number_matched == tall.number_matched > 0


# --- output CRSs --------------------------------------------------------------------------------------


def test_the_vn2000_srid_row_carries_the_official_parameters(conn: Connection) -> None:
    row = conn.execute(
        select(spatial_ref_sys.c.auth_name, spatial_ref_sys.c.proj4text, spatial_ref_sys.c.srtext).where(
            spatial_ref_sys.c.srid == features.VN2000_TM3_106_SRID
        )
    ).one()
    official = ",".join(repr(v) for v in VN2000_TOWGS84)
    assert row.auth_name is None  # else PostGIS would let PROJ choose the datum shift
    assert f"+towgs84={official} " in row.proj4text
    assert f"TOWGS84[{official}]" in row.srtext
    assert "+lon_0=106 +k=0.9999 +x_0=500000" in row.proj4text


def test_vn2000_output_matches_importers_crs_within_a_centimetre(conn: Connection) -> None:
    ours = _city_address(conn)
    feature = features.item(conn, "addresses", ours, crs=EPSG_9211)
    assert feature.geometry is not None
    easting, northing = feature.geometry["coordinates"]
    assert abs(easting - CITY_E) < 0.01
    assert abs(northing - CITY_N) < 0.01


def test_every_village_in_vn2000_matches_pyproj_within_a_centimetre(conn: Connection) -> None:
    lonlat = features.items(conn, "villages", query=features.FeatureQuery(limit=1000))
    metres = features.items(conn, "villages", query=features.FeatureQuery(limit=1000, crs="EPSG:9211"))
    to_vn2000 = wgs84_transformer("EPSG:9211")
    worst = 0.0
    for wgs, vn in zip(lonlat.features, metres.features, strict=True):
        assert wgs.id == vn.id
        assert wgs.geometry is not None
        assert vn.geometry is not None
        lon, lat = wgs.geometry["coordinates"]
        e, n = to_vn2000.transform(lon, lat, direction="INVERSE")
        got_e, got_n = vn.geometry["coordinates"]
        worst = max(worst, abs(got_e - e), abs(got_n - n))
    assert worst < 0.01


def test_epsg_4326_output_is_latitude_first(conn: Connection) -> None:
    lon_lat = features.item(conn, "villages", 1)
    lat_lon = features.item(conn, "villages", "1", crs="EPSG:4326")
    assert lon_lat.geometry == {"type": "Point", "coordinates": [105.05, 20.83333]}
    assert lat_lon.geometry == {"type": "Point", "coordinates": [20.83333, 105.05]}


def test_web_mercator_output_matches_pyproj(conn: Connection) -> None:
    feature = features.item(conn, "villages", 1, crs=EPSG_3857)
    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(105.05, 20.83333)
    assert feature.geometry is not None
    assert feature.geometry["coordinates"] == pytest.approx([x, y], abs=0.001)
    assert "crs" not in feature.geometry  # plain GeoJSON: the CRS is in the Content-Crs header


def test_polygons_are_transformed_too(conn: Connection) -> None:
    new_hoa_binh = features.items(
        conn,
        "units",
        query=features.FeatureQuery(filters={"code": "04795"}, datetime="2025-07-01", crs="EPSG:9211"),
    )
    geometry = new_hoa_binh.features[0].geometry
    assert geometry is not None
    assert geometry["type"] == "MultiPolygon"
    ring = geometry["coordinates"][0][0]
    assert all(400_000 < e < 460_000 and 2_280_000 < n < 2_330_000 for e, n in ring)


def test_an_unsupported_crs_is_refused(conn: Connection) -> None:
    with pytest.raises(InvalidParameterError, match="unsupported CRS") as error:
        features.items(conn, "villages", query=features.FeatureQuery(crs="EPSG:32648"))
    assert error.value.parameter == "crs"


@pytest.mark.parametrize(
    "text",
    [
        "http://www.opengis.net/def/crs/EPSG/0/9211",
        "https://www.opengis.net/def/crs/EPSG/0/9211",
        "EPSG:9211",
        "[EPSG:9211]",
        "urn:ogc:def:crs:EPSG::9211",
    ],
)
def test_crs_spellings(text: str) -> None:
    assert features.parse_crs(text).uri == EPSG_9211


# --- one item -----------------------------------------------------------------------------------------


def test_an_item_by_id(conn: Connection) -> None:
    feature = features.item(conn, "villages", 1)
    assert feature.properties["name"] == "Bản Suối Gioi"
    assert feature.properties["commune_code"] == "04873"


@pytest.mark.parametrize(
    "feature_id", ["999999", "3000000000", "999999999999999999", "abc", "1.5", "-1", "١"]
)
def test_an_unknown_item_is_not_found(conn: Connection, feature_id: str) -> None:
    with pytest.raises(NotFoundError):
        features.item(conn, "villages", feature_id)
