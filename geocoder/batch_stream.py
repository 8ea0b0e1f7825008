"""CSV batches geocoded in the background and streamed back: a bounded pool of jobs and the pipe of each.

A :class:`BatchPool` geocodes at most ``size`` files at once, each on one of its
``size`` threads; a file arriving when every slot is taken is refused at once with
:class:`~addresses.errors.BusyError` (the web layer answers 503 with Retry-After),
before any of it is read. A job writes its answer into a :class:`CsvPipe`, which the
web layer reads chunk by chunk: a slow reader slows the job, a gone one stops it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import queue
import threading
import time
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO, Final

from typing_extensions import Buffer

from addresses.errors import BusyError
from geocoder.batch import BatchOptions, geocode_csv
from geocoder.index import GeocoderIndex

CHUNK_BYTES: Final = 1 << 16
"""Bytes gathered before a piece of the answer is handed to the reader."""
PIPE_CHUNKS: Final = 16
"""Pieces waiting for the reader at most; the geocoding thread waits when they are there."""
ABANDON_AFTER_S: Final = 300.0
"""A reader that takes no piece for this long has gone: the geocoding thread stops."""

log = logging.getLogger(__name__)


class ClientGoneError(Exception):
    """The client stopped reading the answer."""


_END: Final = b""


class CsvPipe(io.RawIOBase):
    """A byte stream the batch thread writes into and the response reads from, chunk by chunk.

    At most :data:`PIPE_CHUNKS` chunks wait: a slow client slows the geocoding down, a
    gone one stops it, and memory stays flat for any file size.
    """

    def __init__(self) -> None:
        super().__init__()
        self.chunks: queue.Queue[bytes | Exception] = queue.Queue(maxsize=PIPE_CHUNKS)
        self.abandoned = threading.Event()

    def writable(self) -> bool:
        """A pipe is written to."""
        return True

    def write(self, data: Buffer, /) -> int:
        """Hand a chunk over (waiting while the client is behind)."""
        chunk = bytes(data)
        if chunk:
            self._put(chunk)
        return len(chunk)

    def _put(self, item: bytes | Exception) -> None:
        deadline = time.monotonic() + ABANDON_AFTER_S
        while not self.abandoned.is_set() and time.monotonic() < deadline:
            try:
                self.chunks.put(item, timeout=0.5)
            except queue.Full:
                continue
            return
        raise ClientGoneError

    def finish(self, error: Exception | None = None) -> None:
        """Mark the end of the answer (or the error that stopped the run)."""
        self._put(error if error is not None else _END)

    def text(self) -> io.TextIOWrapper:
        """A UTF-8 text stream into the pipe, buffered into chunks of about 64 KB."""
        return io.TextIOWrapper(
            io.BufferedWriter(self, buffer_size=CHUNK_BYTES), encoding="utf-8", newline=""
        )

    def read_chunks(self) -> Generator[bytes, None, None]:
        """The answer, chunk by chunk, as the batch thread writes it."""
        try:
            while (item := self.chunks.get()) != _END:
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            self.abandoned.set()


@dataclass(frozen=True, slots=True)
class BatchJob:
    """One CSV file to geocode: the file (binary, UTF-8 text), its address column(s) and delimiter."""

    source: BinaryIO
    options: BatchOptions
    name: str | None = None


def geocode_into(pipe: CsvPipe, index: GeocoderIndex, job: BatchJob) -> None:
    """Geocode the job's file into the pipe; a failure ends the answer with its error (and is logged)."""
    src = io.TextIOWrapper(job.source, encoding="utf-8-sig", newline="")
    dst = pipe.text()
    try:
        report = geocode_csv(index, None, src, dst, options=job.options)
        dst.flush()
        pipe.finish()
        log.info("batch %s: %s", job.name, report.to_dict())
    except ClientGoneError:
        log.info("batch %s: the client went away", job.name)
    except Exception as error:  # the client gets a cut-off answer; the log gets the reason
        log.exception("batch %s failed", job.name)
        with contextlib.suppress(ClientGoneError):
            pipe.finish(error)
    finally:
        src.detach()


class BatchPool:
    """At most ``size`` CSV files geocoded at once, on ``size`` threads; one more is refused (BusyError)."""

    def __init__(self, size: int, *, retry_after_s: int) -> None:
        """Run ``size`` jobs at once; a refusal says to retry after ``retry_after_s`` seconds."""
        self.size = size
        self.retry_after_s = retry_after_s
        self._free = threading.BoundedSemaphore(size)
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="diachiso-batch")
        self._pipes: set[CsvPipe] = set()
        self._lock = threading.Lock()

    def reserve(self) -> None:
        """Take a slot at once, or raise BusyError (call it before reading the upload)."""
        if not self._free.acquire(blocking=False):
            message = f"{self.size} CSV file(s) are being geocoded on this worker already; retry later"
            raise BusyError(message, retry_after_s=self.retry_after_s)

    def release(self) -> None:
        """Give back a slot reserved for a job that will not start."""
        self._free.release()

    def start(self, index: GeocoderIndex, job: BatchJob) -> CsvPipe:
        """Run the job on a pool thread (its slot reserved); its answer streams out of the pipe returned."""
        pipe = CsvPipe()
        with self._lock:
            self._pipes.add(pipe)
        self._executor.submit(self._run, pipe, index, job)
        return pipe

    def _run(self, pipe: CsvPipe, index: GeocoderIndex, job: BatchJob) -> None:
        try:
            geocode_into(pipe, index, job)
        finally:
            with self._lock:
                self._pipes.discard(pipe)
            self._free.release()

    def close(self) -> None:
        """Stop the jobs running (their readers are gone with the server) and the threads."""
        with self._lock:
            for pipe in self._pipes:
                pipe.abandoned.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
