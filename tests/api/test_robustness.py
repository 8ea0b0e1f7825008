"""Robustness: hostile input, faults and load get a clear JSON answer, never a hang or a 500.

The probes of issue 9 as regression tests. Those about the server itself (pool
exhaustion, chunked bodies, protocol errors, authentication before the body) run
``diachiso serve`` in a subprocess on 127.0.0.1 and talk to it with real clients; the
database outage cuts a real TCP link to the real PostGIS and restores it.
"""

from __future__ import annotations

import concurrent.futures
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url, text

from addresses.settings import DatabaseSettings
from api.app import create_app
from api.settings import ApiSettings, TileSettings
from tests.api.live import CuttableLink, live_server, raw_exchange

UNIT_TILE = "/tiles/units/10/810/451.mvt"
"""A tile over Mai Châu: built once while the database is up, then served from the cache."""
POINT = {"lon": 105.0717, "lat": 20.6512}


def _error(response: httpx.Response, status: int, parameter: str | None = None) -> dict[str, Any]:
    """Check the answer is the JSON error shape with this status (and parameter); return the error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == status
    if parameter is not None:
        assert error["parameter"] == parameter
    return error


# --- forbidden characters in parameters --------------------------------------------------------------

NUL_PROBES = [
    ("/search", {"q": "xom\x00lac"}, "q"),
    ("/autocomplete", {"q": "xom lac\x00"}, "q"),
    ("/parse", {"q": "\x00"}, "q"),
    ("/search", {"q": "xom lac", "unit": "05251\x00"}, "unit"),
    ("/search", {"q": "xom lac", "bbox": "104.9,20.5,105.2,20.8\x00"}, "bbox"),
    ("/units", {"q": "hoa\x00binh"}, "q"),
    ("/units", {"parent": "148\x00"}, "parent"),
    ("/units/convert", {"name": "Cao\x00Sơn"}, "name"),
    ("/units/convert", {"code": "04891", "district": "\x1b[31m"}, "district"),
    ("/ogc/collections/units/items", {"code": "04795\x00"}, "code"),
    ("/ogc/collections/units/items", {"datetime": "2024-01-01\x00"}, "datetime"),
    ("/codes/8VG-DHS-6HB", {"limit": "5\x00"}, "limit"),
]


@pytest.mark.parametrize(("path", "params", "parameter"), NUL_PROBES)
def test_a_control_character_in_a_parameter_is_a_400_naming_it(
    client: TestClient, path: str, params: dict[str, str], parameter: str
) -> None:
    error = _error(client.get(path, params=params), 400, parameter)
    assert "control character" in error["message"]


@pytest.mark.parametrize("path", ["/codes/8VG%00DHS", "/units/04%0795", "/addresses/1000%00000005"])
def test_a_control_character_in_the_path_is_a_400(client: TestClient, path: str) -> None:
    _error(client.get(path), 400, "path")


def test_a_parameter_that_is_not_utf8_is_a_400_naming_it(client: TestClient) -> None:
    error = _error(client.get("/search?q=x%FFm"), 400, "q")
    assert "UTF-8" in error["message"]


# --- strict values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "params"), [("/units", {}), ("/units/04795", {}), ("/reverse", POINT)])
@pytest.mark.parametrize("value", ["0", "1719792000", "2024-06-30T00:00:00", "20240630"])
def test_at_is_a_day_written_yyyy_mm_dd_not_a_number(
    client: TestClient, path: str, params: dict[str, float], value: str
) -> None:
    _error(client.get(path, params={**params, "at": value}), 422, "at")


def test_at_as_a_day_still_works(client: TestClient) -> None:
    assert client.get("/units", params={"at": "2024-06-30", "limit": 1}).status_code == 200


@pytest.mark.parametrize("value", ["1e400", "-1e400", "nan", "NaN", "inf", "-Infinity"])
@pytest.mark.parametrize("name", ["lon", "lat"])
def test_non_finite_coordinates_in_a_query_are_refused_naming_them(
    client: TestClient, name: str, value: str
) -> None:
    params = {"lon": "105.0717", "lat": "20.6512", name: value}
    _error(client.get("/reverse", params=params), 422, name)
    _error(client.get("/search", params={"q": "xom lac", **params}), 422, name)


@pytest.fixture(scope="module")
def editor(engine: Engine, database_url: str, staff_token: str) -> Iterator[TestClient]:
    """A client of an app, sending an admin's API token."""
    app = create_app(DatabaseSettings(database_url=database_url), ApiSettings())
    with TestClient(app, headers={"Authorization": f"Bearer {staff_token}"}) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("member", "value"), [("lon", True), ("lat", False), ("lon", "105.07"), ("lat", 1e400), ("lon", None)]
)
def test_coordinates_in_a_body_are_strict_finite_numbers(
    editor: TestClient, member: str, value: object
) -> None:
    point = {**POINT, member: value}
    geometry = {"type": "Point", "coordinates": [point["lon"], point["lat"]]}
    body = {"type": "Feature", "geometry": geometry, "properties": {"house_number": "1"}}
    raw = json.dumps(body).replace("Infinity", "1e400")  # 1e400 reads as infinity
    response = editor.post("/addresses", content=raw, headers={"Content-Type": "application/json"})
    _error(response, 422, "geometry")


# --- routing answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_the_405_of_merge_allows_what_the_path_serves(editor: TestClient, method: str) -> None:
    response = editor.request(method, "/addresses/merge")  # anonymous, it would be 401 first
    _error(response, 405)
    allowed = {name.strip() for name in response.headers["allow"].split(",")}
    assert "POST" in allowed  # the merge itself
    assert method not in allowed


def test_an_unexpected_error_is_a_500_in_the_json_shape(engine: Engine, database_url: str) -> None:
    app = create_app(DatabaseSettings(database_url=database_url), ApiSettings())

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken-for-test", broken)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        error = _error(test_client.get("/broken-for-test"), 500)
    assert error["type"] == "InternalError"
    assert "a bug" not in error["message"]  # internals stay in the log


# --- static files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/static/package.json",
        "/static/package-lock.json",
        "/static/node_modules/leaflet/package.json",
        "/static/node_modules/pbf/index.js",
        "/static/node_modules/",
        "/static/node_modules/leaflet/dist/../package.json",
    ],
)
def test_static_serves_only_what_the_viewer_loads(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/static/app.js", "/static/app.css", "/static/grid.js"])
def test_static_still_serves_the_viewer(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


# --- headers -----------------------------------------------------------------------------------------


def test_too_many_header_fields_are_a_431(client: TestClient) -> None:
    headers = {f"X-Probe-{i}": "1" for i in range(150)}
    _error(client.get("/parse", params={"q": "x"}, headers=headers), 431, "headers")


# --- the geocoder index refreshes in the background ------------------------------------------------


def _within(seconds: float, call: Callable[[], httpx.Response]) -> httpx.Response | None:
    """The answer of ``call`` if it came within ``seconds`` (else None: it hangs)."""
    answers: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    return answers[0] if answers else None


def _searcher(client: TestClient, query: str) -> Callable[[], httpx.Response]:
    return lambda: client.get("/search", params={"q": query})


def test_search_never_waits_for_an_index_refresh(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIACHISO_GEOCODE_CHECK_EVERY_S", "0.1")
    app = create_app(DatabaseSettings(database_url=database_url), ApiSettings())
    with TestClient(app) as test_client, engine.connect() as blocker:
        # the refresh reads the village table: a lock held on it stalls any refresh
        blocker.execute(text("LOCK TABLE village IN ACCESS EXCLUSIVE MODE"))
        time.sleep(0.5)  # a refresh is now due (and the refresher is stuck on the lock)
        try:
            for query in ("xom lac", "mai chau", "hoa binh"):
                answer = _within(15, _searcher(test_client, query))
                assert answer is not None, "a search waited for the index refresh"
                assert answer.status_code == 200
        finally:
            blocker.rollback()


# --- the database goes down and comes back ------------------------------------------------------------


@pytest.fixture
def link(database_url: str) -> Iterator[CuttableLink]:
    """A cuttable TCP link to the test database server."""
    url = make_url(database_url)
    relay = CuttableLink(url.host or "127.0.0.1", url.port or 5432)
    relay.restore()
    yield relay
    relay.cut()


def _until(condition: Callable[[], bool], within_s: float) -> bool:
    """Whether ``condition`` becomes true within ``within_s`` seconds (polled)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_database_down_is_a_503_and_memory_routes_keep_answering(
    engine: Engine, database_url: str, link: CuttableLink
) -> None:
    linked = make_url(database_url).set(host="127.0.0.1", port=link.port)
    settings = ApiSettings(tiles=TileSettings(poll_seconds=0.2))
    app = create_app(DatabaseSettings(database_url=linked.render_as_string(hide_password=False)), settings)
    with TestClient(app) as test_client:
        assert test_client.get("/status").status_code == 200
        tile = test_client.get(UNIT_TILE)
        assert tile.status_code in (200, 204)

        link.cut()
        assert test_client.get("/health").status_code == 200  # liveness needs no database
        for path in ("/status", "/units/04795", "/codes/1000-000-005"):
            error = _error(test_client.get(path), 503)
            assert error["type"] == "DatabaseUnavailable"
            assert test_client.get(path).headers["retry-after"] == "1"
        time.sleep(0.3)  # the tile cache is due to look for changes, and cannot
        assert test_client.get("/search", params={"q": "xom lac"}).status_code == 200
        assert test_client.get("/reverse", params=POINT).status_code == 200  # from memory (no address near)
        cached = test_client.get(UNIT_TILE)
        assert (cached.status_code, cached.content) == (tile.status_code, tile.content)
        _error(test_client.get("/tiles/units/12/3246/1805.mvt"), 503)  # not cached: needs the database

        link.restore()
        assert _until(lambda: test_client.get("/status").status_code == 200, within_s=15)
        assert test_client.get("/reverse", params=POINT).status_code == 200


# --- a real server: pool exhaustion, bodies, protocol errors ------------------------------------------

TINY_POOL = {
    "DIACHISO_POOL_SIZE": "1",
    "DIACHISO_POOL_TIMEOUT": "1",
    "DIACHISO_TILE_THREADS": "1",
    "DIACHISO_GEOCODE_BATCH_JOBS": "1",
}


@pytest.fixture(scope="module")
def server(engine: Engine, database_url: str) -> Iterator[str]:
    """``diachiso serve`` on the test database with a tiny pool (one request slot)."""
    with live_server(database_url, TINY_POOL) as base:
        yield base


def _timed_get(url: str) -> tuple[int, float, httpx.Headers, bytes]:
    started = time.monotonic()
    response = httpx.get(url, timeout=30)
    return response.status_code, time.monotonic() - started, response.headers, response.content


def test_an_exhausted_pool_answers_503_at_once_and_recovers(server: str, engine: Engine) -> None:
    with engine.connect() as blocker, concurrent.futures.ThreadPoolExecutor(8) as clients:
        # every database request of the server now waits on this lock: the slot stays taken
        blocker.execute(text("LOCK TABLE admin_unit IN ACCESS EXCLUSIVE MODE"))
        held = clients.submit(_timed_get, server + "/status")
        time.sleep(0.5)
        refused = [clients.submit(_timed_get, server + "/status") for _ in range(6)]
        answers = [future.result(timeout=25) for future in refused]
        memory = httpx.get(server + "/search", params={"q": "xom lac"}, timeout=10)
        blocker.rollback()
        assert held.result(timeout=25)[0] == 200
    for status, seconds, headers, body in answers:
        assert status == 503, body
        assert headers["retry-after"] == "1"
        assert headers["content-type"].startswith("application/json")
        assert seconds < 5, "the refusal waited for the pool instead of answering at once"
    assert memory.status_code == 200  # routes without the database are not held up
    after = [httpx.get(server + "/status", timeout=10).status_code for _ in range(5)]
    assert after == [200] * 5


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _chunked(size: int, first: bytes = b"", piece: int = 64 * 1024) -> Iterator[bytes]:
    """A chunked body: ``first``, then ``size`` bytes more (no end marker: the server must stop first)."""
    if first:
        yield _chunk(first)
    sent = 0
    while sent < size:
        yield _chunk(b"x" * piece)
        sent += piece
        time.sleep(0.005)


def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(server: str, staff_token: str) -> None:
    head = (
        b"POST /addresses HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + staff_token.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    answer = raw_exchange(server, head, _chunked(64 * 1024 * 1024))
    assert answer.status == 413
    assert answer.headers["content-type"] == "application/json"
    assert b'"parameter": "body"' in answer.body


def test_the_batch_upload_is_refused_at_the_limit_as_it_streams(engine: Engine, database_url: str) -> None:
    with live_server(database_url, {"DIACHISO_GEOCODE_BATCH_MAX_MB": "1"}) as base:
        head = (
            b"POST /batch HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: multipart/form-data; boundary=xyz\r\n\r\n"
        )
        part = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\ndia_chi\n'
        answer = raw_exchange(base, head, _chunked(512 * 1024 * 1024, first=part))
    assert answer.status == 413


def test_an_edit_without_credentials_is_refused_before_its_body(server: str) -> None:
    # the body is announced and never sent: only a check made on the headers can answer
    for method, path in [
        ("POST", "/addresses"),
        ("PATCH", "/addresses/1000000005"),
        ("POST", "/addresses/merge"),
    ]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
        answer = raw_exchange(server, head, timeout_s=10)
        assert answer.status == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_second_batch_job_is_refused_while_the_only_slot_is_taken(server: str) -> None:
    head = (
        b"POST /batch HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: multipart/form-data; boundary=xyz\r\n\r\n"
    )
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as first:
        first.sendall(head + b"5\r\n--xyz\r\n")  # a job has started reading its upload, slowly
        time.sleep(0.5)
        second = httpx.post(server + "/batch", files={"file": ("a.csv", b"dia_chi\nxom lac\n")}, timeout=10)
        error = _error(second, 503)
        assert "CSV" in error["message"]
        assert int(second.headers["retry-after"]) > 0
    # the first client went away: its slot is free again
    assert _until(
        lambda: (
            httpx.post(
                server + "/batch",
                data={"column": "dia_chi"},
                files={"file": ("a.csv", b"dia_chi\nxom lac\n")},
            ).status_code
            == 200
        ),
        within_s=10,
    )


@pytest.mark.parametrize(
    ("request_line", "statuses"),
    [
        # over-long request line, over-large header: refused by the parser or by the app's limits
        (b"GET /search?q=" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", (400, 414)),
        (b"GET /parse HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n", (400, 431)),
        (b"GET /search?q=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", (400,)),  # bytes that are not ASCII
        (b"GET /parse HTTP/1.1\r\nHost: x\r\nX-Bad\x00: 1\r\n\r\n", (400,)),  # a NUL in a header name
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", (400,)),  # TLS spoken to plain HTTP
    ],
)
def test_protocol_errors_answer_the_json_shape(
    server: str, request_line: bytes, statuses: tuple[int, ...]
) -> None:
    answer = raw_exchange(server, request_line, timeout_s=10)
    assert answer.status in statuses
    assert answer.headers["content-type"] == "application/json"
    assert json.loads(answer.body)["error"]["status"] == answer.status


def test_an_over_long_request_target_is_a_414(client: TestClient) -> None:
    _error(client.get("/parse", params={"q": "a" * 9000}), 414, "path")


def test_many_header_fields_on_the_real_server_are_a_431(server: str) -> None:
    fields = b"".join(b"X-Probe-%d: 1\r\n" % i for i in range(150))
    answer = raw_exchange(server, b"GET /parse?q=x HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n", timeout_s=10)
    assert answer.status == 431
    assert answer.headers["content-type"] == "application/json"
