"""Concurrent edits of one address through real server workers: one winner per version, no lost update."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tests.accounts import create_account, create_token, remove_rows_after, row_marks
from tests.addresses.test_editing import _communes
from tests.api.live import live_server

CLIENTS = 50


@pytest.fixture(scope="module", autouse=True)
def _cleanup(engine: Engine) -> Iterator[None]:
    """Remove what the module's edits committed (other tests of the session count rows)."""
    marks = row_marks(engine)
    yield
    remove_rows_after(engine, marks)


def _polite(send: Any) -> httpx.Response:
    """Send a request again after Retry-After while the server answers 503 (busy), as clients should."""
    for _attempt in range(100):
        answer: httpx.Response = send()
        if answer.status_code != 503:
            return answer
        time.sleep(float(answer.headers.get("retry-after", "1")) * random.uniform(0.2, 1.0))
    return answer


def _edit_until_it_wins(
    base: str, path: str, headers: dict[str, str], mark: str, out: dict[str, Any]
) -> None:
    """Read the address, append this client's mark to its alley, send it; on 409 read again and retry."""
    conflicts = 0
    with httpx.Client(base_url=base, timeout=60) as client:
        for _attempt in range(500):
            current = _polite(lambda: client.get(path))
            version = current.headers["etag"]
            alley = current.json()["properties"]["alley"] or ""
            body = {"properties": {"alley": f"{alley} {mark}".strip()}, "comment": mark}
            sent = {**headers, "If-Match": version}
            answer = _polite(lambda body=body, sent=sent: client.patch(path, json=body, headers=sent))
            if answer.status_code == 200:
                out[mark] = (int(answer.headers["etag"].strip('"')), conflicts)
                return
            assert answer.status_code == 409, answer.text
            assert answer.json()["current"]["properties"]["version"] >= int(version.strip('"'))
            conflicts += 1
    out[mark] = (None, conflicts)


def test_fifty_concurrent_edits_through_two_workers_lose_nothing(engine: Engine, database_url: str) -> None:
    name = f"racer-{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        home = _communes(conn, 1)[0]
        create_account(conn, username=name, role="admin")
        headers = {"Authorization": f"Bearer {create_token(conn, username=name, role='admin')}"}
    with live_server(database_url, workers=2) as base:
        body = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [home.lon - 0.001, home.lat + 0.001]},
            "properties": {"house_number": "99"},
        }
        made = httpx.post(base + "/addresses", json=body, headers=headers, timeout=60)
        assert made.status_code == 201, made.text
        path = f"/addresses/{made.json()['id']}"
        results: dict[str, Any] = {}
        threads = [
            threading.Thread(target=_edit_until_it_wins, args=(base, path, headers, f"m{i}", results))
            for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        final = httpx.get(base + path, timeout=60).json()["properties"]
        history = httpx.get(base + path + "/history", timeout=60).json()["versions"]
    assert len(results) == CLIENTS, "a client thread failed (see the warnings)"
    won = sorted(version for version, _ in results.values())
    assert won == list(range(2, CLIENTS + 2))  # each version won by exactly one client
    assert sum(conflicts for _, conflicts in results.values()) > 0  # they did race
    assert sorted(final["alley"].split()) == sorted(results)  # every client's mark kept: no lost update
    assert final["version"] == CLIENTS + 1
    assert [v["version"] for v in history] == list(range(1, CLIENTS + 2))
    assert sorted(v["comment"] for v in history[1:]) == sorted(results)
