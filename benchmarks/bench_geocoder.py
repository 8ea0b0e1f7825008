"""Geocoding side by side: diachiso, Addok and vietnamadminunits on the development sets, in one run.

Run: ``.venv/bin/python benchmarks/bench_geocoder.py [--http] [--misses 5]`` (2-3 minutes;
``--every 3`` measures every third query of each set only, as the quick mode of ``make bench`` does).

Then the real-text set (``data/hoabinh/geocoding_dev_real.jsonl``) runs through diachiso,
Addok and vietnamadminunits (PyPI; a parser/converter of Vietnamese administrative units,
no coordinates: its answer is the 2025 ward code it converts the text to), one table per
half (tune, then holdout; see devset.half_of), one row per form (devset.forms_of). Misses
are printed for the tune half only (``--misses``): the holdout half is never inspected.

Every query of ``data/hoabinh/geocoding_dev_queries.jsonl`` goes through diachiso's
geocoder (in-process index; reverse on PostGIS) and through Addok (PyPI; its own Redis
on a free loopback port, loaded fresh from the same database, see addok_harness.py),
one call at a time. Prints per query kind: n, hit rate (every truth criterion holds, see
devset.py), the ward criterion alone ("in ward"), p50/p95 latency (each query's fastest
of ``--repeat`` calls), sequential queries per second (fastest pass), and diachiso's
ratios to each other engine. ``--http`` adds Addok behind its own HTTP API (stdlib WSGI
server, loopback). Needs ``pip install addok`` and Debian's ``redis-server``; diachiso
is skipped with a message while its geocoder cannot be imported.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection

from addresses import pgcluster
from addresses.db import make_engine
from addresses.errors import DiachisoError
from addresses.settings import DatabaseSettings
from benchmarks import addok_harness, devset

WARM_UP_TEXTS = ("Hòa Bình", "xa tan lac phu tho", "Bản Lác, Mai Châu", "Huyện Kim Bôi", "Petrolimex")
WARM_UP_POINTS = ((105.33, 20.85), (105.07, 20.65), (105.5, 20.5))


@dataclass(frozen=True)
class DiachisoGeocoder:
    """diachiso's geocoder: in-memory index for forward, PostGIS for reverse."""

    conn: Connection
    index: Any
    search: Callable[..., Any]
    reverse_fn: Callable[..., Any] | None

    def forward(self, text: str) -> devset.Point | None:
        """The first result's point, or None."""
        results = self.search(self.index, text, limit=1)
        return (float(results[0].lon), float(results[0].lat)) if results else None

    def reverse(self, lon: float, lat: float) -> str | None:
        """The code of the 2025 unit that contains the point, or None."""
        assert self.reverse_fn is not None
        try:
            result = self.reverse_fn(self.conn, lon, lat)
        except DiachisoError:  # e.g. outside the territory: no answer
            return None
        unit = getattr(result, "current_unit", None) if result is not None else None
        return str(unit.code) if unit is not None else None

    def engine(self) -> devset.Engine:
        """The engine to measure (without reverse while geocoder.reverse is missing)."""
        return devset.Engine("diachiso", self.forward, self.reverse if self.reverse_fn is not None else None)


def _diachiso_reverse() -> Callable[..., Any] | None:
    """geocoder.reverse.reverse, or None (with a message) while it cannot be imported."""
    try:
        module = importlib.import_module("geocoder.reverse")
    except ImportError as error:
        print(f"diachiso reverse skipped: geocoder.reverse cannot be imported yet ({error})")
        return None
    reverse, query = module.reverse, module.ReverseQuery

    def named(conn: Connection, lon: float, lat: float) -> Any:
        return reverse(conn, query=query(lon, lat))

    return named


def load_diachiso(conn: Connection) -> DiachisoGeocoder | None:
    """Load diachiso's geocoder index, or say why it cannot be and return None."""
    try:
        index_module = importlib.import_module("geocoder.index")
        search_module = importlib.import_module("geocoder.search")
    except ImportError as error:
        print(f"diachiso skipped: its geocoder cannot be imported yet ({error})")
        return None
    start = time.perf_counter()
    index = index_module.GeocoderIndex.load(conn)
    print(f"diachiso index loaded in {time.perf_counter() - start:.2f} s")
    return DiachisoGeocoder(conn, index, search_module.search, _diachiso_reverse())


def warm_up(engine: devset.Engine) -> None:
    """A few calls that are not in the development set (connections, caches, lazy imports)."""
    for text in WARM_UP_TEXTS:
        engine.forward(text)
    if engine.reverse is not None:
        for lon, lat in WARM_UP_POINTS:
            engine.reverse(lon, lat)


def measure(
    engine: devset.Engine, queries: Sequence[devset.DevQuery], *, repeat: int, misses: int
) -> list[devset.KindResult]:
    """Warm up, run the development set (best of ``repeat`` passes per kind), print some misses."""
    warm_up(engine)
    results = devset.run_engine(engine, queries, repeat=repeat)
    if misses:
        print_misses(engine, queries, misses)
    return results


def answer(engine: devset.Engine, query: devset.DevQuery) -> devset.Answer:
    """The engine's answer to one query."""
    if query.is_reverse and query.point is not None and engine.reverse is not None:
        return engine.reverse(*query.point)
    return engine.forward(query.text)


def print_misses(engine: devset.Engine, queries: Sequence[devset.DevQuery], count: int) -> None:
    """Print up to ``count`` missed queries per kind with the engine's answer (diagnostics)."""
    for kind in devset.kinds_of(queries):
        chosen = [q for q in queries if q.kind == kind and (engine.reverse is not None or not q.is_reverse)]
        answers = [answer(engine, q) for q in chosen]
        hit = devset.judge(chosen, answers).hit
        missed = [(q, a) for q, a, ok in zip(chosen, answers, hit, strict=True) if not ok][:count]
        for query, given in missed:
            asked = query.text or query.point
            print(f"  miss {engine.name} {query.id} {asked!r} -> {given} truth {query.truth}")


def addok_options(args: argparse.Namespace) -> addok_harness.AddokOptions:
    """The Addok set-up chosen on the command line."""
    if args.addok_naive:
        return addok_harness.AddokOptions.naive()
    return addok_harness.AddokOptions(
        common_threshold=args.addok_common,
        geohash_precision=args.addok_precision,
        autocomplete=args.addok_autocomplete,
        ward_predecessors=args.addok_ward_predecessors,
        context_labels=not args.addok_plain_labels,
    )


@contextmanager
def addok_engines(conn: Connection, args: argparse.Namespace, folder: Path) -> Iterator[list[devset.Engine]]:
    """Addok in-process (and over HTTP with --http), loaded fresh; everything stopped afterwards."""
    if args.no_addok:
        yield []
        return
    start = time.perf_counter()
    with addok_harness.addok_engine(conn, addok_options(args), folder) as addok:
        seconds = time.perf_counter() - start
        print(f"addok: {addok.documents} documents loaded in {seconds:.2f} s, {addok.options}")
        engines = [devset.Engine("addok", addok.forward, addok.reverse)]
        if not args.http:
            yield engines
            return
        with addok_harness.addok_http(addok) as http:
            yield [*engines, devset.Engine("addok-http", http.forward, http.reverse)]


ByEngine = dict[str, list[devset.KindResult]]
VAU_PROVINCE_HINTS = ("", ", tỉnh Hòa Bình")
"""Suffixes tried in turn when vietnamadminunits finds no ward (it covers all of Vietnam)."""


@dataclass(frozen=True)
class VietnamAdminUnits:
    """vietnamadminunits as an engine: legacy text converted to its 2025 ward, else read as 2025 text."""

    convert: Callable[[str], Any]
    parse: Callable[[str], Any]

    def ward(self, text: str) -> str | None:
        """The 2025 ward code the package reads in the text, or None."""
        for hint in VAU_PROVINCE_HINTS:
            for read in (self.convert, self.parse):
                try:
                    unit = read(text + hint)
                except Exception:
                    continue
                code = getattr(unit, "ward_code", None)
                if code:
                    return str(code)
        return None


def vietnamadminunits_engine() -> devset.Engine | None:
    """The vietnamadminunits engine, or None (with a message) when the package is missing."""
    try:
        module = importlib.import_module("vietnamadminunits")
    except ImportError as error:
        print(f"vietnamadminunits skipped: {error} (pip install -e '.[bench]')")
        return None
    engine = VietnamAdminUnits(module.convert_address, module.parse_address)
    return devset.Engine("vietnamadminunits", engine.ward, None)


def measure_real(
    engines: Sequence[devset.Engine],
    *,
    repeat: int,
    misses: int,
    halves: Sequence[str] = (devset.TUNE, devset.HOLDOUT),
    every: int = 1,
) -> dict[str, dict[str, list[devset.KindResult]]]:
    """Every engine on the halves of the real-text set (each ``every``-th entry), per form; tune misses."""
    entries = devset.load_real()[::every]
    out: dict[str, ByEngine] = {}
    for half in halves:
        queries = devset.by_form(entries, half)
        out[half] = {
            e.name: devset.run_engine(devset.Engine(e.name, e.forward, None), queries, repeat=repeat)
            for e in engines
        }
    if misses:
        tune = [q for q in devset.by_form(entries, devset.TUNE) if q.kind == devset.FORM_ALL]
        for engine in engines:
            print_misses(engine, tune, misses)
    return out


def run(
    args: argparse.Namespace,
) -> tuple[dict[str, list[devset.KindResult]], dict[str, dict[str, list[devset.KindResult]]]]:
    """Measure every available engine on the generated set, then on the real-text set."""
    queries = devset.load_queries()[:: args.every]
    devset.default_wards()
    settings = DatabaseSettings()
    db = make_engine(pgcluster.database_url(settings), settings)
    results: ByEngine = {}
    real: dict[str, ByEngine] = {}
    try:
        with db.connect() as conn, tempfile.TemporaryDirectory(prefix="diachiso-addok-") as folder:
            diachiso = None if args.no_diachiso else load_diachiso(conn)
            engines = [] if diachiso is None else [diachiso.engine()]
            if diachiso is not None and not args.real_only:
                results["diachiso"] = measure(engines[0], queries, repeat=args.repeat, misses=args.misses)
            with addok_engines(conn, args, Path(folder)) as others:
                for engine in others if not args.real_only else ():
                    results[engine.name] = measure(engine, queries, repeat=args.repeat, misses=args.misses)
                engines += [e for e in others if e.name == "addok"]
                vau = None if args.no_vietnamadminunits else vietnamadminunits_engine()
                engines += [vau] if vau is not None else []
                halves = (devset.TUNE,) if args.tune_only else (devset.TUNE, devset.HOLDOUT)
                real = measure_real(
                    engines, repeat=args.repeat, misses=args.misses, halves=halves, every=args.every
                )
    finally:
        db.dispose()
    return results, real


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    defaults = addok_harness.AddokOptions()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--http", action="store_true", help="also measure Addok over its HTTP API")
    parser.add_argument("--repeat", type=int, default=3, help="passes per kind; the fastest is kept")
    parser.add_argument("--misses", type=int, default=0, help="print up to N misses per kind and engine")
    parser.add_argument(
        "--every", type=int, default=1, help="only every N-th query of each set (a quicker, rougher run)"
    )
    parser.add_argument("--no-diachiso", action="store_true", help="measure Addok only")
    parser.add_argument("--no-addok", action="store_true", help="measure diachiso only")
    parser.add_argument("--no-vietnamadminunits", action="store_true", help="leave vietnamadminunits out")
    parser.add_argument("--real-only", action="store_true", help="only the real-text set")
    parser.add_argument(
        "--tune-only", action="store_true", help="real-text set: the tune half only (while tuning)"
    )
    parser.add_argument("--addok-naive", action="store_true", help="Addok's defaults (ignores --addok-*)")
    parser.add_argument("--addok-common", type=int, default=defaults.common_threshold)
    parser.add_argument("--addok-precision", type=int, default=defaults.geohash_precision)
    parser.add_argument("--addok-autocomplete", action="store_true", default=defaults.autocomplete)
    parser.add_argument("--addok-ward-predecessors", action="store_true", default=defaults.ward_predecessors)
    parser.add_argument("--addok-plain-labels", action="store_true", default=not defaults.context_labels)
    return parser.parse_args(argv)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """Turn SIGTERM into SystemExit so that Redis and the HTTP server are stopped on the way out."""
    del frame
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    start = time.perf_counter()
    try:
        results, real = run(parse_args(argv))
    except KeyboardInterrupt:
        raise SystemExit("interrupted (Redis and the Addok server were stopped)") from None
    if not results and not real:
        raise SystemExit("no engine could be measured")
    if results:
        print("\nGenerated set (geocoding_dev_queries.jsonl):\n")
        print(devset.table(results))
    for half, by_engine in real.items():
        print(f"\nReal-text set, {half} half, by form:\n")
        print(devset.table(by_engine, totals=False))
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
