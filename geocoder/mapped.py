"""The address arrays of the index in memory-mapped files: built once, shared by every server worker.

Each worker process of ``diachiso serve --workers N`` holds a geocoder index. The big part
of it, the addresses (:class:`geocoder.houses.HouseStore`: points, ids, registry codes,
house-number hashes, sort orders, and the sorted points reverse geocoding searches), is
written once as ``.npy`` files into a folder named after the data it holds, and every
worker maps them read-only (``numpy.load(mmap_mode="r")``): the operating system keeps one
copy in its page cache for all of them, and a worker that starts on unchanged data reads
no address from the database at all.

The folder is ``<root>/<database>/<fingerprint>/``: ``<database>`` hashes the server,
database name and database OID (a re-created database is another one), ``<fingerprint>``
the address part of :class:`geocoder.loading.Fingerprint` (largest address, history and
change-log ids: any insert, edit or retirement changes it). The first worker to need a
folder builds it under an exclusive file lock, in a temporary folder renamed into place
when complete; the others wait for the lock, then map what it wrote. When the data
changes, the next refresh builds the new folder the same way and removes the older ones of
that database (a worker still mapping one keeps its pages until it lets go: unlinking a
mapped file is safe on POSIX systems).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, func, select, text

from geocoder.build import AddressPart, address_part
from geocoder.houses import HouseStore, WrittenParts
from geocoder.loading import load_addresses

FORMAT: Final = 1
"""Bumped when the files' layout changes (older folders are then not used)."""
STORE_ARRAYS: Final = (
    "groups",
    "hashes",
    "lon",
    "lat",
    "address_id",
    "registry",
    "registry_order",
    "ids_order",
    "successor",
    "retired",
)
WRITTEN_ARRAYS: Final = ("house_codes", "alley_codes", "place_codes")
DONE: Final = "done"


@dataclass(frozen=True, slots=True)
class MappedSource:
    """Where an index's addresses came from: the folder and whether this process built it."""

    folder: Path
    key: str
    built_here: bool


def database_key(conn: Connection) -> str:
    """A short name of the database behind ``conn``: server address, database name and OID."""
    name = conn.execute(select(func.current_database())).scalar_one()
    oid = conn.execute(text("SELECT oid FROM pg_database WHERE datname = current_database()")).scalar_one()
    url = conn.engine.url
    ident = f"{url.host}:{url.port}/{name}/{oid}"
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


def fingerprint_key(addresses: tuple[Any, ...]) -> str:
    """The folder name of the address part of a fingerprint.

    >>> fingerprint_key((10, 4, None)) == fingerprint_key((10, 4, None)) != fingerprint_key((11, 4, None))
    True
    """
    return hashlib.sha256(repr((FORMAT, addresses)).encode()).hexdigest()[:16]


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock of a database's folder (other processes wait for it)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_part(part: AddressPart, folder: Path) -> None:
    """Write an address part's arrays (``.npy``) and its small objects (one pickle) into ``folder``."""
    store = part.store
    for name in STORE_ARRAYS:
        np.save(folder / f"{name}.npy", np.ascontiguousarray(getattr(store, name)), allow_pickle=False)
    written = store.written
    for name in WRITTEN_ARRAYS:
        np.save(folder / f"{name}.npy", np.ascontiguousarray(getattr(written, name)), allow_pickle=False)
    small = {
        "groups": part.groups,
        "bounds": store.bounds,
        "texts": (written.house_texts, written.alley_texts, written.place_texts),
    }
    (folder / "small.pickle").write_bytes(pickle.dumps(small, protocol=pickle.HIGHEST_PROTOCOL))
    (folder / DONE).write_text(str(len(store)), encoding="utf-8")


def _mapped(path: Path) -> NDArray[Any]:
    """A read-only mapping of an ``.npy`` file as a plain array (slicing a ``numpy.memmap`` costs more).

    >>> folder = Path(tempfile.mkdtemp())
    >>> np.save(folder / "a.npy", np.arange(3))
    >>> mapped = _mapped(folder / "a.npy")
    >>> type(mapped).__name__, mapped.tolist(), mapped.flags.writeable
    ('ndarray', [0, 1, 2], False)
    >>> shutil.rmtree(folder)
    """
    array: NDArray[Any] = np.asarray(np.load(path, mmap_mode="r"))
    return array


def read_part(folder: Path) -> AddressPart:
    """Map the arrays of ``folder`` read-only (shared with every process mapping them)."""
    small = pickle.loads((folder / "small.pickle").read_bytes())
    arrays = {name: _mapped(folder / f"{name}.npy") for name in (*STORE_ARRAYS, *WRITTEN_ARRAYS)}
    house_texts, alley_texts, place_texts = small["texts"]
    written = WrittenParts(
        arrays["house_codes"],
        house_texts,
        arrays["alley_codes"],
        alley_texts,
        arrays["place_codes"],
        place_texts,
    )
    store = HouseStore(
        **{name: arrays[name] for name in STORE_ARRAYS}, bounds=small["bounds"], written=written
    )
    return AddressPart(small["groups"], store)


def _build(conn: Connection, target: Path) -> None:
    """Load the addresses and write them into ``target`` through a temporary folder."""
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        write_part(address_part(load_addresses(conn)), scratch)
        os.replace(scratch, target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def _remove_others(database: Path, keep: str) -> None:
    """Remove the other fingerprints' folders of a database (mapped pages stay valid)."""
    for other in database.iterdir():
        if other.is_dir() and other.name != keep:
            shutil.rmtree(other, ignore_errors=True)


def mapped_addresses(
    conn: Connection, root: Path, addresses: tuple[Any, ...]
) -> tuple[AddressPart, MappedSource]:
    """The address part for this fingerprint, mapped from ``root`` (built there first if missing)."""
    database = root / database_key(conn)
    key = fingerprint_key(addresses)
    folder = database / key
    built = False
    with _locked(database):
        if not (folder / DONE).exists():
            shutil.rmtree(folder, ignore_errors=True)
            _build(conn, folder)
            _remove_others(database, key)
            built = True
    return read_part(folder), MappedSource(folder, key, built)
