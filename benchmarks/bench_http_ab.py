"""Two (or more) servers loaded in turn by wrk, round after round: side-by-side rates on a shared machine.

Run: ``.venv/bin/python -m benchmarks.bench_http_ab --variant old /work/main --variant new .
[--answer-cache 0] [--connections 10 50 200] [--endpoints tile search autocomplete] [--seconds 5]
[--rounds 3] [--mixed 50]``.

:mod:`benchmarks.bench_http` measures one server; on a machine that others share, two such
runs minutes apart are not comparable. Here every variant (a checkout's code, with extra
environment variables: ``--variant NAME PATH [VAR=VALUE ...]``) runs at once on one scratch
database (the one of ``bench_http``), each with ``--workers`` workers, and wrk loads them one
after the other, endpoint by endpoint, the order of the variants turned round every round;
each endpoint is first warmed ``--warm`` seconds on every variant (uncounted). It prints each
run, then the median rate of every (connections, endpoint, variant), its ratio to the same
variant's tile median at those connections (``x tile``) and to the first variant's (``x first``).
``--mixed N``: also a mixed load, wrk on the cached tile (10 connections) while another wrk runs
/search with N connections: the tile's rate beside searches, and the searches'. Beside the
rates, each server's CPU per answer (every process and thread, from ``/proc``) and its waits per
answer (voluntary context switches of every thread: a wait for the GIL, a hand-off between
threads, an idle ``epoll``); both move less with the machine's other load than the rates do.
``--keep`` keeps the scratch database, ``--database URL`` uses a kept one (no build, no drop).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from addresses.db import make_engine
from benchmarks.bench_http import (
    ENDPOINTS,
    Load,
    WrkOptions,
    get_paths,
    scratch_database,
    script,
    server,
    wrk,
)
from tests import databases


@dataclass(frozen=True)
class Variant:
    """A server to compare: its name, its code's folder, extra environment variables."""

    name: str
    code: Path
    env: dict[str, str]


def variants(given: list[list[str]]) -> list[Variant]:
    """``--variant NAME PATH [VAR=VALUE ...]`` options read.

    >>> variants([["old", "/work/main"], ["new", ".", "A=1"]])[1]
    Variant(name='new', code=PosixPath('.'), env={'A': '1'})
    """
    out = []
    for name, code, *pairs in given:
        env = dict(pair.split("=", 1) for pair in pairs)
        out.append(Variant(name, Path(code), env))
    return out


def turned(items: list[Variant], by: int) -> list[Variant]:
    """The list turned round ``by`` places (each round starts with another variant).

    >>> [v.name for v in turned(variants([["a", "."], ["b", "."], ["c", "."]]), 4)]
    ['b', 'c', 'a']
    """
    k = by % len(items)
    return items[k:] + items[:k]


def mixed(base: str, luas: dict[str, Path], connections: int, seconds: int) -> tuple[Load, Load]:
    """wrk on the tile (10 connections) while another wrk runs /search with ``connections``."""
    results: dict[str, Load] = {}

    def run(endpoint: str, options: WrkOptions) -> None:
        results[endpoint] = wrk(base, endpoint, luas[endpoint], options)

    searches = threading.Thread(target=run, args=("search", WrkOptions(2, connections, seconds, 5)))
    searches.start()
    run("tile", WrkOptions(1, 10, seconds, 5))
    searches.join()
    return results["tile"], results["search"]


def server_pids(base: str) -> list[int]:
    """The processes holding the server's listening socket (the supervisor and its workers)."""
    port = base.rpartition(":")[2]
    out = subprocess.run(
        ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=False
    ).stdout
    return sorted({int(pid) for pid in re.findall(r"pid=(\d+)", out)})


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used so far, seconds (threads included)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def waits(pids: list[int]) -> dict[int, int]:
    """Voluntary context switches of each thread of the processes: each wait (GIL, hand-off, epoll).

    (The forced ones count the machine's other load more than the server's own work.)
    """
    counts = {}
    for pid in pids:
        for status in Path(f"/proc/{pid}/task").glob("*/status"):
            try:
                text = status.read_text()
            except OSError:  # a thread gone meanwhile
                continue
            found = re.search(r"^voluntary_ctxt_switches:\s+(\d+)", text, re.MULTILINE)
            if found:
                counts[int(status.parent.name)] = int(found.group(1))
    return counts


def waits_since(before: dict[int, int], after: dict[int, int]) -> int:
    """The waits of the threads alive at the end since ``before`` (a thread that ended meanwhile is missed).

    >>> waits_since({1: 10, 2: 5}, {1: 15, 3: 2})
    7
    """
    return sum(n - before.get(tid, 0) for tid, n in after.items())


def errors(load: Load) -> int:
    """Non-2xx answers, time-outs and socket errors of a run."""
    return load.requests - load.count(200, 300) + load.timeouts + load.socket_errors


def report(rates: dict[tuple[int, str, str], list[float]], names: list[str]) -> Iterator[str]:
    """The medians, their ratio to the variant's tile and to the first variant."""
    yield "| connections | endpoint | variant | runs (answers/s) | median | x tile | x first |"
    yield "|---:|---|---|---|---:|---:|---:|"
    for (connections, endpoint, name), values in sorted(rates.items(), key=lambda kv: kv[0]):
        median = statistics.median(values)
        tile = rates.get((connections, "tile", name))
        first = rates.get((connections, endpoint, names[0]))
        x_tile = f"{median / statistics.median(tile):.2f}" if tile else "-"
        x_first = f"{median / statistics.median(first):.2f}" if first else "-"
        shown = ",.0f" if max(values) >= 100 else ".2f"
        runs = ", ".join(f"{v:{shown}}" for v in values)
        yield f"| {connections} | {endpoint} | {name} | {runs} | {median:{shown}} | {x_tile} | {x_first} |"


def arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variant", nargs="+", action="append", required=True, metavar="NAME PATH VAR=VALUE")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument(
        "--endpoints", nargs="+", choices=ENDPOINTS[:4], default=["tile", "search", "autocomplete"]
    )
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mixed", type=int, default=0, help="search connections of the mixed load (0: none)")
    parser.add_argument("--addresses", type=int, default=20_000)
    parser.add_argument("--answer-cache", type=int, default=None)
    parser.add_argument("--database", help="the URL of a scratch database kept by an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (print its URL)")
    return parser.parse_args()


Key = tuple[int, str, str]
"""(connections, endpoint, variant)."""


@dataclass
class Bench:
    """The running servers of the variants, the wrk scripts, and what was measured."""

    bases: dict[str, str]
    luas: dict[str, Path]
    seconds: int
    pids: dict[str, list[int]] = field(default_factory=dict)
    rates: dict[Key, list[float]] = field(default_factory=dict)
    cpus: dict[Key, list[float]] = field(default_factory=dict)
    switches: dict[Key, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pids = {name: server_pids(base) for name, base in self.bases.items()}

    def warm(self, endpoints: list[str], seconds: int) -> None:
        """Load every endpoint of every variant ``seconds`` (uncounted)."""
        for endpoint in endpoints:
            for base in self.bases.values():
                wrk(base, endpoint, self.luas[endpoint], WrkOptions(2, 10, seconds, 5))

    def run(self, r: int, connections: int, endpoint: str, name: str) -> None:
        """One counted run: rate, server CPU and context switches per answer."""
        pids = self.pids[name]
        cpu, waited = cpu_seconds(pids), waits(pids)
        load = wrk(
            self.bases[name], endpoint, self.luas[endpoint], WrkOptions(2, connections, self.seconds, 5)
        )
        answers = max(load.requests, 1)
        cpu_us = (cpu_seconds(pids) - cpu) / answers * 1e6
        per_answer = waits_since(waited, waits(pids)) / answers
        key = (connections, endpoint, name)
        self.rates.setdefault(key, []).append(load.rate)
        self.cpus.setdefault(key, []).append(cpu_us)
        self.switches.setdefault(key, []).append(per_answer)
        print(
            f"round {r} c={connections} {endpoint} {name}: {load.rate:,.0f}/s, server CPU {cpu_us:,.0f} us "
            f"and {per_answer:.1f} waits (voluntary context switches) per answer, p50 {load.p50_ms:.1f} ms, "
            f"p99 {load.p99_ms:.1f} ms, errors {errors(load)}",
            flush=True,
        )

    def run_mixed(self, r: int, connections: int, name: str) -> None:
        """One mixed run: the tile's rate beside searches, and the searches'."""
        tile, search = mixed(self.bases[name], self.luas, connections, self.seconds)
        self.rates.setdefault((connections, "mixed tile", name), []).append(tile.rate)
        self.rates.setdefault((connections, "mixed search", name), []).append(search.rate)
        print(
            f"round {r} mixed c={connections} {name}: tile {tile.rate:,.0f}/s (p99 {tile.p99_ms:.1f} ms), "
            f"search {search.rate:,.0f}/s, errors {errors(tile) + errors(search)}",
            flush=True,
        )


def measure(args: argparse.Namespace, chosen: list[Variant], url: str, luas: dict[str, Path]) -> Bench:
    """Start every variant, warm them, then load them in turn round after round."""
    cache = {} if args.answer_cache is None else {"DIACHISO_GEOCODE_ANSWER_CACHE": str(args.answer_cache)}
    with ExitStack() as stack:
        bases = {
            v.name: stack.enter_context(server(args.workers, url, v.code, {**cache, **v.env})) for v in chosen
        }
        bench = Bench(bases, luas, args.seconds)
        print(f"server processes: {bench.pids}", flush=True)
        bench.warm(sorted(luas), args.warm)
        for r in range(args.rounds):
            for connections in args.connections:
                for endpoint in args.endpoints:
                    for v in turned(chosen, r):
                        bench.run(r, connections, endpoint, v.name)
            for v in turned(chosen, r) if args.mixed else []:
                bench.run_mixed(r, args.mixed, v.name)
    return bench


def main() -> None:
    """Build the scratch database, start every variant, load them in turn, print the medians."""
    args = arguments()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the servers stopped, the database dropped
    chosen = variants(args.variant)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = args.database or scratch_database(args.addresses, folder)[0]
        engine = make_engine(url)
        try:
            endpoints = sorted(set(args.endpoints) | ({"tile", "search"} if args.mixed else set()))
            luas = {e: script(e, folder, get_paths(e, engine), 2, "") for e in endpoints}
            bench = measure(args, chosen, url, luas)
        finally:
            engine.dispose()
            if args.keep or args.database:
                print(f"scratch database kept: {url}")
            else:
                databases.drop_database(url)
    load_avg = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    names = [v.name for v in chosen]
    print(f"\nworkers={args.workers}, {args.seconds} s per run, {args.rounds} rounds; {load_avg}")
    print("\n".join(report(bench.rates, names)))
    print("\nserver CPU per answer, us (all its processes and threads):")
    print(
        "\n".join(report(bench.cpus, names)).replace("runs (answers/s)", "runs").replace("x tile", "x tile's")
    )
    print("\nwaits (voluntary context switches) per answer (all its threads):")
    print(
        "\n".join(report(bench.switches, names))
        .replace("runs (answers/s)", "runs")
        .replace("x tile", "x tile's")
    )


if __name__ == "__main__":
    main()
