"""The web layer as glue: one application state, the error table behind every answer, a bounded batch pool."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from addresses.errors import BusyError, DiachisoError
from addresses.settings import DatabaseSettings
from api.app import create_app
from api.deps import BATCH_RETRY_AFTER_S, AppState, app_state_of, set_app_state
from api.errors import STATUS_CODES
from api.responses import STATUS_MEANINGS
from api.settings import ApiSettings, GeocodeSettings
from geocoder.batch_stream import BatchPool
from tests.api.live import live_server

UNUSED_DATABASE = DatabaseSettings(database_url="postgresql://unused@127.0.0.1/unused")

# --- one application state ---------------------------------------------------------------------------


def test_the_state_is_set_once_by_the_lifespan_and_holds_the_settings_given(
    engine: Engine, database_url: str
) -> None:
    settings = ApiSettings(max_limit=7, geocode=GeocodeSettings(batch_jobs=3))
    app = create_app(DatabaseSettings(database_url=database_url), settings)
    with pytest.raises(RuntimeError, match="not started"):
        app_state_of(app)
    with TestClient(app) as client:
        state = app_state_of(app)
        assert isinstance(state, AppState)
        assert state.settings is settings
        assert state.batches.size == 3
        with pytest.raises(dataclasses.FrozenInstanceError):
            state.settings = ApiSettings()  # type: ignore[misc]
        with pytest.raises(RuntimeError, match="set already"):
            set_app_state(app, state)
        # the routes read the same state: the settings' page limit, the state's index
        refused = client.get("/units", params={"limit": 8})
        assert refused.status_code == 400
        assert "between 1 and 7" in refused.json()["error"]["message"]
        assert client.get("/units", params={"limit": 7}).status_code == 200
    with pytest.raises(RuntimeError, match="not started"):
        app_state_of(app)


def test_a_route_of_an_app_not_started_is_a_500_in_the_error_shape() -> None:
    app = create_app(UNUSED_DATABASE, ApiSettings())
    answer = TestClient(app, raise_server_exceptions=False).get("/tiles/units/8/202/112.mvt")
    assert answer.status_code == 500
    assert answer.json()["error"]["type"] == "InternalError"


# --- every answer through the one error table ----------------------------------------------------------


class UnmappedDomainError(DiachisoError):
    """A domain error no entry of the table names (it falls back on DiachisoError: 500)."""


@pytest.fixture
def failing_app() -> FastAPI:
    """An app with two routes that fail as a bug would: a plain exception and an unmapped domain error."""
    app = create_app(UNUSED_DATABASE, ApiSettings())

    def bug() -> None:
        raise KeyError("a key the code forgot")

    def unmapped() -> None:
        raise UnmappedDomainError("a domain error without its own entry")

    app.add_api_route("/bug", bug)
    app.add_api_route("/unmapped", unmapped)
    return app


def test_an_unexpected_error_is_a_500_in_the_error_shape_and_hides_its_internals(
    failing_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(failing_app, raise_server_exceptions=False)
    answer = client.get("/bug")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "error": {
            "status": 500,
            "type": "InternalError",
            "message": "an internal error happened; it has been logged",
            "parameter": None,
        }
    }
    assert "forgot" not in answer.text
    assert any(record.exc_info for record in caplog.records), "the bug is logged with its traceback"
    unmapped = client.get("/unmapped")
    assert unmapped.status_code == 500
    assert unmapped.json()["error"]["type"] == "UnmappedDomainError"


def _documented_statuses(spec: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """(operation, status) of every error answer the OpenAPI document lists."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in operation["responses"]:
                if str(status).startswith(("4", "5")):
                    yield f"{method.upper()} {path}", int(status)


def test_every_documented_error_status_is_one_the_table_answers() -> None:
    spec = create_app(UNUSED_DATABASE, ApiSettings()).openapi()
    documented = list(_documented_statuses(spec))
    answered = set(STATUS_CODES.values())
    assert answered <= set(STATUS_MEANINGS), "every status of the table says what it means"
    assert len(documented) > 100
    assert [(operation, status) for operation, status in documented if status not in answered] == []
    assert {status for _operation, status in documented} >= {400, 401, 404, 409, 410, 413, 422, 428, 500, 503}
    batch = spec["paths"]["/batch"]["post"]["responses"]
    assert "batch slot" in batch["503"]["description"]
    assert batch["413"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }


# --- the bounded batch pool ----------------------------------------------------------------------------


def test_a_full_pool_refuses_at_once_and_takes_a_job_again_once_a_slot_is_free() -> None:
    pool = BatchPool(2, retry_after_s=5)
    try:
        pool.reserve()
        pool.reserve()
        with pytest.raises(BusyError, match="2 CSV file") as refused:
            pool.reserve()
        assert refused.value.retry_after_s == 5
        pool.release()
        pool.reserve()
    finally:
        pool.close()


PADDING = "x" * 2000
"""A wide column copied into the answer: a few thousand rows make megabytes the client leaves unread."""
BATCH_ROWS = 6000


def _big_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["ma", "dia_chi", "ghi_chu"])
    writer.writerows([str(i), "xom lac, mai chau", PADDING] for i in range(BATCH_ROWS))
    return out.getvalue().encode()


def _post(client: httpx.Client, content: bytes) -> httpx.Request:
    files = {"file": ("big.csv", content, "text/csv")}
    return client.build_request("POST", "/batch", files=files, data={"column": "dia_chi"})


def _until_taken(client: httpx.Client, content: bytes, within_s: float = 30) -> httpx.Response:
    """Post the file until it is not refused (a finished job gives its slot back just after its last row)."""
    deadline = time.monotonic() + within_s
    while (answer := client.send(_post(client, content))).status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.1)
    return answer


@pytest.fixture(scope="module")
def two_slot_server(engine: Engine, database_url: str) -> Iterator[str]:
    """``diachiso serve`` whose worker geocodes two CSV files at once."""
    with live_server(database_url, {"DIACHISO_GEOCODE_BATCH_JOBS": "2"}) as base:
        yield base


def test_one_batch_more_than_the_pool_holds_is_a_503_with_retry_after(two_slot_server: str) -> None:
    content = _big_csv()
    with httpx.Client(base_url=two_slot_server, timeout=120) as client, contextlib.ExitStack() as held:
        # two batches stream back, their answers left unread: each job waits on its client, holding its slot
        running = [client.send(_post(client, content), stream=True) for _ in "ab"]
        for response in running:
            held.callback(response.close)
        assert [response.status_code for response in running] == [200, 200]
        refused = client.send(_post(client, content))
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == str(BATCH_RETRY_AFTER_S)
        error = refused.json()["error"]
        assert (error["status"], error["type"]) == (503, "BusyError")
        assert "2 CSV file(s)" in error["message"]
        for response in running:
            rows = list(csv.DictReader(io.StringIO(response.read().decode())))
            assert len(rows) == BATCH_ROWS
            assert rows[-1]["ma"] == str(BATCH_ROWS - 1)
            assert rows[0]["ghi_chu"] == PADDING
        again = _until_taken(client, content)
    assert again.status_code == 200
    assert len(list(csv.DictReader(io.StringIO(again.text)))) == BATCH_ROWS
