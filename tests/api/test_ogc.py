"""OGC API Features over HTTP: through the test client, then through real OGC clients (GDAL's OAPIF).

The GDAL tests start the app with uvicorn in a subprocess on a free port against the
test database, read every collection with ``ogrinfo``/``ogr2ogr`` (Debian GDAL) and
with pyogrio's bundled GDAL (which implements Part 2: the ``CRS`` open option), and
compare what they read with the database.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyogrio
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import Engine, func, select

from addresses import features
from addresses.datasets import DATASETS
from addresses.schema import address, admin_unit, place, village
from addresses.settings import DatabaseSettings
from api.app import create_app
from api.routes import ogc
from api.settings import ApiSettings
from importers.crs import wgs84_transformer

ROOT = Path(__file__).resolve().parents[2]
EPSG_9211 = "http://www.opengis.net/def/crs/EPSG/0/9211"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
TABLES = {"addresses": address, "villages": village, "places": place, "units": admin_unit}


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The error body of an answer, checked for status and shape."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == status
    assert set(error) == {"status", "type", "message", "parameter"}
    return error


def _rels(body: dict[str, Any]) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in body["links"]}


# --- landing page, conformance, collections --------------------------------------------------------


def test_landing_page_links(client: TestClient) -> None:
    response = client.get("/ogc")
    assert response.status_code == 200
    links = _rels(response.json())
    assert links["self"].endswith("/ogc")
    assert links["service-desc"].endswith("/openapi.json")
    assert links["conformance"].endswith("/ogc/conformance")
    assert links["data"].endswith("/ogc/collections")
    assert client.get(links["service-desc"]).json()["paths"]["/ogc/collections/{collectionId}/items"]


def test_conformance_declares_core_geojson_oas30_and_crs(client: TestClient) -> None:
    conforms = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conforms


def test_collections_list_extents_crss_and_item_links(client: TestClient) -> None:
    body = client.get("/ogc/collections").json()
    by_id = {c["id"]: c for c in body["collections"]}
    assert list(by_id) == list(DATASETS) == ["units", "villages", "places", "addresses"]
    units = by_id["units"]
    assert units["itemType"] == "feature"
    assert units["storageCrs"] == features.CRS84
    assert EPSG_9211 in units["crs"]
    assert EPSG_9211 in body["crs"]
    assert ["2025-07-01", None] in units["extent"]["temporal"]["interval"]
    assert units["extent"]["spatial"]["crs"] == features.CRS84
    items = next(link for link in units["links"] if link["rel"] == "items")
    assert items["type"] == "application/geo+json"
    assert items["href"].endswith("/ogc/collections/units/items")


def test_one_collection_and_an_unknown_one(client: TestClient) -> None:
    assert client.get("/ogc/collections/villages").json()["title"] == "Villages"
    error = _error(client.get("/ogc/collections/roads"), 404)
    assert error["type"] == "NotFoundError"
    assert "roads" in error["message"]


# --- items ---------------------------------------------------------------------------------------------


def test_items_are_geojson_with_counts_header_and_links(client: TestClient) -> None:
    response = client.get("/ogc/collections/villages/items", params={"limit": 5, "offset": 5})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    assert response.headers["content-crs"] == f"<{features.CRS84}>"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] >= 596
    assert body["numberReturned"] == 5
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["timeStamp"])
    links = _rels(body)
    assert "offset=10" in links["next"]
    assert "offset=0" in links["prev"]
    assert links["collection"].endswith("/ogc/collections/villages")


def test_following_next_links_reads_every_unit_once(client: TestClient) -> None:
    url: str | None = "/ogc/collections/units/items?limit=64"
    ids: list[int] = []
    while url is not None:
        body = client.get(url).json()
        ids += [feature["id"] for feature in body["features"]]
        url = _rels(body).get("next")
    assert len(ids) == len(set(ids)) == 210 + 111


def test_items_in_vn2000(client: TestClient) -> None:
    response = client.get("/ogc/collections/villages/items/1", params={"crs": EPSG_9211})
    assert response.headers["content-crs"] == f"<{EPSG_9211}>"
    easting, northing = response.json()["geometry"]["coordinates"]
    expected = wgs84_transformer("EPSG:9211").transform(105.05, 20.83333, direction="INVERSE")
    assert easting == pytest.approx(expected[0], abs=0.01)
    assert northing == pytest.approx(expected[1], abs=0.01)


def test_items_in_epsg_4326_are_lat_lon(client: TestClient) -> None:
    body = client.get("/ogc/collections/villages/items/1", params={"crs": EPSG_4326}).json()
    assert body["geometry"]["coordinates"] == [20.83333, 105.05]
    assert _rels(body)["collection"].endswith("/ogc/collections/villages")


def test_items_filtered_by_bbox_crs_datetime_and_properties(client: TestClient) -> None:
    params = {
        "bbox": "20.78,105.30,20.88,105.40",
        "bbox-crs": EPSG_4326,
        "level": "3",
        "datetime": "2025-07-01/..",
    }
    body = client.get("/ogc/collections/units/items", params=params).json()
    assert body["numberMatched"] == 6
    assert {f["properties"]["parent_code"] for f in body["features"]} == {"25"}


def test_limit_above_the_maximum_is_reduced(engine: Engine, database_url: str) -> None:
    app = create_app(DatabaseSettings(database_url=database_url), ApiSettings(max_limit=25))
    with TestClient(app) as small:
        body = small.get("/ogc/collections/villages/items", params={"limit": 5000}).json()
    assert body["numberReturned"] == 25
    assert "limit=25" in _rels(body)["next"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "105.4,20.8,105.3,20.9"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "1,2,3,4", "bbox-crs": "EPSG:2000"}, "bbox-crs"),
        ({"crs": "EPSG:32648"}, "crs"),
        ({"limit": "0"}, "limit"),
        ({"offset": "-3"}, "offset"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"commune_code": "04795"}, "commune_code"),
        ({"level": "county"}, "level"),
        ({"colour": "red"}, "colour"),
        ({"f": "html"}, "f"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    client: TestClient, params: dict[str, str], parameter: str
) -> None:
    error = _error(client.get("/ogc/collections/units/items", params=params), 400)
    assert error["parameter"] == parameter


def test_a_non_number_limit_is_422(client: TestClient) -> None:
    error = _error(client.get("/ogc/collections/units/items", params={"limit": "ten"}), 422)
    assert error["parameter"] == "limit"


@pytest.mark.parametrize(
    "path", ["/ogc/collections/villages/items/999999", "/ogc/collections/villages/items/x"]
)
def test_an_unknown_feature_is_404(client: TestClient, path: str) -> None:
    _error(client.get(path), 404)


def test_route_filters_are_the_queryables_of_the_collections() -> None:
    names = {q.name for spec in features.COLLECTIONS.values() for q in spec.queryables}
    assert set(ogc.FILTERS) == names


# --- a real OGC client: GDAL -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within 30 s")


@pytest.fixture(scope="module")
def server(engine: Engine, database_url: str) -> Iterator[str]:
    """The landing page URL of the app served by uvicorn on the test database."""
    port = _free_port()
    env = {**os.environ, "DIACHISO_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "uvicorn", "api.app:app_from_environment", "--factory"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/health", process)
        yield f"http://127.0.0.1:{port}/ogc"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def database_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(t)).scalar_one() for name, t in TABLES.items()
        }


def _gdal(*args: str) -> str:
    assert shutil.which(args[0]), f"{args[0]} is missing: apt-get install gdal-bin"
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_bundled_counts(engine: Engine) -> None:
    with engine.connect() as conn:
        bundled = {
            "villages": select(func.count()).where(village.c.source == "villages_geonames_wof"),
            "places": select(func.count()).where(place.c.source == "pois_osm"),
            "units": select(func.count()).select_from(admin_unit),
        }
        assert {name: conn.execute(query).scalar_one() for name, query in bundled.items()} == {
            "villages": 596,
            "places": 367,
            "units": 210 + 111,
        }


def test_ogrinfo_lists_every_collection(server: str) -> None:
    output = _gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server}")
    layers = re.findall(r"^\d+: (\w+) \(title: ([^)]*)\)", output, flags=re.MULTILINE)
    assert [name for name, _title in layers] == list(DATASETS)


@pytest.mark.parametrize("collection", list(TABLES))
def test_ogrinfo_counts_match_the_database(
    server: str, database_counts: dict[str, int], collection: str
) -> None:
    output = _gdal("ogrinfo", "-ro", "-so", "-oo", "PAGE_SIZE=1000", f"OAPIF:{server}", collection)
    count = re.search(r"^Feature Count: (\d+)$", output, flags=re.MULTILINE)
    assert count is not None
    assert int(count.group(1)) == database_counts[collection]


@pytest.mark.parametrize("collection", list(TABLES))
def test_ogr2ogr_reads_every_feature(
    server: str, database_counts: dict[str, int], collection: str, tmp_path: Path
) -> None:
    target = tmp_path / f"{collection}.geojson"
    _gdal("ogr2ogr", "-f", "GeoJSON", str(target), f"OAPIF:{server}", collection, "-oo", "PAGE_SIZE=1000")
    read = json.loads(target.read_text(encoding="utf-8"))["features"]
    assert len(read) == database_counts[collection]


def test_ogr2ogr_t_srs_vn2000_matches_postgis(server: str, engine: Engine, tmp_path: Path) -> None:
    target = tmp_path / "villages_9211.geojson"
    _gdal(
        "ogr2ogr", "-f", "GeoJSON", str(target), f"OAPIF:{server}", "villages",
        "-t_srs", "EPSG:9211", "-preserve_fid", "-oo", "PAGE_SIZE=1000",
    )  # fmt: skip
    by_gdal = {f["id"]: f["geometry"]["coordinates"] for f in json.loads(target.read_text())["features"]}
    with engine.connect() as conn:
        page = features.items(conn, "villages", query=features.FeatureQuery(crs=EPSG_9211, limit=1000))
    by_postgis = {f.id: f.geometry["coordinates"] for f in page.features if f.geometry is not None}
    assert by_gdal.keys() == by_postgis.keys()
    worst = max(abs(a - b) for key in by_gdal for a, b in zip(by_gdal[key], by_postgis[key], strict=True))
    assert worst < 0.01


def test_a_part_2_request_read_by_gdal_returns_postgis_coordinates(server: str, tmp_path: Path) -> None:
    target = tmp_path / "places_9211.geojson"
    url = f"{server}/collections/places/items?limit=1000&crs={EPSG_9211}"
    _gdal("ogr2ogr", "-f", "GeoJSON", str(target), url, "-preserve_fid")
    read = {f["id"]: f["geometry"]["coordinates"] for f in json.loads(target.read_text())["features"]}
    to_vn2000 = wgs84_transformer("EPSG:9211")
    lonlat = httpx.get(f"{server}/collections/places/items", params={"limit": 1000}).json()["features"]
    for feature in lonlat:
        lon, lat = feature["geometry"]["coordinates"]
        expected = to_vn2000.transform(lon, lat, direction="INVERSE")
        assert read[feature["id"]] == pytest.approx(list(expected), abs=0.01)


@pytest.mark.parametrize("collection", ["villages", "units"])
def test_gdal_crs_open_option_gets_vn2000_from_the_server(
    server: str, engine: Engine, collection: str
) -> None:
    frame = pyogrio.read_dataframe(f"OAPIF:{server}", layer=collection, CRS="EPSG:9211", PAGE_SIZE=1000)
    assert frame.crs is not None
    assert frame.crs.to_epsg() == 9211
    with engine.connect() as conn:
        page = features.items(conn, collection, query=features.FeatureQuery(crs="EPSG:9211", limit=1000))
    assert len(frame) == page.number_matched
    first = page.features[0].geometry
    assert first is not None
    got, expected = frame.geometry.iloc[0], shape(first)
    assert got.geom_type == expected.geom_type
    assert got.bounds == pytest.approx(expected.bounds, abs=0.001)
