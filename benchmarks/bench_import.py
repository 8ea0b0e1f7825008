"""Import throughput: diachiso's full import pipeline vs GDAL's ogr2ogr and geopandas, side by side.

Run: ``.venv/bin/python benchmarks/bench_import.py [--rows 200000]`` (make bench).

Generated address points (labelled generated in the data) are written as CSV,
GeoParquet and GeoPackage, then loaded into a throwaway database on the same
server by each tool. diachiso's figure includes everything an import does:
reading, CRS check, validation, NFC text, COPY, the upsert, the commune of every
point (spatial join) and both digital codes. The peers only copy rows into a table.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Constraint,
    Engine,
    ForeignKeyConstraint,
    Index,
    Table,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.schema import AddConstraint, DropConstraint

from addresses import bulk, migrate
from addresses.datasets import get_dataset
from addresses.db import make_engine
from addresses.schema import address, import_run
from addresses.settings import DatabaseSettings
from importers import pipeline
from importers.bundled import BUNDLED_UNITS, import_bundled
from importers.mapping import apply_mapping, default_mapping
from importers.pipeline import ImportOptions, import_file, territory, validate_rows
from importers.prepare import placement, source_rows
from importers.readers import FEATURE, read_source
from tests import databases
from tests.synthetic import generate_addresses

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "hoabinh"
BENCH_DB = "diachiso_bench_import"


@dataclass(frozen=True)
class Result:
    """One tool loading one file."""

    tool: str
    file_format: str
    rows: int
    seconds: float
    note: str = ""
    client_cpu: float = float("nan")
    """CPU seconds of this process (all its threads) during the run."""
    server_cpu: float = float("nan")
    """CPU seconds of the PostgreSQL backend serving the run (read from /proc: a local server)."""

    @property
    def rate(self) -> float:
        """Rows per second."""
        return self.rows / self.seconds


@contextmanager
def indexes_rebuilt(conn: Connection, table: Table) -> Iterator[None]:
    """Drop ``table``'s secondary indexes, unique keys and foreign keys; rebuild them on leaving.

    The peer of the importer's own large-load path: building each index once over all
    rows instead of maintaining it row by row, inside the caller's transaction.
    """
    keys: list[Constraint] = [
        c for c in table.constraints if isinstance(c, UniqueConstraint | ForeignKeyConstraint)
    ]
    for key in keys:
        conn.execute(DropConstraint(key))
    for index in table.indexes:
        index.drop(conn)
    yield
    for index in table.indexes:
        index.create(conn)
    for key in keys:
        conn.execute(AddConstraint(key))


def fresh_database(settings: DatabaseSettings) -> str:
    """Drop and create the benchmark database; return its URL."""
    return databases.recreate_database(databases.server_url(settings), BENCH_DB)


def prepare(engine: Engine) -> None:
    """Schema and the administrative units (the import places points in communes)."""
    migrate.upgrade(engine)
    units = {b.file_name for b in BUNDLED_UNITS}
    for _report in import_bundled(engine, DATA):
        pass
    assert units


def write_files(count: int, folder: Path) -> dict[str, Path]:
    """The generated addresses as CSV, GeoParquet and GeoPackage."""
    wards = gpd.read_file(DATA / "wards_2025.geojson").geometry
    frame = generate_addresses(wards, count, seed=11)
    paths = {
        "csv": folder / "addresses.csv",
        "geoparquet": folder / "addresses.parquet",
        "gpkg": folder / "addresses.gpkg",
    }
    table = frame.drop(columns="geometry").assign(lon=frame.geometry.x, lat=frame.geometry.y)
    table.to_csv(paths["csv"], index=False)
    frame.to_parquet(paths["geoparquet"])
    frame.to_file(paths["gpkg"], driver="GPKG", engine="pyogrio")
    return paths


def timed(run: Callable[[], object]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def diachiso_import(engine: Engine, path: Path, source: str) -> Callable[[], object]:
    """The full diachiso import of one file, in one transaction."""
    options = ImportOptions(mapping=default_mapping("addresses"), source=source)

    def run() -> object:
        with engine.begin() as conn:
            return import_file(conn, path, options=options)

    return run


def ogr2ogr_import(url: str, path: Path, table: str) -> Callable[[], object]:
    """GDAL's ogr2ogr into PostGIS (COPY mode, its default), one transaction."""
    parsed = make_url(url)
    pg = (
        f"PG:host={parsed.host} port={parsed.port} dbname={parsed.database} "
        f"user={parsed.username} password={parsed.password}"
    )
    extra = ["-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat", "-a_srs", "EPSG:4326"]
    args = [
        "ogr2ogr",
        "-f",
        "PostgreSQL",
        pg,
        str(path),
        "-nln",
        table,
        "-overwrite",
        "-lco",
        "GEOMETRY_NAME=geom",
        "-lco",
        "SPATIAL_INDEX=GIST",
        "--config",
        "PG_USE_COPY",
        "YES",
        *(extra if path.suffix == ".csv" else []),
    ]

    def run() -> object:
        return subprocess.run(
            args, check=True, capture_output=True, env={**os.environ, "PGCONNECT_TIMEOUT": "10"}
        )

    return run


def geopandas_import(engine: Engine, path: Path, table: str) -> Callable[[], object]:
    """geopandas: read the file, then to_postgis (its COPY-based writer)."""

    def run() -> object:
        frame = gpd.read_parquet(path) if path.suffix == ".parquet" else gpd.read_file(path, engine="pyogrio")
        frame.to_postgis(table, engine, if_exists="replace", index=False)
        return None

    return run


def prepared_rows(engine: Engine, path: Path, source: str) -> pd.DataFrame:
    """The address rows diachiso writes for ``path``: read, mapped, validated, placed and coded."""
    options = ImportOptions(mapping=default_mapping("addresses"), source=source)
    read = read_source(path)
    with engine.connect() as conn:
        rows = apply_mapping(read.frame, options.mapping, read.file_name)
        features = read.frame[FEATURE].to_numpy()
        checked = validate_rows(rows, read.frame.geometry.to_numpy(), features, options, territory(conn))
        fields = pd.DataFrame(read.frame.drop(columns=[read.frame.geometry.name, FEATURE]))
        placed = placement(conn, spec=get_dataset("addresses"), is_new=np.ones(len(checked.rows), dtype=bool))
        kept = fields.loc[checked.rows.index]
        frame = source_rows(checked, kept, source=source, spec=get_dataset("addresses"), placement=placed)
        conn.rollback()  # nothing is kept (the serials drawn are skipped, as sequences do)
    return frame


@dataclass(frozen=True)
class Timing:
    """Wall seconds of a run, and the CPU seconds this process and its database backend spent."""

    seconds: float
    client_cpu: float
    server_cpu: float


def backend_cpu(conn: Connection) -> float:
    """CPU seconds used so far by the backend of ``conn`` (NaN when it is not a local process)."""
    pid = conn.execute(select(func.pg_backend_pid())).scalar_one()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def rolled_back(engine: Engine, work: Callable[[Connection], object]) -> Timing:
    """How long ``work`` takes in a transaction that is then rolled back (the table stays as it was).

    The table is vacuumed first: the entries a rolled-back run leaves in the indexes would
    otherwise slow the next run's unique checks (most the next run of the same source).
    """
    vacuum(engine)
    with engine.connect() as conn:
        server, client = backend_cpu(conn), time.process_time()
        seconds = timed(lambda: work(conn))
        timing = Timing(seconds, time.process_time() - client, backend_cpu(conn) - server)
        conn.rollback()
    return timing


def vacuum(engine: Engine) -> None:
    """VACUUM the address table (outside a transaction): dead rows and index entries gone."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM address"))


FLOOR_KINDS = ("floor", "import", "forced", "rebuild", "gist", "bare")
"""The runs of each round of the full benchmark (``--floor-only`` runs floor, import, whole)."""
FLOOR_LABELS = {
    "import": "diachiso import (everything, as it decides)",
    "whole": "diachiso import, the whole file checked before the COPY (as before issue 13 item 6)",
    "forced": "diachiso import --rebuild-indexes",
    "floor": "PostgreSQL COPY alone into address (6 indexes, FK, checks)",
    "rebuild": "the same COPY with the indexes, unique keys and FKs dropped, then rebuilt",
    "gist": "the same COPY into a temporary table, then only a GiST index built",
    "bare": "PostgreSQL COPY alone into a temporary table (no index, no WAL)",
}


def floor_rounds(
    engine: Engine, path: Path, rounds: int, *, kinds: tuple[str, ...] = FLOOR_KINDS
) -> list[Result]:
    """diachiso's whole import against PostgreSQL alone COPYing the same prepared rows, in turns.

    Each round runs, on the same table state (all rolled back): the COPY of the prepared
    rows (CSV already in memory) into ``address``; the full diachiso import of the file, as
    it decides and with ``--rebuild-indexes``; the same COPY with the indexes and keys
    dropped first and rebuilt after; the same COPY into a temporary table with no index,
    constraint or WAL, with and without a GiST index built after it (those of ``kinds``). Medians.
    The kinds run in turn, in reverse order every other round (see :func:`turn_order`).
    """
    frame = prepared_rows(engine, path, "generated-bench-floor")
    work = floor_work(path, [str(c) for c in frame.columns], list(bulk.csv_batches(frame)))
    runs: dict[str, list[Timing]] = {k: [] for k in kinds}
    for round_number in range(1, rounds + 1):
        for kind in turn_order(kinds, round_number):
            runs[kind].append(rolled_back(engine, work[kind]))
        print(round_line(round_number, {kind: runs[kind][-1] for kind in kinds}), flush=True)
    return [_median(FLOOR_LABELS[k], len(frame), runs[k]) for k in FLOOR_LABELS if k in kinds]


def turn_order(kinds: tuple[str, ...], round_number: int) -> tuple[str, ...]:
    """The order of the runs in a round: as given in odd rounds, reversed in even ones.

    Neither the floor nor the import always runs first (on a warmer cache, or in the same
    minute of another tenant's load) or always after the other.

    >>> turn_order(("floor", "import", "whole"), 1), turn_order(("floor", "import", "whole"), 2)
    (('floor', 'import', 'whole'), ('whole', 'import', 'floor'))
    """
    return kinds if round_number % 2 else kinds[::-1]


def round_line(round_number: int, timings: dict[str, Timing]) -> str:
    """One round of :func:`floor_rounds`: each run's seconds and its time vs the floor's, and the load."""
    floor = timings["floor"].seconds
    runs = ", ".join(f"{kind} {t.seconds:.2f} s ({t.seconds / floor:.2f}x)" for kind, t in timings.items())
    return f"round {round_number}: {runs}; load average {os.getloadavg()[0]:.1f}"


def floor_work(
    path: Path, columns: list[str], batches: list[memoryview]
) -> dict[str, Callable[[Connection], object]]:
    """What each kind of run of :func:`floor_rounds` does on its connection."""
    options = ImportOptions(mapping=default_mapping("addresses"), source="generated-bench-rounds")
    forced = replace(options, rebuild_indexes=True)

    def copy_then_spatial_index(conn: Connection) -> None:
        staged = bulk.staging_table(conn, columns)
        bulk.copy_csv(conn, staged, columns, batches)
        Index("ix_staged_geom", staged.c.geom, postgresql_using="gist").create(conn)

    def copy_then_rebuild(conn: Connection) -> None:
        with indexes_rebuilt(conn, address):
            bulk.copy_csv(conn, address, columns, batches)

    def whole_file_first(conn: Connection) -> None:
        with checked_whole_first():
            import_file(conn, path, options=options)

    return {
        "floor": lambda c: bulk.copy_csv(c, address, columns, batches),
        "import": lambda c: import_file(c, path, options=options),
        "whole": whole_file_first,
        "forced": lambda c: import_file(c, path, options=forced),
        "rebuild": copy_then_rebuild,
        "gist": copy_then_spatial_index,
        "bare": lambda c: bulk.copy_csv(c, bulk.staging_table(c, columns), columns, batches),
    }


@contextlib.contextmanager
def checked_whole_first() -> Iterator[None]:
    """Imports check their whole file before writing it, as before the chunked import (a benchmark switch)."""
    chunked = pipeline._import_chunked
    pipeline._import_chunked = lambda *_: False
    try:
        yield
    finally:
        pipeline._import_chunked = chunked


def _median(label: str, rows: int, timings: list[Timing]) -> Result:
    """The medians of the wall and CPU seconds of a kind of run."""
    return Result(
        label,
        "geoparquet",
        rows,
        statistics.median(t.seconds for t in timings),
        client_cpu=statistics.median(t.client_cpu for t in timings),
        server_cpu=statistics.median(t.server_cpu for t in timings),
    )


def floor_table(results: list[Result]) -> str:
    """The rounds as a markdown table with each line's time as a multiple of the floor's."""
    floor = next(r.seconds for r in results if "address" in r.tool)
    lines = [
        "| what | rows | seconds (median) | rows/s | time vs floor | client CPU s | server CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.tool} | {r.rows:,} | {r.seconds:.2f} | {r.rate:,.0f} | {r.seconds / floor:.2f} "
        f"| {r.client_cpu:.2f} | {r.server_cpu:.2f} |"
        for r in results
    ]
    return "\n".join(lines)


def _rebuilt(engine: Engine, source: str) -> str:
    """Whether the last import of ``source`` rebuilt the indexes (from its import record)."""
    with engine.connect() as conn:
        last = conn.execute(
            select(import_run.c.report["indexes_rebuilt"].as_boolean())
            .where(import_run.c.source == source)
            .order_by(import_run.c.id.desc())
            .limit(1)
        ).scalar()
    return "indexes rebuilt" if last else "indexes kept"


def gdal_formats() -> set[str]:
    """Which of our formats this machine's GDAL can read (Debian's lacks Parquet)."""
    listing = subprocess.run(["ogrinfo", "--formats"], capture_output=True, text=True, check=True).stdout
    drivers = {"csv": "CSV", "geoparquet": "Parquet", "gpkg": "GPKG"}
    return {name for name, driver in drivers.items() if f"  {driver} " in listing or f"{driver} -" in listing}


def measure(url: str, engine: Engine, paths: dict[str, Path], rows: int) -> list[Result]:
    """Each tool on each format, in one run."""
    results: list[Result] = []
    for file_format, path in paths.items():
        source = f"generated-bench-{file_format}"
        run = diachiso_import(engine, path, source)
        seconds = timed(run)
        results.append(Result("diachiso import", file_format, rows, seconds, note=_rebuilt(engine, source)))
        if file_format in gdal_formats():
            seconds = timed(ogr2ogr_import(url, path, f"ogr_{file_format}"))
            results.append(Result("ogr2ogr (GDAL)", file_format, rows, seconds))
        if file_format != "csv":
            seconds = timed(geopandas_import(engine, path, f"gpd_{file_format}"))
            results.append(Result("geopandas to_postgis", file_format, rows, seconds))
    reimport = timed(diachiso_import(engine, paths["geoparquet"], "generated-bench-geoparquet"))
    results.append(Result("diachiso re-import (no change)", "geoparquet", rows, reimport, "nothing written"))
    return results


def table(results: list[Result]) -> str:
    """The results as a markdown table with ratios to diachiso on the same format."""
    base = {r.file_format: r.rate for r in results if r.tool == "diachiso import"}
    lines = [
        "| tool | format | rows | seconds | rows/s | vs diachiso | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r.tool} | {r.file_format} | {r.rows:,} | {r.seconds:.2f} | {r.rate:,.0f} | "
        f"{r.rate / base[r.file_format]:.2f}x | {r.note} |"
        for r in results
    ]
    return "\n".join(lines)


def fill_table(engine: Engine, path: Path, copies: int) -> None:
    """Commit ``copies`` imports of ``path`` under distinct sources (the table the floor-only run needs)."""
    for copy in range(copies):
        diachiso_import(engine, path, f"generated-bench-fill-{copy}")()


def profiled_import(engine: Engine, path: Path, output: Path) -> None:
    """One import of ``path`` under cProfile (rolled back); the statistics go to ``output``."""
    options = ImportOptions(mapping=default_mapping("addresses"), source="generated-bench-profile")
    profile = cProfile.Profile()
    timing = rolled_back(engine, lambda c: profile.runcall(import_file, c, path, options=options))
    profile.dump_stats(output)
    print(
        f"profiled import: {timing.seconds:.2f} s wall, client CPU {timing.client_cpu:.2f} s, "
        f"server CPU {timing.server_cpu:.2f} s; statistics in {output}"
    )


def floor_only(engine: Engine, paths: dict[str, Path], args: argparse.Namespace) -> None:
    """Only the import against the floor, into a table three times the load (and a profile if asked)."""
    fill_table(engine, paths["geoparquet"], 3)
    if args.profile:
        profiled_import(engine, paths["geoparquet"], Path(args.profile))
    full = floor_rounds(engine, paths["geoparquet"], args.rounds, kinds=("floor", "import", "whole"))
    print(f"\nInto the address table of {3 * args.rows:,} rows:\n")
    print(floor_table(full))
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


def main() -> None:
    """Generate, load with every tool, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of import vs floor")
    parser.add_argument("--database", default=BENCH_DB, help="name of the throwaway database")
    parser.add_argument(
        "--floor-only", action="store_true", help="only the import vs the floor into a table 3x the load"
    )
    parser.add_argument("--profile", help="with --floor-only: cProfile one import into this file")
    args = parser.parse_args()
    url = databases.recreate_database(databases.server_url(DatabaseSettings()), args.database)
    engine = make_engine(url)
    prepare(engine)
    with tempfile.TemporaryDirectory() as folder:
        if args.floor_only:
            floor_only(engine, {"geoparquet": write_files(args.rows, Path(folder))["geoparquet"]}, args)
            engine.dispose()
            return
        paths = write_files(args.rows, Path(folder))
        empty = floor_rounds(engine, paths["geoparquet"], args.rounds)
        results = measure(url, engine, paths, args.rows)
        full = floor_rounds(engine, paths["geoparquet"], args.rounds)
    print(table(results))
    for state, rounds in (("empty address table", empty), (f"address table of {3 * args.rows:,} rows", full)):
        print(f"\nInto the {state}:\n")
        print(floor_table(rounds))
    engine.dispose()


if __name__ == "__main__":
    main()
