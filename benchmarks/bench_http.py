"""HTTP load test of a cached tile, /search, /autocomplete, /reverse and an edit, side by side with wrk.

Run: ``.venv/bin/python benchmarks/bench_http.py [--workers 2] [--connections 10 50 200] [--seconds 10]``
(needs Debian's ``wrk``). It builds a scratch database (``diachiso_bench_http_<pid>``: the bundled
data and ``--addresses`` generated addresses), starts ``diachiso serve --workers N`` on a free
127.0.0.1 port against it, then, for each number of ``--connections``, lets wrk (2 threads, a
``--timeout`` per request) load each endpoint in turn, cycling through
:data:`DISTINCT` different requests (never one repeated request):

- ``tile``: the villages layer's tiles over the province at zoom 10-12 (the tile cache holds
  them all: the framework's own pace, what the others are compared with);
- ``/search``: the forward queries of the development set, then addresses of the scratch
  database written as clerks write them (:func:`benchmarks.bench_batch._written`);
- ``/autocomplete``: the same texts cut in the last word, as typed;
- ``/reverse``: the reverse points of the development set, then points within 30 m of
  addresses of the scratch database;
- ``PATCH /addresses/{code}`` (``edit``, not run by default): a real read-modify-write: each
  wrk thread edits its own share of the addresses, sending the version it last saw in
  If-Match (from the ETag of the last 200, or from the message of a 409 when another
  connection was faster).

Each endpoint is warmed first (before the first count only) by a ``--warm`` seconds wrk run
that is not counted (the tiles get built and cached; the geocoding answers fill the answer cache, see
``DIACHISO_GEOCODE_ANSWER_CACHE``, which ``--answer-cache 0`` turns off to measure the
computing itself). The table gives each endpoint's rate as a ratio to the tile's at the
same number of connections in the same run.

A Lua ``response`` hook counts the answers by status; ``done`` prints them with the
latency percentiles and wrk's socket errors (timeouts). Beside wrk, a sequential probe
client sends one request every 0.2 s, each on a new connection, and records how long each
status took to come (wrk's latencies mix the 2xx and the 503s), and ``ss`` samples the
listen socket twice a second: "most waiting to be accepted" is the longest accept queue
seen (connections established by the kernel that no worker has accepted yet; wrk opens
all its connections at once and times their first request from then). Only loopback
traffic; every server started is stopped and the scratch database is dropped.

wrk's ``--timeout`` (5 s) is the benchmark's line between a slow answer and an error, the
time after which a user of the map or of a form has given up; it stays at 5 s whatever the
machine's load, so that a time-out means a request the server left waiting too long.
Time-outs at 200 connections came from new connections left in the accept queue by
uvloop, not from slow answers (see :mod:`api.server`, which runs asyncio's loop since).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, func, select

from addresses.account_store import create_account, create_api_token
from addresses.db import make_engine
from addresses.schema import address, admin_unit
from benchmarks.bench_batch import _written, load_data
from benchmarks.scratch import bundled_database
from tests import databases
from tests.api.live import live_server

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "data" / "hoabinh" / "geocoding_dev_queries.jsonl"
BENCH_DB = "diachiso_bench_http"
ENDPOINTS = ("tile", "search", "autocomplete", "reverse", "edit")
DEFAULT_ENDPOINTS = ("tile", "search", "autocomplete", "reverse")
DISTINCT = 1000
"""Different requests each endpoint cycles through."""
PROVINCE_BOX = (104.8, 20.3, 105.9, 21.2)

COUNT_LUA = """
local threads = {}
local next_slice = 0
function setup(thread)
  thread:set("slice", next_slice)
  next_slice = next_slice + 1
  threads[#threads + 1] = thread
end
statuses = {}
local function count(status)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do io.write(string.format("STATUS %d %d\\n", status, n)) end
  io.write(string.format("SUMMARY %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status))
  io.write(string.format("LATENCY %d %d %d\\n", latency:percentile(50), latency:percentile(99), latency.max))
end
"""

GET_LUA = """
local paths = {}
function init(args)
  for line in io.lines("%(listing)s") do paths[#paths + 1] = line end
  i = slice * 7919 %% #paths
end
function request()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
function response(status, headers, body)
  count(status)
end
"""

EDIT_LUA = """
local codes, versions = {}, {}
local edits = 0
function init(args)
  local n = 0
  for line in io.lines("%(listing)s") do
    local code, version = line:match("(%%d+) (%%d+)")
    if n %% %(threads)d == slice then
      codes[#codes + 1] = code
      versions[code] = tonumber(version)
    end
    n = n + 1
  end
  i = 0
end
function request()
  i = i %% #codes + 1
  edits = edits + 1
  local code = codes[i]
  local headers = {["Content-Type"] = "application/json", ["If-Match"] = '"' .. versions[code] .. '"',
                   ["Authorization"] = "Bearer %(token)s"}
  return wrk.format("PATCH", "/addresses/" .. code, headers, '{"house_number": "' .. edits .. 'B"}')
end
function response(status, headers, body)
  count(status)
  if status == 200 then
    local code = body:match('"registry_code":"(%%d+)"')
    local etag = headers["etag"] or headers["ETag"]
    if code and etag then versions[code] = tonumber(etag:match("%%d+")) end
  elseif status == 409 then
    local a, b, c, v = body:match("address (%%d+)-(%%d+)-(%%d+) is at version (%%d+)")
    if a then versions[a .. b .. c] = tonumber(v) end
  end
end
"""


@dataclass
class Load:
    """What wrk measured for one endpoint."""

    endpoint: str
    connections: int = 0
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    timeouts: int = 0
    socket_errors: int = 0
    probe: str = "-"
    accept_queue: int = 0
    """The most connections seen waiting in the listen socket's accept queue (``ss``'s Recv-Q)."""
    answer_cache: str = "on"
    """The server's answer cache: "on", or "off" (``--answer-cache 0``: every answer computed)."""

    @property
    def rate(self) -> float:
        """Answers per second (every status)."""
        return self.requests / self.seconds if self.seconds else 0.0

    def count(self, low: int, high: int) -> int:
        """Answers with a status in [low, high)."""
        return sum(n for status, n in self.statuses.items() if low <= status < high)


class Probe:
    """One more client, sequential, beside wrk: the latency of each answer by status.

    wrk reports latency over all answers; this says how long a 503 (or a 2xx) took.
    For the edit endpoint it edits an address of its own, following its ETag.
    """

    def __init__(
        self, base: str, endpoint: str, target: tuple[str, int], paths: list[str], *, token: str
    ) -> None:
        """Probe ``endpoint`` of the server at ``base`` (``target``: the address the edit probe edits)."""
        self.base, self.endpoint, self.paths = base, endpoint, paths
        self.code, self.version = target
        self.token = token
        self.latencies: dict[int, list[float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _request(self, i: int) -> urllib.request.Request:
        if self.endpoint != "edit":
            return urllib.request.Request(self.base + self.paths[i % len(self.paths)])
        body = json.dumps({"house_number": f"{i}P"}).encode()
        headers = {
            "Content-Type": "application/json",
            "If-Match": f'"{self.version}"',
            "Authorization": f"Bearer {self.token}",
        }
        return urllib.request.Request(
            f"{self.base}/addresses/{self.code}", data=body, headers=headers, method="PATCH"
        )

    def _send(self, i: int) -> int:
        """One request; its status (0: no answer within 30 s)."""
        try:
            with urllib.request.urlopen(self._request(i), timeout=30) as answer:
                etag = answer.headers.get("ETag")
                if etag and self.endpoint == "edit":
                    self.version = int(etag.strip('"'))
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return 0

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            started = time.monotonic()
            status = self._send(i)
            self.latencies.setdefault(status, []).append((time.monotonic() - started) * 1000)
            i += 1
            self._stop.wait(0.2)

    def summary(self) -> str:
        """``status: count, max ms`` for each status the probe saw."""
        parts = [
            f"{status or 'none'}: {len(times)} (max {max(times):,.0f} ms)"
            for status, times in sorted(self.latencies.items())
        ]
        return "; ".join(parts) or "-"


class AcceptQueue:
    """The listen socket's accept queue, sampled twice a second with ``ss`` while wrk runs.

    Connections the kernel has established but no worker has accepted yet wait there; wrk
    times their first request from the moment it connected.
    """

    def __init__(self, port: int) -> None:
        """Watch the socket listening on 127.0.0.1:``port``."""
        self.port, self.most = port, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> AcceptQueue:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def length(self) -> int:
        """The accept queue's length now (0 when ``ss`` says nothing)."""
        out = subprocess.run(
            ["ss", "-ltnH", f"sport = :{self.port}"], capture_output=True, text=True, check=False
        ).stdout
        return recv_q(out)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.most = max(self.most, self.length())
            self._stop.wait(0.5)


def recv_q(ss_output: str) -> int:
    """The Recv-Q of the first socket ``ss -ltnH`` printed (for a listening socket: its accept queue).

    >>> recv_q("LISTEN 158    2048   127.0.0.1:8000   0.0.0.0:*\\n"), recv_q("")
    (158, 0)
    """
    fields = ss_output.split()
    return int(fields[1]) if len(fields) > 2 and fields[1].isdigit() else 0


def tile_paths(zooms: tuple[int, ...] = (10, 11, 12)) -> list[str]:
    """The villages layer's tiles over the province box (web mercator numbering)."""
    west, south, east, north = PROVINCE_BOX
    paths = []
    for z in zooms:
        n = 2**z

        def column(lon: float, n: int = n) -> int:
            return int((lon + 180) / 360 * n)

        def row(lat: float, n: int = n) -> int:
            y = math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat)))
            return int((1 - y / math.pi) / 2 * n)

        for x in range(column(west), column(east) + 1):
            paths += [f"/tiles/villages/{z}/{x}/{y}.mvt" for y in range(row(north), row(south) + 1)]
    return paths


def _dev_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines()]


def forward_texts(engine: Engine, count: int = DISTINCT) -> list[str]:
    """``count`` different texts: the development set's forward queries, then written addresses."""
    texts = list(dict.fromkeys(r["query"] for r in _dev_rows() if r["kind"] != "reverse"))
    ward = admin_unit.alias("ward")
    query = (
        select(address.c.house_number, address.c.street, ward.c.unit_type, ward.c.name)
        .join(ward, ward.c.id == address.c.commune_id)
        .where(address.c.street.is_not(None), address.c.house_number.is_not(None))
        .order_by(address.c.id)
    )
    rng = random.Random(11)
    with engine.connect() as conn:
        for house, street, kind, name in conn.execute(query):
            if len(texts) >= count:
                break
            text = _written(rng, str(house), str(street), str(kind), str(name))
            if text not in texts:
                texts.append(text)
    return texts[:count]


def typed(texts: list[str]) -> list[str]:
    """Each text as typed so far: cut in its last word (different texts stay different).

    >>> typed(["xom lac mai chau", "so 12 le loi"])
    ['xom lac mai ch', 'so 12 le l']
    """
    out: list[str] = []
    for text in texts:
        cut = text[: max(3, len(text) - 2)].rstrip()
        out.append(cut if cut not in out else text)
    return out


def reverse_points(engine: Engine, count: int = DISTINCT) -> list[tuple[float, float]]:
    """``count`` different points: the development set's, then points near addresses (within 30 m)."""
    points = [(float(r["lon"]), float(r["lat"])) for r in _dev_rows() if r["kind"] == "reverse"]
    lon, lat = func.ST_X(address.c.geom), func.ST_Y(address.c.geom)
    query = select(lon, lat).where(address.c.geom.is_not(None)).order_by(address.c.id)
    rng = random.Random(13)
    with engine.connect() as conn:
        near = conn.execute(query.limit(count)).all()
    for x, y in near[: count - len(points)]:
        points.append((round(x + rng.uniform(-2e-4, 2e-4), 7), round(y + rng.uniform(-2e-4, 2e-4), 7)))
    return points[:count]


def get_paths(endpoint: str, engine: Engine) -> list[str]:
    """The request paths an endpoint cycles through."""
    if endpoint == "tile":
        return tile_paths()
    if endpoint == "reverse":
        return [f"/reverse?lon={x}&lat={y}" for x, y in reverse_points(engine)]
    texts = forward_texts(engine)
    if endpoint == "autocomplete":
        return [f"/autocomplete?limit=5&q={urllib.parse.quote(t)}" for t in typed(texts)]
    return [f"/search?limit=5&q={urllib.parse.quote(t)}" for t in texts]


def scratch_database(addresses: int, folder: Path) -> tuple[str, list[tuple[str, int]], str]:
    """Build the scratch database; return its URL, (registry code, version) of active addresses, a token.

    The token is an admin's API token: the edits are made with it.
    """
    url = bundled_database(BENCH_DB)
    engine = make_engine(url)
    try:
        load_data(engine, addresses, folder)
        query = select(address.c.registry_code, address.c.version).where(address.c.status == "active")
        with engine.begin() as conn:
            targets = [
                (str(code), int(version)) for code, version in conn.execute(query.order_by(address.c.id))
            ]
            create_account(conn, username="bench", role="admin", password=None)
            token = create_api_token(conn, username="bench", name="bench_http").token
    finally:
        engine.dispose()
    return url, targets, token


@contextmanager
def server(
    workers: int, url: str, code: Path = ROOT, env: Mapping[str, str | None] | None = None
) -> Iterator[str]:
    """``diachiso serve`` with N workers (the code of ``code``); yields its URL."""
    with live_server(url, dict(env or {}), workers=workers, code=code) as base:
        yield base


def script(endpoint: str, folder: Path, lines: list[str], threads: int, token: str) -> Path:
    """Write the wrk Lua script of one endpoint and its input listing (paths, or "code version" to edit)."""
    listing = folder / f"{endpoint}.txt"
    listing.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    if endpoint == "edit":
        body = EDIT_LUA % {"listing": listing, "threads": threads, "token": token}
    else:
        body = GET_LUA % {"listing": listing}
    path = folder / f"{endpoint}.lua"
    path.write_text(COUNT_LUA + body, encoding="utf-8")
    return path


@dataclass(frozen=True)
class WrkOptions:
    """How wrk loads an endpoint."""

    threads: int
    connections: int
    seconds: int
    timeout_s: int
    warm_s: int = 0

    def args(self) -> list[str]:
        """The wrk command-line options."""
        return [
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{self.seconds}s",
            f"--timeout={self.timeout_s}s",
        ]


def wrk(base: str, endpoint: str, lua: Path, options: WrkOptions) -> Load:
    """Run wrk on one endpoint and read what the Lua ``done`` hook printed."""
    args = ["wrk", *options.args(), "-s", str(lua), base]
    out = subprocess.run(
        args, capture_output=True, text=True, check=True, timeout=options.seconds + 120
    ).stdout
    return parse_done(endpoint, out)


def parse_done(endpoint: str, out: str) -> Load:
    """The counts printed by the Lua ``done`` hook (STATUS, SUMMARY and LATENCY lines)."""
    load = Load(endpoint)
    for status, n in re.findall(r"^STATUS (\d+) (\d+)$", out, re.MULTILINE):
        load.statuses[int(status)] = int(n)
    summary = re.search(r"^SUMMARY (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", out, re.MULTILINE)
    latency = re.search(r"^LATENCY (\d+) (\d+) (\d+)$", out, re.MULTILINE)
    if summary is None or latency is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    requests, duration_us, connect, read, write, timeout, _status = map(int, summary.groups())
    load.requests, load.seconds = requests, duration_us / 1e6
    load.timeouts, load.socket_errors = timeout, connect + read + write
    load.p50_ms, load.p99_ms, load.max_ms = (int(value) / 1000 for value in latency.groups())
    return load


def table(loads: list[Load]) -> str:
    """Markdown table: rate and its ratio to the tile's, latency, answers by status, errors."""
    tile_rates = {x.connections: x.rate for x in loads if x.endpoint == "tile"}
    lines = [
        "| connections | endpoint | answer cache | answers/s | x tile | p50 ms | p99 ms | max ms | 2xx | "
        "non-2xx by status | timeouts | socket errors | most waiting to be accepted | "
        "probe: status: answers (slowest) |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for x in loads:
        others = ", ".join(f"{status}: {n}" for status, n in sorted(x.statuses.items()) if status >= 300)
        tile = tile_rates.get(x.connections)
        ratio = f"{x.rate / tile:.2f}" if tile else "-"
        lines.append(
            f"| {x.connections} | {x.endpoint} | {x.answer_cache} | {x.rate:,.0f} | {ratio} | "
            f"{x.p50_ms:.1f} | {x.p99_ms:.1f} | "
            f"{x.max_ms:.1f} | {x.count(200, 300):,} | {others or '-'} | {x.timeouts} | {x.socket_errors} | "
            f"{x.accept_queue} | {x.probe} |"
        )
    return "\n".join(lines)


def arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--warm",
        type=int,
        default=30,
        help="seconds of uncounted load per endpoint, first count only",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=5,
        help="wrk's per-request timeout, seconds (an error, not a slow answer)",
    )
    parser.add_argument("--addresses", type=int, default=20_000)
    parser.add_argument("--endpoints", nargs="+", choices=ENDPOINTS, default=list(DEFAULT_ENDPOINTS))
    parser.add_argument(
        "--answer-cache", type=int, default=None, help="DIACHISO_GEOCODE_ANSWER_CACHE of the server (0: off)"
    )
    parser.add_argument(
        "--code",
        type=Path,
        default=ROOT,
        help="folder of the server's code (e.g. an older checkout to compare)",
    )
    return parser.parse_args()


def measure(
    base: str, endpoint: str, lua: Path, options: WrkOptions, probe: tuple[tuple[str, int], list[str], str]
) -> Load:
    """Warm the endpoint up (uncounted), then load it with wrk beside the probe client."""
    if options.warm_s:
        warm = WrkOptions(options.threads, options.connections, options.warm_s, options.timeout_s)
        wrk(base, endpoint, lua, warm)
    target, paths, token = probe
    port = int(base.rpartition(":")[2])
    with Probe(base, endpoint, target, paths, token=token) as prober, AcceptQueue(port) as queue:
        load = wrk(base, endpoint, lua, options)
    load.probe, load.connections, load.accept_queue = prober.summary(), options.connections, queue.most
    return load


def run(args: argparse.Namespace, folder: Path) -> list[Load]:
    """Build the scratch database, start the server and load every endpoint at every connection count."""
    url, targets, token = scratch_database(args.addresses, folder)
    engine = make_engine(url)
    loads: list[Load] = []
    env = {} if args.answer_cache is None else {"DIACHISO_GEOCODE_ANSWER_CACHE": str(args.answer_cache)}
    try:
        edits = [f"{code} {version}" for code, version in targets[:-1]]
        listings = {e: edits if e == "edit" else get_paths(e, engine) for e in args.endpoints}
        with server(args.workers, url, args.code, env) as base:
            for level, connections in enumerate(args.connections):
                warm = args.warm if level == 0 else 0  # the caches stay filled for the next levels
                options = WrkOptions(2, connections, args.seconds, args.timeout, warm)
                for endpoint in args.endpoints:
                    lua = script(endpoint, folder, listings[endpoint], options.threads, token)
                    paths = [] if endpoint == "edit" else listings[endpoint]
                    loads.append(measure(base, endpoint, lua, options, (targets[-1], paths, token)))
                    loads[-1].answer_cache = "off" if args.answer_cache == 0 else "on"
                    print(table(loads[-1:]).splitlines()[-1], flush=True)
    finally:
        engine.dispose()
        databases.drop_database(url)
    return loads


def main() -> None:
    """Build the scratch database, start the server, load each endpoint, print the table."""
    args = arguments()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as name:
        loads = run(args, Path(name))
    wrk_options = f"wrk -t2 -d{args.seconds}s --timeout={args.timeout}s"
    print(f"\nworkers={args.workers} {wrk_options} (after {args.warm} s warm-up)")
    print(table(loads))


if __name__ == "__main__":
    main()
