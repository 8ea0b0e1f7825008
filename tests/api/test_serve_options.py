"""``diachiso serve``'s uvicorn: workers that start on a loaded machine, asyncio's event loop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import Engine

from tests.api.live import ROOT, live_server

HEAVY = ("fastapi", "starlette", "sqlalchemy", "geocoder", "api.app", "api.errors")


def test_the_module_a_worker_unpickles_before_its_health_check_imports_nothing_heavy() -> None:
    code = f"import sys, api.server; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == ""


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
