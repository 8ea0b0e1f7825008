"""Batch geocoding on Dask vs one process: rows/s on the same input, 1 and 2 workers.

Run: ``.venv/bin/python benchmarks/bench_dask.py [--rows 100000] [--addresses 20000] [--keep]``
(about five minutes on the 2-core machine, half a minute of it loading the addresses).

A throwaway database ``diachiso_bench_dask`` gets the bundled Hoa Binh data and
``--addresses`` generated addresses (``diachiso synth``, seed 2025, loaded through the
importer). The input is ``--rows`` rows cycling through the texts of that set as people
write them (``address_written``, 20 % messy; with the defaults each text five times, as
agency files repeat themselves), so house numbers resolve. Every mode
geocodes the same CSV file to a file:

* one process: ``geocode_csv`` with the index loaded beforehand;
* Dask LocalCluster with 1 and 2 single-threaded worker processes: ``geocode_csv_dask``
  after a warm-up job that started the cluster and loaded the index on each worker.

Printed: one markdown table (start-up = cluster start + index load; geocode = the timed
run; rows/s of the timed run; ratio to one process) and whether every output file is
byte for byte the one-process output.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from addresses.db import make_engine
from addresses.settings import DatabaseSettings
from benchmarks.common import DATA, drop_database, fresh_database, load_bundled
from geocoder.batch import geocode_csv
from geocoder.distributed import connect, geocode_csv_dask
from geocoder.index import GeocoderIndex
from importers import synth

BENCH_DB = "diachiso_bench_dask"
SEED = 2025


@dataclass(frozen=True)
class Run:
    """One mode over the input."""

    mode: str
    workers: int
    startup: float
    seconds: float
    rows: int
    same: bool

    @property
    def rate(self) -> float:
        """Rows per second of the timed run."""
        return self.rows / self.seconds


def prepare(url: str, addresses: int, rows: int, folder: Path) -> Path:
    """Migrate and load the database; write the input CSV; return its path."""
    engine = make_engine(url)
    load_bundled(engine)
    with engine.begin() as conn:
        synth.load(conn, synth.generate(DATA, addresses, seed=SEED, messy=0.2), name="bench")
    engine.dispose()
    texts = synth.generate(DATA, addresses, seed=SEED, messy=0.2)["address_written"].tolist()
    path = folder / "input.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "dia_chi"])
        writer.writerows([number, texts[number % len(texts)]] for number in range(rows))
    return path


def one_process(url: str, path: Path, output: Path) -> Run:
    """The single-process batch, index loaded first."""
    started = time.perf_counter()
    engine = make_engine(url)
    with engine.connect() as conn:
        index = GeocoderIndex.load(conn)
    engine.dispose()
    startup = time.perf_counter() - started
    with (
        path.open(encoding="utf-8", newline="") as src,
        output.open("w", encoding="utf-8", newline="") as dst,
    ):
        report = geocode_csv(index, None, src, dst, column="dia_chi")
    return Run("one process", 1, startup, report.seconds, report.rows, True)


def on_dask(url: str, path: Path, output: Path, workers: int, expected: bytes) -> Run:
    """The Dask batch on a fresh LocalCluster; a warm-up job first."""
    started = time.perf_counter()
    with connect(f"local:{workers}") as client:
        warm = io.StringIO("id,dia_chi\n1,Phường Tân Hòa\n")
        geocode_csv_dask(client, url, warm, io.StringIO(), column="dia_chi")
        startup = time.perf_counter() - started
        with (
            path.open(encoding="utf-8", newline="") as src,
            output.open("w", encoding="utf-8", newline="") as dst,
        ):
            report = geocode_csv_dask(client, url, src, dst, column="dia_chi")
    same = output.read_bytes() == expected
    return Run("Dask LocalCluster", workers, startup, report.seconds, report.rows, same)


def table(runs: list[Run]) -> str:
    """The markdown table of the runs, with the ratio to one process."""
    base = runs[0].rate
    lines = [
        "| mode | workers | start-up s | geocode s | rows/s | vs one process | same output |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r.mode} | {r.workers} | {r.startup:.1f} | {r.seconds:.1f} | {r.rate:,.0f} | "
        f"{r.rate / base:.2f}x | {'yes' if r.same else 'NO'} |"
        for r in runs
    ]
    return "\n".join(lines)


def main() -> None:
    """Parse options, prepare, run every mode, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--addresses", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    options = parser.parse_args()
    settings = DatabaseSettings()
    url = fresh_database(BENCH_DB, settings)
    try:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            path = prepare(url, options.addresses, options.rows, Path(folder))
            print(
                f"prepared {options.addresses:,} addresses and {options.rows:,} rows in "
                f"{time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
            single = one_process(url, path, Path(folder) / "one.csv")
            expected = (Path(folder) / "one.csv").read_bytes()
            runs = [single]
            for workers in (1, 2):
                runs.append(on_dask(url, path, Path(folder) / f"dask{workers}.csv", workers, expected))
        print(table(runs))
    finally:
        if not options.keep:
            drop_database(url)


if __name__ == "__main__":
    main()
