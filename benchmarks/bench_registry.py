"""Assign both codes to 1,000,000 generated addresses: ``assign_codes`` against the database's floor.

Run: ``.venv/bin/python benchmarks/bench_registry.py [--rows N] [--repeats R]`` (about 10
minutes for 1M on a busy 2-CPU machine, a minute of it loading the points). It creates a
throwaway database ``diachiso_bench_registry`` on the running cluster (or
DIACHISO_DATABASE_URL's server), migrates it, loads N generated addresses
(``tests.synthetic``, source "generated", ``is_generated``) with COPY and no codes,
then times, each in a transaction that is rolled back (best of R, VACUUM in between):

* codes for N new rows before they are written, as the importers do
  (``importers.locate``: location codes in numpy + N serials drawn);
* ``assign_codes`` back-filling all N stored rows (this version: binary COPY out and in,
  only changed rows written);
* the first version of ``assign_codes`` (kept below as ``assign_codes_v1``);
* the floor: one ``UPDATE ... FROM staging`` writing codes computed beforehand, i.e. the
  cost of rewriting N rows and their six indexes, which any back-fill pays;
* ``assign_codes`` again when every code is already right (a scan, no writes);
* the incremental case: 1,000 new rows next to the N coded ones.

Prints one markdown table (seconds, rows/s, ratio to the floor). The database is dropped
at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, func, insert, or_, select, text, update
from sqlalchemy.engine import make_url

from addresses import bulk, migrate
from addresses.codes import encode_array, registry_codes_array
from addresses.db import make_engine
from addresses.registry import assign_codes, next_serials
from addresses.schema import SRID, address
from importers import locate
from tests import databases
from tests.synthetic import generate_addresses

ROOT = Path(__file__).resolve().parent.parent
WARDS = ROOT / "data" / "hoabinh" / "wards_2025.geojson"
DATABASE = "diachiso_bench_registry"
SOURCE = "generated"
INCREMENT = 1_000


def recreate(url: str, name: str) -> str:
    """Drop and create a database; return its SQLAlchemy URL."""
    return databases.recreate_database(url, name)


def drop(url: str, name: str) -> None:
    """Drop a database."""
    databases.drop_database(make_url(url).set(database=name).render_as_string(hide_password=False))


def address_frame(count: int, *, seed: int) -> pd.DataFrame:
    """Return ``count`` generated addresses as the staged columns of the address table."""
    wards = gpd.read_file(WARDS).geometry
    frame = generate_addresses(wards, count, seed=seed)
    geoms = shapely.set_srid(frame.geometry.to_numpy(), SRID)
    return pd.DataFrame(
        {
            "source": SOURCE,
            "source_id": frame["id"],
            "house_number": frame["house_number"],
            "street": frame["street"].replace("", None),
            "is_generated": True,
            "raw": '{"generated": true}',
            "geom": shapely.to_wkb(geoms, hex=True, include_srid=True),
        }
    )


def load(engine: Engine, frame: pd.DataFrame) -> None:
    """COPY addresses in (no codes yet) and VACUUM ANALYZE the table."""
    with engine.begin() as conn:
        staged = bulk.stage(conn, frame)
        columns = list(frame.columns)
        conn.execute(insert(address).from_select(columns, select(*(staged.c[c] for c in columns))))
    vacuum(engine)


def vacuum(engine: Engine) -> None:
    """VACUUM ANALYZE the address table (outside a transaction)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE address"))


# -------------------------------------------------------------------- the candidates


def assign_codes_v1(conn: Connection, *, source: str | None = None) -> int:
    """The first version of ``addresses.registry.assign_codes``, for comparison."""
    query = select(
        address.c.id, func.ST_X(address.c.geom), func.ST_Y(address.c.geom), address.c.registry_code
    ).where(or_(address.c.registry_code.is_(None), address.c.updated_at == func.now()))
    if source is not None:
        query = query.where(address.c.source == source)
    rows = conn.execute(query.order_by(address.c.id)).all()
    todo = pd.DataFrame(rows, columns=["address_id", "lon", "lat", "registry_code"])
    if todo.empty:
        return 0
    location = encode_array(todo["lon"].to_numpy(), todo["lat"].to_numpy()).astype(str)
    missing = todo["registry_code"].isna().to_numpy()
    registry = todo["registry_code"].to_numpy(dtype=object, copy=True)
    registry[missing] = registry_codes_array(next_serials(conn, int(missing.sum()))).astype(str)
    frame = pd.DataFrame(
        {"address_id": todo["address_id"], "location_code": location, "registry_code": registry}
    )
    staged = bulk.stage(conn, frame, name="code_staging")
    conn.execute(
        update(address)
        .where(address.c.id == staged.c.address_id)
        .values(location_code=staged.c.location_code, registry_code=staged.c.registry_code)
    )
    return int(missing.sum())


def floor_update(conn: Connection, codes: pd.DataFrame) -> int:
    """Only write codes computed beforehand: COPY them in and one UPDATE ... FROM."""
    staged = bulk.stage(conn, codes, name="code_staging")
    result = conn.execute(
        update(address)
        .where(address.c.id == staged.c.address_id)
        .values(location_code=staged.c.location_code, registry_code=staged.c.registry_code)
    )
    return int(result.rowcount)


def precomputed_codes(engine: Engine) -> pd.DataFrame:
    """Return every address's codes (serials from the row id), computed outside the timing."""
    with engine.connect() as conn:
        rows = conn.execute(select(address.c.id, func.ST_X(address.c.geom), func.ST_Y(address.c.geom))).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    lon = np.array([r[1] for r in rows], dtype=np.float64)
    lat = np.array([r[2] for r in rows], dtype=np.float64)
    return pd.DataFrame(
        {
            "address_id": ids,
            "location_code": encode_array(lon, lat).astype(str),
            "registry_code": registry_codes_array(ids + 100_000_000).astype(str),
        }
    )


# ----------------------------------------------------------------------- timing


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in a transaction that is rolled back, then VACUUM."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        finally:
            transaction.rollback()
    vacuum(engine)


def best_of(engine: Engine, run: Callable[[Connection], int], expected: int, repeats: int) -> float:
    """Return the best time of ``run`` over rolled-back transactions; check the count it returns."""
    times = []
    for _ in range(repeats):
        with rolled_back(engine) as conn:
            started = time.perf_counter()
            count = run(conn)
            times.append(time.perf_counter() - started)
            if count != expected:
                raise AssertionError(f"{run} handled {count} rows, expected {expected}")
    return min(times)


def before_insert(frame: pd.DataFrame) -> Callable[[Connection], int]:
    """Return a run computing codes for new rows as the importers do, before writing them."""
    points = shapely.from_wkb(frame["geom"].to_numpy())
    ids = frame["source_id"].to_numpy(dtype=object)

    def run(conn: Connection) -> int:
        location = locate.location_code_bytes(points)
        known = locate.known_source_ids(conn, address, "fresh")  # as importers.pipeline does
        is_new = locate.is_new(pd.Series(ids, dtype=object), known)
        registry = locate.registry_code_bytes(locate.registry_serials(conn, is_new))
        return int(len(location) == len(registry) and len(registry))

    return run


def second_pass(conn: Connection) -> int:
    """Back-fill, then time nothing: return how many new codes a second call hands out (0)."""
    assign_codes(conn, source=SOURCE)
    started = time.perf_counter()
    count = assign_codes(conn, source=SOURCE)
    conn.info["seconds"] = time.perf_counter() - started
    return count


def timed_second_pass(engine: Engine, repeats: int) -> float:
    """Return the best time of ``assign_codes`` when every code is already right."""
    times = []
    for _ in range(repeats):
        with rolled_back(engine) as conn:
            assert second_pass(conn) == 0
            times.append(float(conn.info.pop("seconds")))
    return min(times)


def incremental(engine: Engine, frame: pd.DataFrame, repeats: int) -> float:
    """Time assign_codes for INCREMENT new rows added to a table whose other rows have codes."""
    times = []
    for _ in range(repeats):
        with rolled_back(engine) as conn:
            assign_codes(conn, source=SOURCE)
            staged = bulk.stage(conn, frame)
            columns = list(frame.columns)
            conn.execute(insert(address).from_select(columns, select(*(staged.c[c] for c in columns))))
            started = time.perf_counter()
            count = assign_codes(conn, source="increment")
            times.append(time.perf_counter() - started)
            assert count == len(frame)
    return min(times)


def table(rows: list[tuple[str, int, float]], floor: float) -> str:
    """Return the markdown table of the results."""
    lines = [
        "| what | rows | seconds | rows/s | x floor |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, count, seconds in rows:
        lines.append(
            f"| {name} | {count:,} | {seconds:.2f} | {count / seconds:,.0f} | {seconds / floor:.2f} |"
        )
    return "\n".join(lines)


def measure(engine: Engine, n: int, repeats: int) -> list[tuple[str, int, float]]:
    """Run every case on the loaded database; return (name, rows, seconds) rows."""
    frame = address_frame(n, seed=99)
    codes = precomputed_codes(engine)
    extra = address_frame(INCREMENT, seed=7).assign(source="increment")
    return [
        (
            "codes before insert, as importers do (numpy + serials)",
            n,
            best_of(engine, before_insert(frame), n, repeats),
        ),
        (
            "`assign_codes` back-fill, this version",
            n,
            best_of(engine, lambda c: assign_codes(c, source=SOURCE), n, repeats),
        ),
        (
            "`assign_codes` back-fill, first version",
            n,
            best_of(engine, lambda c: assign_codes_v1(c, source=SOURCE), n, repeats),
        ),
        (
            "floor: COPY precomputed codes + one UPDATE",
            n,
            best_of(engine, lambda c: floor_update(c, codes), n, repeats),
        ),
        ("`assign_codes` again, every code already right", n, timed_second_pass(engine, repeats)),
        (
            f"`assign_codes`, {INCREMENT:,} new rows beside {n:,} coded",
            INCREMENT,
            incremental(engine, extra, repeats),
        ),
    ]


def main() -> None:
    """Set up the throwaway database, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()
    server = databases.server_url()
    engine = make_engine(recreate(server, DATABASE))
    try:
        migrate.upgrade(engine)
        started = time.perf_counter()
        load(engine, address_frame(options.rows, seed=2025))
        print(
            f"set-up: {options.rows:,} generated addresses loaded in {time.perf_counter() - started:.1f} s\n"
        )
        results = measure(engine, options.rows, options.repeats)
        print(table(results, floor=results[3][2]))
    finally:
        engine.dispose()
        if not options.keep:
            drop(server, DATABASE)


if __name__ == "__main__":
    main()
