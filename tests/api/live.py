"""Real servers for robustness tests: ``diachiso serve`` in a subprocess, a TCP link to cut, raw HTTP.

Everything listens on 127.0.0.1 only, and everything started is stopped.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(
    database_url: str,
    env: Mapping[str, str | None] | None = None,
    *,
    workers: int = 1,
    code: Path = ROOT,
    ready_timeout_s: float = 180,
) -> Iterator[str]:
    """``diachiso serve`` (the code of ``code``) on the database; yields its base URL; stopped afterwards.

    ``env`` adds variables to the server's environment; a value of None removes one.
    ``ready_timeout_s``: how long the workers may take to start (to load the index).
    """
    port = free_port()
    command = [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    merged = {**os.environ, "DIACHISO_DATABASE_URL": database_url, **(env or {})}
    environment = {name: value for name, value in merged.items() if value is not None}
    process = subprocess.Popen(
        command,
        cwd=code,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, ready_timeout_s)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # hung workers (the code before issue 9 hangs under load)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    """Wait until the server answers /parse (no database needed), or fail."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/parse", params={"q": "xom lac"}, timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError("the server did not become ready")


@dataclass(frozen=True)
class RawAnswer:
    """The answer to a raw request: status, lower-case headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes


def parse_answer(data: bytes) -> RawAnswer:
    """Split an HTTP/1.1 answer (a Content-Length body) into status, headers and body."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawAnswer(int(lines[0].split()[1]), headers, body)


def _complete(data: bytes) -> bool:
    """Whether ``data`` holds a whole answer with a Content-Length body."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return len(body) >= int(value)
    return False


def raw_exchange(base: str, head: bytes, chunks: Iterable[bytes] = (), timeout_s: float = 20) -> RawAnswer:
    """Send a request head, then body chunks until the server answers; return the answer.

    The body is sent piece by piece and stops as soon as an answer arrives (a server
    that refuses a body mid-way answers before the client has sent it all).
    """
    host, port = base.removeprefix("http://").split(":")
    deadline = time.monotonic() + timeout_s
    received = b""
    with socket.create_connection((host, int(port)), timeout=timeout_s) as sock:
        sock.sendall(head)
        for chunk in chunks:
            if select.select([sock], [], [], 0.01)[0]:
                break
            try:
                sock.sendall(chunk)
            except OSError:  # the server answered and closed: read what it said
                break
        while not _complete(received) and time.monotonic() < deadline:
            if not select.select([sock], [], [], max(deadline - time.monotonic(), 0))[0]:
                break
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    if not received:
        raise TimeoutError(f"no answer within {timeout_s} s")
    return parse_answer(received)


class CuttableLink:
    """A TCP relay from a local port to the database server, which the test can cut and restore.

    Cut, it closes every relayed connection and refuses new ones, as a stopped server
    does; restored, it relays again on the same port.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        """Relay 127.0.0.1:<port> to ``target_host:target_port`` (restore() starts it)."""
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def restore(self) -> None:
        """Listen and relay again."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and close every relayed connection."""
        with self._lock:
            if self._listener is not None:
                with contextlib.suppress(OSError):  # wakes the accepting thread (Linux)
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
