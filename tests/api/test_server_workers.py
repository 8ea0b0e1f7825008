"""``diachiso serve``'s uvicorn: workers that start on a loaded machine, asyncio's event loop.

uvicorn's supervisor pings each worker and kills one that does not answer within
``timeout_worker_healthcheck``. A worker answers only once it has unpickled its configuration,
which imports :mod:`api.server` (the HTTP protocol class). When that import pulled in the whole
app (FastAPI, the geocoder, Dask...), it took over 5 s on a busy machine, and uvicorn's default
of 5 s killed every worker as it started, forever.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from api.server import server_options
from api.settings import ServerSettings
from tests.api.live import ROOT, live_server

HEAVY = ("fastapi", "starlette", "pydantic", "sqlalchemy", "geocoder", "addresses", "api.errors", "api.deps")


def test_the_server_module_imports_nothing_of_the_app() -> None:
    """A fresh interpreter importing api.server loads none of the app's heavy modules."""
    code = "import api.server, json, sys; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, check=True).stdout
    )
    heavy = [name for name in loaded if name.split(".")[0] in HEAVY or name in HEAVY]
    assert heavy == [], f"api.server pulls in {heavy[:10]}"


def test_the_worker_timeout_reaches_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    """DIACHISO_SERVER_WORKER_TIMEOUT_S is the supervisor's health-check time-out, 60 s by default."""
    assert server_options(ServerSettings())["timeout_worker_healthcheck"] == 60
    monkeypatch.setenv("DIACHISO_SERVER_WORKER_TIMEOUT_S", "120")
    assert server_options(ServerSettings())["timeout_worker_healthcheck"] == 120


def test_a_timeout_too_short_to_start_a_worker_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below 5 s (uvicorn's own default) the setting is refused, naming the variable."""
    monkeypatch.setenv("DIACHISO_SERVER_WORKER_TIMEOUT_S", "1")
    with pytest.raises(ValueError, match="worker_timeout_s"):
        ServerSettings()


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` that run the app (multiprocessing spawned them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            command = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if parent == pid and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


def _server_pid(port: int) -> int:
    """The ``diachiso serve`` process listening on ``port``."""
    wanted = f"--port\0{port}\0".encode()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and wanted in (entry / "cmdline").read_bytes():
                return int(entry.name)
        except OSError:
            continue
    raise AssertionError(f"no server process on port {port}")


def test_every_worker_runs_on_asyncio_loop_not_uvloop(engine: Engine, database_url: str) -> None:
    del engine  # the migrated database with the bundled data, for the workers to load
    with live_server(database_url, workers=2) as base:
        assert httpx.get(base + "/parse", params={"q": "xom lac"}, timeout=30).status_code == 200
        workers = _children(_server_pid(int(base.rpartition(":")[2])))
        assert len(workers) == 2
        for pid in workers:
            uvloop_mapped = "/uvloop/" in Path(f"/proc/{pid}/maps").read_text()
            assert not uvloop_mapped, f"worker {pid} loaded uvloop"
