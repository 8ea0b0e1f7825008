"""Batch geocoding throughput: diachiso's CSV batch vs Addok, one search per row, side by side.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--rows 200000] [--addresses 100000] [--peer-rows 20000]``
(a few minutes: most of it loading the generated addresses and running the peers).

A throwaway database gets the bundled Hoa Binh data and ``--addresses`` generated
address points (labelled generated). The input CSV is built the way agency files look
(seeded, reproducible), and every row is geocoded from file to file:

* 30 % development-set queries (villages, old communes, places, messy addresses);
* 45 % real addresses of the table written by clerks: "Số 12A Trần Hưng Đạo, Phường
  Hòa Bình", in upper/lower case, without diacritics, with "P."/"X.", "sn", no "Số";
* 20 % the same streets with house numbers that are not registered (street-level answers);
* 5 % bad rows: empty, garbage.

Printed: rows/s, the cache hit rate it had, matched/unmatched/bad, and the peers on the
first ``--peer-rows`` rows: Addok in-process (its search per row, as its CSV plugin does;
own Redis, loaded from the same database, see addok_harness.py) and diachiso's search
per row without the batch caches.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import geopandas as gpd
from sqlalchemy import Connection, Engine, func, select

from addresses.db import make_engine
from addresses.schema import address, admin_unit
from benchmarks import devset
from benchmarks.common import DATA, fresh_database, load_bundled
from geocoder.batch import geocode_csv
from geocoder.index import GeocoderIndex
from geocoder.normalize import strip_marks
from geocoder.search import search
from importers.mapping import default_mapping
from importers.pipeline import ImportOptions, import_file
from importers.synthetic import generate_addresses

BENCH_DB = "diachiso_bench_batch"


@dataclass(frozen=True)
class Result:
    """One engine over some rows."""

    engine: str
    rows: int
    seconds: float
    matched: int
    note: str

    @property
    def rate(self) -> float:
        """Rows per second."""
        return self.rows / self.seconds


def load_data(engine: Engine, count: int, folder: Path) -> None:
    """Schema, bundled data, and ``count`` generated addresses (through the importer)."""
    load_bundled(engine)
    wards = gpd.read_file(DATA / "wards_2025.geojson").geometry
    frame = generate_addresses(wards, count, seed=17)
    path = folder / "generated_addresses.csv"
    table = frame.drop(columns="geometry").assign(lon=frame.geometry.x, lat=frame.geometry.y)
    table.to_csv(path, index=False)
    options = ImportOptions(mapping=default_mapping("addresses"), source="generated")
    with engine.begin() as conn:
        import_file(conn, path, options=options)


# ---------------------------------------------------------------- the input file


def _registered(conn: Connection, limit: int) -> list[tuple[str, str, str, str]]:
    """(house number, street, ward type, ward name) of addresses with a street."""
    ward = admin_unit.alias("ward")
    query = (
        select(address.c.house_number, address.c.street, ward.c.unit_type, ward.c.name)
        .join(ward, ward.c.id == address.c.commune_id)
        .where(address.c.street.is_not(None), address.c.house_number.is_not(None))
        .order_by(func.random())
        .limit(limit)
    )
    return [
        (str(house), str(street), str(kind), str(name)) for house, street, kind, name in conn.execute(query)
    ]


def _written(rng: random.Random, house: str, street: str, kind: str, ward: str) -> str:
    """An address as a clerk writes it: one of several habits."""
    habit = rng.randrange(7)
    unit = f"{kind.capitalize()} {ward}"
    if habit == 1:
        return f"{house} {street}, {unit}".lower()
    if habit == 2:
        return strip_marks(f"So {house} {street}, {unit}")
    if habit == 3:
        short = "P." if kind.lower().startswith("ph") else "X."
        return f"Số {house} {street}, {short}{ward}"
    if habit == 4:
        return f"sn {house} {street} {unit}"
    if habit == 5:
        return f"{house} {street}, {unit}, Phú Thọ"
    return f"Số {house} {street}, {unit}"


def build_rows(conn: Connection, rows: int, seed: int = 5) -> list[str]:
    """The address column of the input file (see the module docstring for the mix)."""
    rng = random.Random(seed)
    dev = [q.text for q in devset.load_queries() if not q.is_reverse]
    registered = _registered(conn, 50_000)
    out: list[str] = []
    for _ in range(rows):
        draw = rng.random()
        if draw < 0.30:
            out.append(rng.choice(dev))
        elif draw < 0.75:
            out.append(_written(rng, *rng.choice(registered)))
        elif draw < 0.95:
            _house, street, kind, ward = rng.choice(registered)
            out.append(_written(rng, str(rng.randint(400, 2000)), street, kind, ward))
        else:
            out.append(rng.choice(["", "   ", "???", "asdf qwer", "0000"]))
    return out


def write_csv(path: Path, texts: Sequence[str]) -> None:
    """The input file: id, address, a payload column."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "dia_chi", "ghi_chu"])
        writer.writerows((i, text, f"ho-{i % 977}") for i, text in enumerate(texts, start=1))


# ---------------------------------------------------------------- engines


def run_batch(index: GeocoderIndex, source: Path, target: Path) -> tuple[Result, float]:
    """diachiso's batch, file to file; also its cache hit rate."""
    start = time.perf_counter()
    with (
        source.open(encoding="utf-8", newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        report = geocode_csv(index, None, src, dst, column="dia_chi")
    seconds = time.perf_counter() - start
    note = f"{report.unmatched:,} unmatched, {report.bad:,} bad"
    result = Result("diachiso geocode_csv", report.rows, seconds, report.matched, note)
    return result, report.cache_hits / report.rows


def per_row(name: str, forward: Callable[[str], bool], texts: Sequence[str], note: str) -> Result:
    """One search per row, no cache (how a plain batch loop or Addok's CSV plugin works)."""
    start = time.perf_counter()
    matched = sum(1 for text in texts if text.strip() and forward(text))
    return Result(name, len(texts), time.perf_counter() - start, matched, note)


@contextmanager
def addok(conn: Connection, folder: Path) -> Iterator[Callable[[str], bool] | None]:
    """Addok's forward search (None with a message when it cannot run here)."""
    try:
        from benchmarks import addok_harness  # noqa: PLC0415 (optional peer)
    except ImportError as error:
        print(f"addok skipped: {error}")
        yield None
        return
    folder.mkdir(exist_ok=True)
    with addok_harness.addok_engine(conn, addok_harness.AddokOptions(), folder) as engine:
        yield lambda text: engine.forward(text) is not None


def table(results: Sequence[Result]) -> str:
    """The results as a markdown table with the ratio of diachiso's batch to each."""
    base = results[0].rate
    lines = [
        "| engine | rows | seconds | rows/s | matched | diachiso batch / this | notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.engine} | {r.rows:,} | {r.seconds:.2f} | {r.rate:,.0f} | {r.matched:,} | "
            f"{base / r.rate:.1f}x | {r.note} |"
        )
    return "\n".join(lines)


def measure(conn: Connection, args: argparse.Namespace, folder: Path) -> list[Result]:
    """Build the index and the input file, run the batch and the peers."""
    started = time.perf_counter()
    index = GeocoderIndex.load(conn)
    stats = index.stats()
    print(
        f"index: {time.perf_counter() - started:.2f} s, {sum(stats.entries.values()):,} entries, "
        f"{stats.addresses:,} addresses in {stats.address_bytes / 1e6:.1f} MB of arrays"
    )
    texts = build_rows(conn, args.rows)
    source = folder / "input.csv"
    write_csv(source, texts)
    batch, hit_rate = run_batch(index, source, folder / "output.csv")
    distinct = len(set(texts))
    print(f"batch cache hit rate: {hit_rate:.1%} ({distinct:,} distinct texts in {len(texts):,} rows)")
    sample = texts[: args.peer_rows]
    results = [batch]
    uncached = per_row(
        "diachiso search() per row, no cache",
        lambda text: bool(search(index, text, limit=1)),
        sample,
        "same index, the batch caches off",
    )
    results.append(uncached)
    with addok(conn, folder / "addok") as forward:
        if forward is not None:
            results.append(per_row("addok search per row", forward, sample, "in-process, own Redis"))
    return results


def main() -> None:
    """Build the data and the file, run the engines, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--addresses", type=int, default=100_000)
    parser.add_argument("--peer-rows", type=int, default=20_000)
    args = parser.parse_args()
    engine = make_engine(fresh_database(BENCH_DB))
    with tempfile.TemporaryDirectory(prefix="diachiso-batch-") as name:
        folder = Path(name)
        started = time.perf_counter()
        load_data(engine, args.addresses, folder)
        seconds = time.perf_counter() - started
        print(f"data: bundled + {args.addresses:,} generated addresses in {seconds:.1f} s")
        with engine.connect() as conn:
            results = measure(conn, args, folder)
    engine.dispose()
    print(table(results))


if __name__ == "__main__":
    main()
