"""Two real server workers map one copy of the index's address arrays, and an edit still shows.

``diachiso serve --workers 2`` with the shared index folder in a temporary directory:
both workers (told apart by the pid /status reports) name the same folder as their
index's source, both processes map its files (``/proc/<pid>/maps``), and after a new
address is registered both workers find it by its registry code once their refresher
has rebuilt, from a new folder (the old one removed).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, delete

from addresses import changes
from addresses.schema import address, address_history
from tests.api.live import live_server
from tests.records import new_address

pytestmark = pytest.mark.db

WAIT_S = 60.0


@pytest.fixture(scope="module")
def shared(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """A two-worker server sharing its index in a temporary folder; (base URL, folder).

    ``engine`` loads the test database first.
    """
    folder = tmp_path_factory.mktemp("index")
    env = {"DIACHISO_GEOCODE_INDEX_DIR": str(folder), "DIACHISO_GEOCODE_CHECK_EVERY_S": "1"}
    with live_server(database_url, env, workers=2) as base:
        yield base, folder


def _statuses(base: str, predicate: Any = None) -> dict[int, dict[str, Any]]:
    """The index status of both workers (new connections until both answered, and ``predicate`` holds)."""
    seen: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        index = httpx.get(base + "/status", timeout=10).json()["index"]
        if predicate is None or predicate(index):
            seen[index["pid"]] = index
        if len(seen) == 2:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"not both workers answered within {WAIT_S} s: {seen}")


def _mapped_files(pid: int, folder: Path) -> set[str]:
    """The files of ``folder`` the process maps."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split()[-1] for line in lines if str(folder) in line}


def test_both_workers_map_the_same_files(shared: tuple[str, Path]) -> None:
    base, folder = shared
    statuses = _statuses(base)
    sources = {status["source"] for status in statuses.values()}
    assert len(sources) == 1, sources
    source = Path(sources.pop())
    assert source.parent.parent == folder
    assert (source / "lon.npy").is_file()
    for pid in statuses:
        mapped = _mapped_files(pid, folder)
        assert str(source / "lon.npy") in mapped, (pid, mapped)
        assert str(source / "registry.npy") in mapped


def test_an_edit_shows_in_both_workers_after_the_refresh(shared: tuple[str, Path], engine: Engine) -> None:
    base = shared[0]
    before = {status["source"] for status in _statuses(base).values()}
    with engine.begin() as conn:
        record = new_address(conn, 105.0717, 20.6512, house_number="77", village_name="Xóm Lác")
    try:
        code = record.registry_code
        statuses = _statuses(base, lambda index: index["source"] not in before)
        after = {status["source"] for status in statuses.values()}
        assert len(after) == 1, after  # both rebuilt from the one new folder
        assert not any(Path(old).exists() for old in before)  # the old arrays were removed
        for _ in range(20):  # new connections reach both workers
            features = httpx.get(base + "/search", params={"q": code, "limit": 1}, timeout=10).json()[
                "features"
            ]
            assert features, code
            assert features[0]["properties"]["diachiso"]["registry_code"] == code
    finally:
        with engine.begin() as conn:
            changes.record_rows(conn, table=address, where=address.c.id == record.id)
            conn.execute(delete(address_history).where(address_history.c.address_id == record.id))
            conn.execute(delete(address).where(address.c.id == record.id))
