"""Memory per server worker with the index's address arrays shared (memory-mapped) or each worker's own.

Run: ``.venv/bin/python benchmarks/bench_index_memory.py [--addresses 1000000] [--keep]``.
It builds a scratch database (``diachiso_bench_memory``: the bundled data and
``diachiso synth``'s ``--addresses`` generated addresses; ``--keep`` leaves it for the next
run, which then reuses it), then starts ``diachiso serve`` on it with 1 and 2 workers, the
address arrays shared (``DIACHISO_GEOCODE_SHARE_INDEX=true``, the default: written once
into memory-mapped files every worker maps) and not (``false``: every worker reads its own
copy, as before). For every worker (told apart by the pid ``/status`` reports) it reads
``/proc/<pid>/smaps_rollup`` once the server is idle: RSS (every resident
page, shared ones counted in each process), USS (pages only this process holds: what a
worker adds) and PSS (shared pages divided among the processes sharing them), and
prints the time until the server answered. A shared run starts once with the files
missing ("cold": the first worker builds them) and once with them there ("warm").
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, make_url, select

from addresses.db import make_engine
from addresses.schema import address
from benchmarks.common import DATA, drop_database, fresh_database, load_bundled, server_url
from importers import synth
from tests.api.live import live_server

BENCH_DB = "diachiso_bench_memory"
MB = 1024 * 1024


@dataclass
class Sample:
    """Memory of one worker process."""

    case: str
    workers: int
    pid: int
    rss: int
    uss: int
    pss: int
    start_s: float


def database(addresses: int) -> str:
    """The scratch database with ``addresses`` generated addresses (reused when it has them)."""
    url = make_url(server_url()).set(database=BENCH_DB).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(address)).scalar_one() == addresses:
                return url
    except Exception:  # missing or empty: build it
        pass
    finally:
        engine.dispose()
    url = fresh_database(BENCH_DB)
    engine = make_engine(url)
    try:
        load_bundled(engine)
        with engine.begin() as conn:
            synth.load(conn, synth.generate(DATA, addresses, seed=2025), name=f"synth-bench-{addresses}")
    finally:
        engine.dispose()
    return url


def worker_pids(base: str, workers: int, timeout_s: float = 60) -> set[int]:
    """The pids of the server's workers, from /status (new connections until each answered)."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while len(seen) < workers and time.monotonic() < deadline:
        seen.add(int(httpx.get(base + "/status", timeout=30).json()["index"]["pid"]))
    return seen


def rollup(pid: int) -> tuple[int, int, int]:
    """RSS, USS (private clean + dirty) and PSS of a process, bytes, from ``/proc/<pid>/smaps_rollup``."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_unit = line.split()
        fields[name.rstrip(":")] = int(value) * 1024
    return fields["Rss"], fields["Private_Clean"] + fields["Private_Dirty"], fields["Pss"]


def measure(url: str, case: str, workers: int, env: dict[str, str | None]) -> list[Sample]:
    """Start the server, wait until idle, read each worker's memory."""
    started = time.monotonic()
    with live_server(url, env, workers=workers) as base:
        start_s = time.monotonic() - started
        pids = worker_pids(base, workers)
        time.sleep(5)  # idle: the start's temporary memory given back where it can be
        samples = []
        for pid in sorted(pids):
            rss, uss, pss = rollup(pid)
            samples.append(Sample(case, workers, pid, rss, uss, pss, start_s))
    return samples


def table(samples: list[Sample]) -> str:
    """Markdown table: one row per worker, then the totals of each run."""
    lines = [
        "| arrays | workers | worker | RSS MB | USS MB | PSS MB | server ready after s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for i, x in enumerate(samples, 1):
        lines.append(
            f"| {x.case} | {x.workers} | {i} | {x.rss / MB:,.0f} | {x.uss / MB:,.0f} | {x.pss / MB:,.0f} | "
            f"{x.start_s:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Build the database, measure each case, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database for the next run")
    args = parser.parse_args()
    url = database(args.addresses)
    samples: list[Sample] = []
    folder = Path(tempfile.mkdtemp(prefix="diachiso-index-"))
    try:
        shared = {"DIACHISO_GEOCODE_SHARE_INDEX": "true", "DIACHISO_GEOCODE_INDEX_DIR": str(folder)}
        own: dict[str, str | None] = {"DIACHISO_GEOCODE_SHARE_INDEX": "false"}
        for workers in (1, 2):
            samples += measure(url, "own copy (before)", workers, own)
            shutil.rmtree(folder, ignore_errors=True)
            samples += measure(url, "shared, cold", workers, dict(shared))
            samples += measure(url, "shared, warm", workers, dict(shared))
            print(table(samples), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if not args.keep:
            drop_database(url)
    print(f"\n{args.addresses:,} generated addresses and the bundled data")
    print(table(samples))


if __name__ == "__main__":
    main()
