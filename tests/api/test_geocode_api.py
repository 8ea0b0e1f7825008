"""The geocoding routes over HTTP on the loaded test database: answers and refusals.

Every answer is a GeocodeJSON FeatureCollection; every refusal uses the app's one
error shape with the right status and the parameter at fault.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import Iterator
from typing import Any, cast, get_args

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, delete

from addresses import changes
from addresses.codes import encode
from addresses.schema import address, address_history
from addresses.settings import DatabaseSettings
from api.app import create_app
from api.deps import app_state_of
from api.routes.geocode import SearchType
from api.settings import ApiSettings
from geocoder.batch_stream import ClientGoneError, CsvPipe
from geocoder.search import RESULT_TYPES
from tests.records import new_address

pytestmark = pytest.mark.db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PROVINCE_BOX = (104.8, 20.3, 105.9, 21.2)
MAI_HA = "05251"


def remove_address(engine: Engine, address_id: int) -> None:
    """Take a test address out again, recording the change so caches and the index notice."""
    with engine.begin() as conn:
        changes.record_rows(conn, table=address, where=address.c.id == address_id)
        conn.execute(delete(address_history).where(address_history.c.address_id == address_id))
        conn.execute(delete(address).where(address.c.id == address_id))


def _features(client: TestClient, path: str, **params: object) -> list[dict[str, Any]]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["geocoding"]["version"] == "0.1.0"
    features: list[dict[str, Any]] = body["features"]
    return features


SPEC_KEYS = {
    "type", "accuracy", "label", "name", "housenumber", "street", "locality", "postcode", "city",
    "district", "county", "state", "country", "admin", "geohash",
}  # fmt: skip
"""The keys GeocodeJSON 0.1.0 defines in a feature's ``properties.geocoding``."""
SPEC_TYPES = {"house", "street", "locality", "city", "county", "state", "country"}
EXPECTED_TYPES = {
    "address": "house", "place": "house", "point": "house", "street": "street", "village": "locality",
    "commune": "city", "district": "county", "province": "state",
}  # fmt: skip


def _geocoding(feature: dict[str, Any]) -> dict[str, Any]:
    """Both members of a feature's properties, checked: the spec's ``geocoding``, diachiso's own.

    ``type`` in the answer is diachiso's match level, the finer one the tests speak of.
    """
    spec: dict[str, Any] = feature["properties"]["geocoding"]
    extra: dict[str, Any] = feature["properties"]["diachiso"]
    assert set(spec) <= SPEC_KEYS, set(spec) - SPEC_KEYS
    assert spec["type"] in SPEC_TYPES
    assert spec["type"] == EXPECTED_TYPES[extra["match_level"]]
    return {**spec, **extra, "type": extra["match_level"]}


def _assert_error(response: Any, status: int, parameter: str | None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status
    assert error["message"]
    named = error["parameter"]
    assert (named.split(".")[0] if named else None) == parameter  # "type.0": the first value of type


# --- search ----------------------------------------------------------------------------------------


def test_search_answers_geocodejson_with_codes_and_units(client: TestClient) -> None:
    response = client.get("/search", params={"q": "xom lac mai chau", "limit": 5})
    body = response.json()
    assert body["geocoding"]["query"] == "xom lac mai chau"
    assert body["diachiso"]["query"]["text"] == "xom lac mai chau"
    assert body["diachiso"]["query"]["parsed"]["village"]["name"] == "lac"
    features = body["features"]
    assert 1 <= len(features) <= 5
    best = features[0]
    assert best["type"] == "Feature"
    assert best["geometry"]["type"] == "Point"
    lon, lat = best["geometry"]["coordinates"]
    west, south, east, north = PROVINCE_BOX
    assert west < lon < east
    assert south < lat < north
    geocoding = _geocoding(best)
    assert "Lác" in geocoding["label"]
    assert geocoding["type"] in {"street", "village", "place", "address"}
    assert 0 < geocoding["score"] <= 1
    assert geocoding["postcode"] is None
    assert geocoding["location_code"] == encode(lon, lat)
    assert geocoding["location_code_display"].replace("-", "") == geocoding["location_code"]
    assert geocoding["current_unit"]["code"] == MAI_HA
    assert geocoding["admin"]["level8"] == geocoding["current_unit"]["full_name"]
    assert {unit["level_name"] for unit in geocoding["old_units"]} >= {"commune", "district"}
    assert {unit["level"] for unit in geocoding["old_units"]} >= {3, 2}
    scores = [_geocoding(feature)["score"] for feature in features]
    assert scores == sorted(scores, reverse=True)


def test_search_in_english_puts_unit_words_after_names(client: TestClient) -> None:
    [feature] = _features(client, "/search", q="xa mai ha", limit=1, lang="en")
    assert _geocoding(feature)["label"].startswith("Mai Hạ Commune")


def test_search_a_typed_location_code(client: TestClient) -> None:
    [feature] = _features(client, "/search", q="8VG-DHS-6HB", limit=3)
    geocoding = _geocoding(feature)
    assert geocoding["location_code"] == "8VGDHS6HB"
    assert geocoding["type"] in {"point", "address"}


def test_search_filters_by_type_unit_box_and_point(client: TestClient) -> None:
    villages = _features(client, "/search", q="mai chau", type="village", limit=10)
    assert villages
    assert {_geocoding(f)["type"] for f in villages} == {"village"}

    in_unit = _features(client, "/search", q="lac", unit=MAI_HA, limit=10)
    assert in_unit
    for feature in in_unit:
        geocoding = _geocoding(feature)
        codes = {geocoding["current_unit"]["code"]} | {unit["code"] for unit in geocoding["old_units"]}
        assert MAI_HA in codes

    box = (105.0, 20.6, 105.2, 20.7)
    inside = _features(client, "/search", q="mai chau", bbox=",".join(map(str, box)), limit=10)
    assert inside
    for feature in inside:
        lon, lat = feature["geometry"]["coordinates"]
        assert box[0] <= lon <= box[2]
        assert box[1] <= lat <= box[3]

    near = _features(client, "/search", q="mai chau", lat=20.65, lon=105.07, limit=3)
    assert near


def test_limit_bounds_the_answer(client: TestClient) -> None:
    assert len(_features(client, "/search", q="xom", limit=1)) == 1
    assert len(_features(client, "/search", q="xom", limit=50)) <= 50


# --- autocomplete ----------------------------------------------------------------------------------


def test_autocomplete_completes_the_last_word(client: TestClient) -> None:
    features = _features(client, "/autocomplete", q="xom lac mai ch", limit=4)
    assert 1 <= len(features) <= 4
    assert any("Lác" in _geocoding(f)["label"] for f in features)


def test_autocomplete_of_a_unit_prefix(client: TestClient) -> None:
    features = _features(client, "/autocomplete", q="xa mai h", limit=8)
    assert any(_geocoding(f)["current_unit"]["code"] == MAI_HA for f in features)


# --- parse -----------------------------------------------------------------------------------------


def test_parse_reads_components(client: TestClient) -> None:
    response = client.get("/parse", params={"q": "so 5 xom lac, xa mai ha, phu tho"})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "so 5 xom lac, xa mai ha, phu tho"
    parsed = body["parsed"]
    assert parsed["house_number"]["name"] == "5"
    assert parsed["village"]["name"] == "lác" or parsed["village"]["folded"] == "lac"
    assert parsed["commune"]["folded"] == "mai ha"
    assert parsed["province"]["folded"] == "phu tho"


# --- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "status", "parameter"),
    [
        ("/search", {}, 422, "q"),
        ("/search", {"q": ""}, 422, "q"),
        ("/search", {"q": "lac", "limit": 0}, 422, "limit"),
        ("/search", {"q": "lac", "limit": 1000}, 422, "limit"),
        ("/search", {"q": "lac", "limit": "many"}, 422, "limit"),
        ("/search", {"q": "lac", "lat": 95, "lon": 105}, 422, "lat"),
        ("/search", {"q": "lac", "lat": 20.6, "lon": 181}, 422, "lon"),
        ("/search", {"q": "lac", "lat": 20.6}, 400, "lon"),
        ("/search", {"q": "lac", "type": "road"}, 422, "type"),
        ("/search", {"q": "lac", "lang": "fr"}, 422, "lang"),
        ("/search", {"q": "lac", "bbox": "1,2,3"}, 400, "bbox"),
        ("/search", {"q": "x" * 301}, 422, "q"),
        ("/autocomplete", {}, 422, "q"),
        ("/autocomplete", {"q": "lac", "limit": 0}, 422, "limit"),
        ("/autocomplete", {"q": "lac", "limit": 1000}, 422, "limit"),
        ("/parse", {}, 422, "q"),
    ],
)
def test_bad_parameters_answer_the_error_shape(
    client: TestClient, path: str, params: dict[str, object], status: int, parameter: str
) -> None:
    _assert_error(client.get(path, params=params), status, parameter)


def test_a_mistyped_code_is_400_not_an_empty_answer(client: TestClient) -> None:
    response = client.get("/search", params={"q": "8VG-DHS-6HC"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "InvalidCodeError"


# --- OpenAPI ---------------------------------------------------------------------------------------


def test_the_type_filter_offers_exactly_what_the_geocoder_knows() -> None:
    assert set(get_args(SearchType)) == RESULT_TYPES


def test_every_geocoding_parameter_is_described_in_the_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/search", "/autocomplete", "/reverse", "/parse"):
        parameters = paths[path]["get"]["parameters"]
        assert parameters, path
        for parameter in parameters:
            assert parameter.get("description"), (path, parameter["name"])
    batch = paths["/batch"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert batch


# --- reverse ---------------------------------------------------------------------------------------


def test_reverse_names_the_ward_old_units_and_location_code(client: TestClient) -> None:
    lon, lat = 105.0717458, 20.6512401
    [feature] = _features(client, "/reverse", lon=lon, lat=lat)
    assert feature["geometry"]["coordinates"] == [lon, lat]
    geocoding = _geocoding(feature)
    assert geocoding["kind"] == "reverse"
    assert geocoding["score"] is None
    assert geocoding["location_code"] == encode(lon, lat)
    assert geocoding["location_code_display"] == "7VY-4HX-E6H"
    assert geocoding["current_unit"]["code"] == MAI_HA
    assert [u["level_name"] for u in geocoding["old_units"]] == ["commune", "district", "province"]
    assert [u["level"] for u in geocoding["old_units"]] == [3, 2, 1]
    assert [u["code"] for u in geocoding["units"]] == [MAI_HA, "25"]
    assert geocoding["distance_m"] == 0


def test_reverse_at_a_day_before_2025_reads_the_old_units(client: TestClient) -> None:
    [feature] = _features(client, "/reverse", lon=105.0717458, lat=20.6512401, at="2024-06-30", lang="en")
    geocoding = _geocoding(feature)
    assert [u["level_name"] for u in geocoding["units"]] == ["commune", "district", "province"]
    assert [u["level"] for u in geocoding["units"]] == [3, 2, 1]
    assert geocoding["current_unit"]["code"] == MAI_HA
    assert "Mai Châu District" in geocoding["label"]


def test_reverse_finds_the_registry_code_of_an_address_there(client: TestClient, engine: Engine) -> None:
    lon, lat = 105.0717458, 20.6512401
    with engine.begin() as conn:
        record = new_address(conn, lon + 0.00002, lat, house_number="9", village_name="Xóm Lác")
    try:
        # /reverse answers from the index: a new address shows up once the refresher has seen it (this
        # call or the refresher's own period, whichever came first: either way under the index's lock)
        app_state_of(cast(FastAPI, client.app)).index_refresher.refresh_once()
        [feature] = _features(client, "/reverse", lon=lon, lat=lat, radius_m=50)
        geocoding = _geocoding(feature)
        assert geocoding["type"] == "address"
        assert geocoding["registry_code"] == record.registry_code
        assert geocoding["registry_code_display"] == record.registry_code_display
        assert geocoding["address"]["distance_m"] == pytest.approx(2.1, abs=0.5)
        assert geocoding["label"].startswith("9, Xóm Lác")
    finally:
        remove_address(engine, record.id)


@pytest.mark.parametrize(
    ("params", "status", "parameter"),
    [
        ({"lon": 105.07}, 422, "lat"),
        ({"lat": 20.65}, 422, "lon"),
        ({"lon": 105.07, "lat": 95}, 422, "lat"),
        ({"lon": 185, "lat": 20.65}, 422, "lon"),
        ({"lon": "east", "lat": 20.65}, 422, "lon"),
        ({"lon": 105.07, "lat": 20.65, "radius_m": 0}, 422, "radius_m"),
        ({"lon": 105.07, "lat": 20.65, "radius_m": 20_000}, 422, "radius_m"),
        ({"lon": 105.07, "lat": 20.65, "at": "2024-13-01"}, 422, "at"),
        ({"lon": 105.07, "lat": 20.65, "lang": "de"}, 422, "lang"),
    ],
)
def test_reverse_refusals(client: TestClient, params: dict[str, object], status: int, parameter: str) -> None:
    _assert_error(client.get("/reverse", params=params), status, parameter)


def test_reverse_far_from_the_province_is_out_of_territory(client: TestClient) -> None:
    response = client.get("/reverse", params={"lon": 108.22, "lat": 16.07})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "OutOfTerritoryError"


# --- batch -----------------------------------------------------------------------------------------


def _csv(rows: list[list[str]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _batch(client: TestClient, content: bytes, **form: object) -> Any:
    data = {"column": "dia_chi", **form}
    return client.post("/batch", files={"file": ("so-lieu.csv", content, "text/csv")}, data=data)


def _rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


def test_batch_answers_the_same_rows_with_geocoding_columns(client: TestClient) -> None:
    rows = [["ma", "dia_chi"], ["1", "xom lac mai chau"], ["2", ""], ["3", "8VG-DHS-6HB"], ["4", "xa mai ha"]]
    response = _batch(client, _csv(rows))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="so-lieu-geocoded.csv"'
    answer = _rows(response)
    assert [row["ma"] for row in answer] == ["1", "2", "3", "4"]
    assert answer[0]["commune_code"] == MAI_HA
    assert answer[0]["location_code"] == encode(float(answer[0]["lon"]), float(answer[0]["lat"]))
    assert answer[1]["error"] == "empty address"
    assert answer[2]["location_code"] == "8VGDHS6HB"
    assert answer[3]["match_level"] == "commune"


def test_batch_joins_several_columns_and_reads_semicolons(client: TestClient) -> None:
    rows = [["so", "thon", "xa"], ["5", "xom lac", "mai ha"]]
    response = client.post(
        "/batch",
        files={"file": ("a.csv", _csv(rows, ";"), "text/csv")},
        data={"column": ["thon", "xa"], "delimiter": ";"},
    )
    assert response.status_code == 200, response.text
    [row] = list(csv.DictReader(io.StringIO(response.text), delimiter=";"))
    assert row["commune_code"] == MAI_HA


def test_batch_streams_a_hundred_thousand_rows(client: TestClient) -> None:
    rng = random.Random(5)
    texts = ["xom lac mai chau", "xa mai ha", "phuong hoa binh", "thon mo, lac thuy", "ban suoi gioi"]
    rows = [["id", "dia_chi"]]
    rows += [[str(i), f"so {rng.randint(1, 300)} {rng.choice(texts)}"] for i in range(100_000)]
    with client.stream(
        "POST", "/batch", files={"file": ("big.csv", _csv(rows), "text/csv")}, data={"column": "dia_chi"}
    ) as response:
        assert response.status_code == 200
        chunks = list(response.iter_bytes())
    assert len(chunks) > 10  # streamed in pieces, not one body
    lines = b"".join(chunks).decode("utf-8").splitlines()
    assert len(lines) == 100_001
    assert lines[-1].startswith("99999,")


@pytest.mark.parametrize(
    ("content", "form", "parameter", "words"),
    [
        (b'ma,dia_chi\n1,"xom lac\n', {}, "file", "well-formed"),
        (b'ma,dia_chi\n1,"xom" lac\n', {}, "file", "well-formed"),
        ("ma,dia_chi\n1,Xóm Lác\n".encode("cp1258"), {}, "file", "UTF-8"),
        (b"", {}, "file", "empty"),
        (b"ma,address\n1,xom lac\n", {}, "column", "'dia_chi' not in the CSV header (ma, address)"),
        (b"ma,dia_chi\n1,xom lac\n", {"column": " "}, "column", "name the address column"),
        (b"ma,dia_chi\n1,xom lac\n", {"delimiter": "x"}, "delimiter", "use one of"),
    ],
)
def test_batch_refuses_a_bad_file_or_form_with_422(
    client: TestClient, content: bytes, form: dict[str, str], parameter: str, words: str
) -> None:
    response = _batch(client, content, **form)
    _assert_error(response, 422, parameter)
    assert words in response.json()["error"]["message"]


def test_batch_without_a_file_is_422(client: TestClient) -> None:
    _assert_error(client.post("/batch", data={"column": "dia_chi"}), 422, "file")


@pytest.fixture
def small_upload_client(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """An app accepting CSV files of at most 1 KB."""
    monkeypatch.setenv("DIACHISO_GEOCODE_BATCH_MAX_MB", str(1 / 1024))
    app = create_app(DatabaseSettings(database_url=database_url), ApiSettings())
    with TestClient(app) as test_client:
        yield test_client


def test_batch_over_the_size_limit_is_413(small_upload_client: TestClient) -> None:
    rows = [["ma", "dia_chi"]] + [[str(i), "xom lac mai chau"] for i in range(200)]
    response = _batch(small_upload_client, _csv(rows))
    _assert_error(response, 413, "file")
    assert "1 KB" in response.json()["error"]["message"] or "MB" in response.json()["error"]["message"]
    assert _batch(small_upload_client, _csv(rows[:3])).status_code == 200


def test_the_batch_pipe_stops_when_the_client_is_gone() -> None:
    pipe = CsvPipe()
    text = pipe.text()
    text.write("a,b\n" * 10)
    text.flush()
    chunks = pipe.read_chunks()
    assert next(chunks) == b"a,b\n" * 10
    chunks.close()  # what happens when the client disconnects
    with pytest.raises(ClientGoneError):
        pipe.write(b"more")


# --- the index follows the data --------------------------------------------------------------------


@pytest.fixture
def eager_client(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """An app whose background refresher looks for changed data five times a second."""
    monkeypatch.setenv("DIACHISO_GEOCODE_CHECK_EVERY_S", "0.2")
    app = create_app(DatabaseSettings(database_url=database_url), ApiSettings())
    with TestClient(app) as test_client:
        yield test_client


def _search_until(client: TestClient, q: str, *, found: bool, within_s: float = 60) -> list[dict[str, Any]]:
    """Search until the answer has results (or none), as the background refresh catches up."""
    deadline = time.monotonic() + within_s
    while True:
        features = _features(client, "/search", q=q)
        if bool(features) == found or time.monotonic() > deadline:
            return features
        time.sleep(0.1)


def test_a_new_address_is_found_by_its_registry_code_after_the_background_refresh(
    eager_client: TestClient, engine: Engine
) -> None:
    with engine.begin() as conn:
        record = new_address(conn, 105.0717, 20.6513, house_number="11", village_name="Xóm Lác")
    try:
        [feature] = _search_until(eager_client, record.registry_code_display, found=True)
        geocoding = _geocoding(feature)
        assert geocoding["registry_code"] == record.registry_code
        assert geocoding["type"] == "address"
        assert feature["geometry"]["coordinates"] == pytest.approx([105.0717, 20.6513])
    finally:
        remove_address(engine, record.id)
    assert _search_until(eager_client, record.registry_code_display, found=False) == []


def _top_code_until(client: TestClient, q: str, code: str, within_s: float = 60) -> str | None:
    """Search until the first answer carries ``code`` (the background refresh catching up); its code."""
    deadline = time.monotonic() + within_s
    while True:
        features = _features(client, "/search", q=q)
        top = _geocoding(features[0])["registry_code"] if features else None
        if top == code or time.monotonic() > deadline:
            return top
        time.sleep(0.1)


@pytest.fixture
def feed_client(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """An app whose refresher only follows the change feed (its periodic look is an hour away)."""
    monkeypatch.setenv("DIACHISO_GEOCODE_CHECK_EVERY_S", "3600")
    app = create_app(DatabaseSettings(database_url=database_url), ApiSettings())
    with TestClient(app) as test_client:
        yield test_client


def test_a_merged_address_leads_search_to_the_one_kept_through_the_change_feed(
    feed_client: TestClient, engine: Engine, staff_token: str
) -> None:
    with engine.begin() as conn:
        kept = new_address(conn, 105.0717, 20.6516, house_number="15", village_name="Xóm Lác")
        merged = new_address(conn, 105.07172, 20.6516, house_number="15B", village_name="Xóm Lác")
    staff = TestClient(feed_client.app, headers={"Authorization": f"Bearer {staff_token}"})
    code = merged.registry_code
    try:
        assert _top_code_until(feed_client, code, code) == code  # the feed's create events got it in
        body = {"codes": [code], "into": kept.registry_code, "reason": "one house"}
        assert staff.post("/addresses/merge", json=body).status_code == 200
        assert _top_code_until(feed_client, code, kept.registry_code) == kept.registry_code
        note = _geocoding(_features(feed_client, "/search", q=code)[0]).get("note")
        assert "retired" in str(note)
    finally:
        with engine.begin() as conn:
            conn.execute(address.update().where(address.c.id == merged.id).values(successor_id=None))
        remove_address(engine, merged.id)
        remove_address(engine, kept.id)


# --- generated requests (schemathesis) -------------------------------------------------------------

GENERATED = [("GET", "/search"), ("GET", "/autocomplete"), ("GET", "/reverse"), ("GET", "/parse")]


@pytest.fixture(scope="module")
def api_schema(engine: Engine, database_url: str) -> schemathesis.BaseSchema:
    """The app's OpenAPI document, the app running on the test database."""
    app = create_app(DatabaseSettings(database_url=database_url), ApiSettings())
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), GENERATED)
def test_generated_requests_get_documented_answers(
    api_schema: schemathesis.BaseSchema, method: str, path: str, mode: schemathesis.GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(checks=CHECKS)

    run()
