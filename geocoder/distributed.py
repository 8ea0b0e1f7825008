"""Batch geocoding on a Dask cluster: the same output as :func:`geocoder.batch.geocode_csv`.

The driver reads the CSV rows and hands them to Dask as a dataframe (row number and the
row's fields as JSON). The workers compute each row's *place key* - the normalised
text with its house number cut out, the key the batch caches use - and the rows are
shuffled so that every row of one street or village lands in the same partition, in
file order. Each partition then runs the ordinary single-process batch geocoder, so its
caches see the same rows, in the same order, as a single process would: the answers
are the same, row by row. The driver writes the rows back in file order.

Each worker loads the geocoder index once, from the database (a worker plugin keyed by
the database URL), not once per partition; later jobs only check that it is current.
The workers must reach the database; the driver holds the rows of the file while they
are geocoded (about 200 bytes a row). ``connect("local:2")`` starts a LocalCluster of
two single-threaded worker processes; ``connect("tcp://host:8786")`` joins a scheduler.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Final, TextIO

import dask.dataframe as dd
import numpy as np
import orjson
import pandas as pd
from dask.delayed import delayed
from distributed import Client, LocalCluster, Worker, WorkerPlugin, get_worker
from numpy.typing import NDArray

from addresses.db import make_engine
from addresses.errors import InvalidParameterError
from geocoder.batch import MAX_PROBLEMS, BatchOptions, address_columns, cache_key, geocode_csv, skeleton
from geocoder.index import GeocoderIndex
from geocoder.normalize import normalize
from geocoder.results import BatchReport

ROWS_PER_PARTITION: Final = 20_000
_PROBLEM_RE: Final = re.compile(r"^row (\d+): ")


@contextmanager
def connect(spec: str) -> Iterator[Client]:
    """A Dask client: ``local:N`` starts N single-threaded worker processes, else a scheduler address.

    A LocalCluster started here is closed at the end of the block.

    >>> with connect("local:x"):
    ...     pass
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidParameterError: dask: local:N takes a number of workers, not 'x'
    """
    if not spec.startswith("local:"):
        with Client(spec) as client:
            yield client
        return
    count = spec.removeprefix("local:")
    if not (count.isascii() and count.isdigit()) or int(count) < 1:
        raise InvalidParameterError("dask", f"local:N takes a number of workers, not {count!r}")
    cluster = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, Client(cluster) as client:
        yield client


class IndexPlugin(WorkerPlugin):
    """Loads the geocoder index of one database once on each worker, when registered."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.name = plugin_name(database_url)
        self.loads = 0
        self.worker = ""
        self.index: GeocoderIndex | None = None

    def setup(self, worker: Worker) -> None:
        """Load the index (the worker's only database work)."""
        self.worker = worker.address
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as conn:
                self.index = GeocoderIndex.load(conn)
        finally:
            engine.dispose()
        self.loads += 1

    def refresh(self) -> bool:
        """Bring the loaded index up to date (a fingerprint check; a rebuild only if the data changed)."""
        if self.index is None:
            return False
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return self.index.refresh_if_stale(conn, force=True)
        finally:
            engine.dispose()


def _has_index(name: str, dask_worker: Worker) -> bool:
    """Whether this worker holds the index of plugin ``name`` (run on each worker)."""
    plugin = dask_worker.plugins.get(name)
    return isinstance(plugin, IndexPlugin) and plugin.index is not None


def _refresh_index(name: str, dask_worker: Worker) -> bool:
    """Refresh this worker's index of plugin ``name`` (run on each worker)."""
    plugin = dask_worker.plugins[name]
    return isinstance(plugin, IndexPlugin) and plugin.refresh()


def ensure_index(client: Client, database_url: str) -> str:
    """Make every worker hold the index of ``database_url``: loaded once, refreshed on later jobs.

    Returns the plugin name the partitions find the index under. Workers that join later
    load it when they start (the scheduler hands them the plugin).
    """
    name = plugin_name(database_url)
    held = client.run(_has_index, name)
    if held and all(held.values()):
        client.run(_refresh_index, name)
    else:
        client.register_plugin(IndexPlugin(database_url), name=name)
    return name


def plugin_name(database_url: str) -> str:
    """The worker plugin name of a database's index (the URL itself is not shown: it holds a password).

    >>> plugin_name("postgresql://u:p@h/db").startswith("diachiso-index-")
    True
    """
    return "diachiso-index-" + hashlib.sha256(database_url.encode()).hexdigest()[:16]


def worker_index(name: str) -> GeocoderIndex:
    """The index this worker loaded for the plugin ``name``."""
    plugin = get_worker().plugins.get(name)
    if not isinstance(plugin, IndexPlugin) or plugin.index is None:
        raise RuntimeError(f"worker has no geocoder index {name}: register IndexPlugin first")
    return plugin.index


@dataclass(frozen=True, slots=True, kw_only=True)
class DaskOptions:
    """Where the workers load the geocoder index from, and how many rows a partition holds at first."""

    database_url: str
    rows_per_partition: int = ROWS_PER_PARTITION


@dataclass(frozen=True)
class _Job:
    """What every partition needs to know: the header, the batch options (no progress), the index plugin."""

    header: tuple[str, ...]
    options: BatchOptions
    plugin: str


def row_text(fields: list[str], positions: tuple[int, ...], width: int) -> str:
    """The address text of a row as the batch joins it ("" for a row of the wrong width).

    >>> row_text(["1", " Xóm Lác ", "Mai Châu"], (1, 2), 3), row_text(["1"], (1,), 2)
    ('Xóm Lác, Mai Châu', '')
    """
    if len(fields) != width:
        return ""
    return ", ".join(part for part in (fields[i].strip() for i in positions) if part)


def text_key(text: str) -> str:
    """The place key of an address text: its normalised skeleton, else its normalised text."""
    if not text:
        return ""
    normal = normalize(text)
    shape = skeleton(normal) or skeleton(cache_key(text))
    return shape[0] if shape else normal


def _keys(part: pd.DataFrame, positions: tuple[int, ...], width: int) -> pd.Series:
    """The place key of every row of a partition (each distinct text normalised once)."""
    texts = [row_text(orjson.loads(fields), positions, width) for fields in part["fields"]]
    codes, distinct = pd.factorize(pd.Series(texts, dtype=object))
    keys = np.array([text_key(str(text)) for text in distinct] + [""], dtype=object)
    return pd.Series(keys[codes], index=part.index, dtype=object)


@dataclass(frozen=True)
class _Part:
    """A geocoded partition: its file row numbers, the output header and rows, its report."""

    numbers: NDArray[np.int64]
    header: list[str]
    rows: list[list[str]]
    report: BatchReport


def _geocode_part(part: pd.DataFrame, job: _Job) -> _Part:
    """Geocode one partition in file order with the worker's index."""
    part = part.sort_values("row")
    src = io.StringIO()
    delimiter = job.options.delimiter
    writer = csv.writer(src, delimiter=delimiter, lineterminator="\n")
    writer.writerow(job.header)
    writer.writerows(orjson.loads(fields) for fields in part["fields"])
    src.seek(0)
    out = io.StringIO()
    index = worker_index(job.plugin)
    report = geocode_csv(index, None, src, out, options=job.options)
    out.seek(0)
    header, *rows = csv.reader(out, delimiter=delimiter)
    return _Part(part["row"].to_numpy(dtype=np.int64), header, rows, report)


def _read(src: TextIO, delimiter: str, rows_per_partition: int) -> Iterator[pd.DataFrame]:
    """The data rows as frames of (row number from 1, the fields as JSON); one empty frame for no rows."""
    reader = csv.reader(src, delimiter=delimiter)
    numbers: list[int] = []
    fields: list[str] = []
    yielded = False
    for number, row in enumerate(reader, start=1):
        numbers.append(number)
        fields.append(orjson.dumps(row).decode())
        if len(numbers) == rows_per_partition:
            yield pd.DataFrame({"row": numbers, "fields": fields})
            numbers, fields, yielded = [], [], True
    if numbers or not yielded:
        rows = {"row": pd.Series(numbers, dtype=np.int64), "fields": pd.Series(fields, dtype=object)}
        yield pd.DataFrame(rows)


def _renumbered(problems: Sequence[str], rows: NDArray[np.int64]) -> list[tuple[int, str]]:
    """A partition's problems with their file row numbers (the partition numbers its rows from 1)."""
    result = []
    for problem in problems:
        found = _PROBLEM_RE.match(problem)
        if found is not None:
            number = int(rows[int(found.group(1)) - 1])
            result.append((number, f"row {number}: {problem[found.end() :]}"))
    return result


def _partitions(frames: list[pd.DataFrame], job: _Job, positions: tuple[int, ...]) -> list[Any]:
    """The rows as Dask partitions grouped by place key (one delayed frame per partition)."""
    rows = dd.from_pandas(pd.concat(frames, ignore_index=True), npartitions=len(frames))
    width = len(job.header)
    keyed = rows.assign(key=rows.map_partitions(_keys, positions, width, meta=("key", object)))
    shuffled = keyed.shuffle(on="key", npartitions=len(frames), shuffle_method="tasks")
    return list(shuffled.to_delayed())


def geocode_csv_dask(
    client: Client, src: TextIO, dst: TextIO, *, options: BatchOptions, dask_options: DaskOptions
) -> BatchReport:
    """Geocode a CSV stream on a Dask cluster; the same rows and cells as ``geocode_csv``.

    Each worker loads the index of ``dask_options.database_url`` on its first job, and checks
    it is current on the next ones. ``options.progress`` hears once, at the end (the rows are
    geocoded on the workers).
    """
    started = time.perf_counter()
    delimiter = options.delimiter
    header = next(csv.reader(io.StringIO(src.readline()), delimiter=delimiter), None)
    if header is None:
        raise InvalidParameterError("src", "the CSV file is empty: no header row")
    positions = address_columns(header, options.column)
    plugin = ensure_index(client, dask_options.database_url)
    job = _Job(tuple(header), replace(options, progress=None), plugin)
    frames = list(_read(src, delimiter, dask_options.rows_per_partition))
    parts = _partitions(frames, job, positions)
    results = client.compute([delayed(_geocode_part)(part, job) for part in parts], sync=True)
    report = _write(results, job, dst, started)
    if options.progress is not None:
        options.progress(report.rows)
    return report


def _write(parts: list[_Part], job: _Job, dst: TextIO, started: float) -> BatchReport:
    """Write the header and every row in file order; add the partitions' reports up."""
    numbers = np.concatenate([part.numbers for part in parts])
    rows = [row for part in parts for row in part.rows]
    writer = csv.writer(dst, delimiter=job.options.delimiter, lineterminator="\n")
    writer.writerow(parts[0].header)
    writer.writerows(rows[i] for i in np.argsort(numbers, kind="stable"))
    problems = sorted(p for part in parts for p in _renumbered(part.report.problems, part.numbers))
    reports = [part.report for part in parts]
    return BatchReport(
        rows=sum(r.rows for r in reports),
        matched=sum(r.matched for r in reports),
        unmatched=sum(r.unmatched for r in reports),
        bad=sum(r.bad for r in reports),
        seconds=time.perf_counter() - started,
        cache_hits=sum(r.cache_hits for r in reports),
        problems=tuple(text for _number, text in problems[:MAX_PROBLEMS]),
    )
