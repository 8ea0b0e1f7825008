"""A database of its own, loaded with the bundled data, for tests that write what others read.

The docs and the notebooks import files and register addresses exactly as a reader
would; they run on a fresh database beside the session's one so that no other test
sees their rows.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from addresses import migrate
from addresses.db import make_engine
from importers.bundled import import_bundled
from tests import databases

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "hoabinh"


@contextmanager
def loaded_database(name: str) -> Iterator[str]:
    """The URL of a fresh, migrated database with the bundled data, dropped afterwards."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = databases.server_url()
    url = databases.recreate_database(server, f"diachiso_{name}_{worker}_{os.getpid()}")
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        for _report in import_bundled(engine, DATA_DIR):
            pass
    finally:
        engine.dispose()
    try:
        yield url
    finally:
        databases.drop_database(url)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free 127.0.0.1 port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start under uvicorn")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
