"""Batch geocoding on Dask (a LocalCluster of two worker processes) equals the single-process batch."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from addresses.db import make_engine
from geocoder.batch import BatchOptions, geocode_csv
from geocoder.distributed import DaskOptions, geocode_csv_dask, plugin_name
from geocoder.index import GeocoderIndex
from importers import synth
from tests.databases import loaded_database

pytestmark = pytest.mark.db

GENERATED = 3_000
OPTIONS = BatchOptions(column="dia_chi")


@pytest.fixture(scope="module")
def database(data_dir_module: Path) -> Iterator[str]:
    """A database with the bundled data and generated addresses (so house numbers are found)."""
    with loaded_database("diachiso_dask") as (url, engine):
        with engine.begin() as conn:
            synth.load(conn, synth.generate(data_dir_module, GENERATED, seed=8), name="synth-8")
        yield url


@pytest.fixture(scope="module")
def data_dir_module() -> Path:
    return Path(__file__).resolve().parents[2] / "data" / "hoabinh"


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def text(data_dir_module: Path) -> str:
    return _input(data_dir_module)


def _input(data_dir: Path) -> str:
    """Dev-set queries, generated addresses (clean and messy, repeated streets), and bad rows, as CSV."""
    queries = [
        json.loads(line)
        for line in (data_dir / "geocoding_dev_queries.jsonl").read_text("utf-8").splitlines()
    ]
    texts = [q["query"] for q in queries if "query" in q]
    generated = synth.generate(data_dir, GENERATED, seed=8, messy=0.3)
    texts += generated["address_written"].tolist() + generated["address"].tolist()[:500]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "dia_chi", "ghi_chu"])
    for number, text in enumerate(texts, start=1):
        writer.writerow([number, text, f"n{number % 7}"])
    writer.writerow(["bad", ""])  # too few fields
    writer.writerow(["empty", "", "x"])
    writer.writerow(["extra", "Xóm Lác", "a", "b"])
    writer.writerow(["line", "Xóm Giang,\nxã Liên Sơn", "newline inside"])
    return out.getvalue()


def test_dask_gives_the_same_rows_as_one_process(database: str, client: Client, text: str) -> None:
    single = io.StringIO()
    engine = make_engine(database)
    with engine.connect() as conn:
        index = GeocoderIndex.load(conn)
    engine.dispose()
    expected = geocode_csv(index, None, io.StringIO(text), single, options=OPTIONS)
    distributed = io.StringIO()
    calls: list[int] = []
    report = geocode_csv_dask(
        client,
        io.StringIO(text),
        distributed,
        options=BatchOptions(column="dia_chi", progress=calls.append),
        dask_options=DaskOptions(database_url=database, rows_per_partition=700),
    )
    assert calls == [expected.rows]  # progress hears once, at the end
    want = list(csv.reader(io.StringIO(single.getvalue())))
    got = list(csv.reader(io.StringIO(distributed.getvalue())))
    assert len(got) == len(want) > 4_000
    for number, (row_got, row_want) in enumerate(zip(got, want, strict=True)):
        assert row_got == row_want, f"row {number} differs"
    assert distributed.getvalue() == single.getvalue()
    assert (report.rows, report.matched, report.unmatched, report.bad) == (
        expected.rows,
        expected.matched,
        expected.unmatched,
        expected.bad,
    )
    assert report.problems == expected.problems
    kind = got[0].index("kind")
    assert (
        sum(row[kind] == "address" for row in got[1:]) > 500
    )  # house numbers found (the street caches at work)
    assert report.cache_hits > 0


def test_each_worker_loads_the_index_once(database: str, client: Client, text: str) -> None:
    small = "\n".join(text.splitlines()[:1_200]) + "\n"
    on_workers = DaskOptions(database_url=database, rows_per_partition=300)
    geocode_csv_dask(client, io.StringIO(small), io.StringIO(), options=OPTIONS, dask_options=on_workers)
    loads = client.run(lambda dask_worker: dask_worker.plugins[plugin_name(database)].loads)
    assert sorted(loads.values()) == [1, 1]  # two workers, two jobs of many partitions: one load each


def test_a_header_only_file_gives_the_header_only(database: str, client: Client) -> None:
    out = io.StringIO()
    on_workers = DaskOptions(database_url=database)
    report = geocode_csv_dask(
        client, io.StringIO("id,dia_chi\n"), out, options=OPTIONS, dask_options=on_workers
    )
    assert report.rows == 0
    assert out.getvalue().splitlines()[0].startswith("id,dia_chi,lon,lat,")
    assert len(out.getvalue().splitlines()) == 1
