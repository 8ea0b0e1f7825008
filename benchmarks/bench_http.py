"""HTTP load test of /search and /reverse with the production recipe, measured with wrk.

Run: ``.venv/bin/python benchmarks/bench_http.py [--workers 1 2] [--seconds 15]`` (needs
Debian's ``wrk``). For each worker count it starts ``diachiso serve --workers N`` on a
free 127.0.0.1 port against the configured database, then lets wrk (2 threads, 32
connections) cycle through real queries: the forward queries and reverse points of the
development set. Only loopback traffic; every server started is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "data" / "hoabinh" / "geocoding_dev_queries.jsonl"
LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


@dataclass(frozen=True)
class Load:
    """What wrk measured for one endpoint and worker count."""

    endpoint: str
    workers: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def paths(endpoint: str) -> list[str]:
    """Request paths from the development set: forward queries or reverse points."""
    rows = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines()]
    if endpoint == "reverse":
        return [f"/reverse?lon={r['lon']}&lat={r['lat']}" for r in rows if r["kind"] == "reverse"]
    return [f"/search?limit=5&q={urllib.parse.quote(r['query'])}" for r in rows if r["kind"] != "reverse"]


@contextmanager
def server(workers: int) -> Iterator[str]:
    """``diachiso serve`` with N workers; yields its base URL; stops it afterwards."""
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from api.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    """Poll /health until the server answers (the geocoder index loads at start-up)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the server did not become ready")


def wrk(base: str, endpoint: str, seconds: int, folder: Path) -> tuple[float, float, float, int]:
    """Run wrk on one endpoint; return requests/s, p50 ms, p99 ms and errors."""
    listing = folder / f"{endpoint}.txt"
    listing.write_text("\n".join(paths(endpoint)) + "\n", encoding="utf-8")
    script = folder / f"{endpoint}.lua"
    script.write_text(LUA % listing, encoding="utf-8")
    args = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(script), base]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    return parse_wrk(out)


def _ms(value: str) -> float:
    """A wrk duration ("850.12us", "3.20ms", "1.05s") in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out: str) -> tuple[float, float, float, int]:
    """Requests/s, p50, p99 and non-2xx/socket errors from wrk's --latency output."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return rate, p50, p99, errors


def table(loads: list[Load]) -> str:
    """Markdown table with the speed-up of each worker count over one worker."""
    single = {x.endpoint: x.requests_per_s for x in loads if x.workers == 1}
    lines = [
        "| endpoint | workers | requests/s | p50 ms | p99 ms | errors | vs 1 worker |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for x in loads:
        ratio = f"{x.requests_per_s / single[x.endpoint]:.2f}x" if x.endpoint in single else "-"
        lines.append(
            f"| /{x.endpoint} | {x.workers} | {x.requests_per_s:,.0f} | {x.p50_ms:.2f} | "
            f"{x.p99_ms:.2f} | {x.errors} | {ratio} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Start the server per worker count, load each endpoint, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    loads: list[Load] = []
    with tempfile.TemporaryDirectory() as folder:
        for workers in args.workers:
            with server(workers) as base:
                for endpoint in ("search", "reverse"):
                    rate, p50, p99, errors = wrk(base, endpoint, args.seconds, Path(folder))
                    loads.append(Load(endpoint, workers, rate, p50, p99, errors))
    print(table(loads))


if __name__ == "__main__":
    main()
