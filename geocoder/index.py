"""The geocoder index: everything the database knows, in memory, ready to search.

``GeocoderIndex.load(conn)`` reads the units of both periods, the lineage, villages,
places, and the address table (as compact arrays, see :mod:`geocoder.houses`), and
builds posting lists over the folded name tokens of every entry and every context,
a typo dictionary and a prefix list.

Staying current: :meth:`GeocoderIndex.refresh_if_stale` compares a cheap fingerprint
of the data (:func:`geocoder.loading.fingerprint`: counts and latest updates of the small
tables, largest ids of the address, address-history and change-log tables - about 10 ms
with a million addresses) at most every ``check_every_s`` seconds, and rebuilds what
changed: the small tables (units, lineage, villages, places) by a full rebuild of the
entries (under a second), and only when the addresses changed the address arrays too
(about 8 s per million addresses, 69 MB of arrays). A rebuild happens off to the side
and replaces the state in one assignment, so searches running meanwhile keep using the
old state.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import Connection

from addresses.schema import tile_invalidation
from geocoder.build import AddressPart, StreetGroups, address_part, build_entries
from geocoder.candidates import CandidateArrays
from geocoder.entries import Context, Entry
from geocoder.houses import HouseStore
from geocoder.loading import (
    Fingerprint,
    address_marks,
    fingerprint,
    has_change_log,
    load_addresses,
    load_lineage,
    load_places,
    load_units,
    load_villages,
)
from geocoder.mapped import mapped_addresses
from geocoder.reverse_memory import ReverseIndex
from geocoder.territory import Territory
from geocoder.vocab import PostingIndex, Vocabulary

DEFAULT_CHECK_EVERY_S: Final = 30.0


@dataclass(frozen=True, slots=True)
class IndexState:
    """One consistent snapshot of the index (replaced whole on refresh)."""

    entries: tuple[Entry, ...]
    contexts: tuple[Context, ...]
    territory: Territory
    vocab: Vocabulary
    entry_postings: PostingIndex
    context_postings: PostingIndex
    addresses: AddressPart
    streets: StreetGroups
    name_weights: tuple[tuple[tuple[float, ...], ...], ...]
    candidate_arrays: CandidateArrays
    """The entry postings and entry facts as arrays, for ranking candidates (:mod:`geocoder.candidates`)."""
    reverse: ReverseIndex
    """Polygons, lineage, villages, address points: :func:`geocoder.reverse_memory.reverse_in_memory`."""
    fingerprint: Fingerprint
    change_log: bool
    built_seconds: float
    source: str = "database"
    """Where the address arrays are: "database" (read into this process) or the mapped folder."""

    @property
    def houses(self) -> HouseStore:
        """The address arrays."""
        return self.addresses.store


def _names(
    entries: tuple[Entry, ...] | tuple[Context, ...],
) -> Iterator[tuple[int, int, tuple[str, ...], int]]:
    """(owner, variant, folded tokens, lead) of every name form."""
    for owner in entries:
        for variant, form in enumerate(owner.names):
            yield owner.id, variant, form.folded, form.lead


def _address_part(
    conn: Connection, print_: Fingerprint, files: Path | None, reuse: tuple[AddressPart, str] | None
) -> tuple[AddressPart, str]:
    """The address part and its source: reused, mapped from ``files`` (built there if missing), or read."""
    if reuse is not None:
        return reuse
    if files is not None:
        part, mapped = mapped_addresses(conn, files, print_.addresses)
        return part, str(mapped.folder)
    return address_part(load_addresses(conn)), "database"


def build_state(
    conn: Connection,
    *,
    addresses: AddressPart | None = None,
    files: Path | None = None,
    source: str = "database",
) -> IndexState:
    """Read the database and build a state; reuse ``addresses`` (from ``source``) when they did not change.

    ``files``: a folder where the address arrays are shared between processes (:mod:`geocoder.mapped`).
    """
    started = time.perf_counter()
    change_log = has_change_log(conn)
    print_ = fingerprint(conn, change_log=tile_invalidation if change_log else None)
    units, lineage, villages = load_units(conn), load_lineage(conn), load_villages(conn)
    territory = Territory(units, lineage)
    reuse = None if addresses is None else (addresses, source)
    part, source = _address_part(conn, print_, files, reuse)
    built = build_entries(territory, villages, load_places(conn), part)
    contexts = tuple(territory.contexts)
    entry_postings = PostingIndex.build(_names(built.entries))
    context_postings = PostingIndex.build(_names(contexts))
    vocab = Vocabulary.build([*entry_postings.postings, *context_postings.postings])
    weights = tuple(
        tuple(tuple(entry_postings.weight(token) for token in form.folded) for form in entry.names)
        for entry in built.entries
    )
    return IndexState(
        entries=built.entries,
        contexts=contexts,
        territory=territory,
        vocab=vocab,
        entry_postings=entry_postings,
        context_postings=context_postings,
        addresses=part,
        streets=built.streets,
        name_weights=weights,
        candidate_arrays=CandidateArrays.build(entry_postings.postings, built.entries, len(contexts)),
        reverse=ReverseIndex.build(
            units, lineage, villages, (part.store.lon, part.store.lat, ~part.store.retired), part.store
        ),
        fingerprint=print_,
        change_log=change_log,
        built_seconds=time.perf_counter() - started,
        source=source,
    )


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Sizes of the index, for logs and health checks."""

    entries: dict[str, int]
    contexts: int
    tokens: int
    addresses: int
    address_bytes: int
    built_seconds: float


class GeocoderIndex:
    """The in-memory geocoder index; search it with :func:`geocoder.search.search`."""

    def __init__(
        self, state: IndexState, *, check_every_s: float = DEFAULT_CHECK_EVERY_S, files: Path | None = None
    ) -> None:
        """Serve ``state``; rebuilds map their address arrays from ``files`` when given."""
        self._state = state
        self.files = files
        self.check_every_s = check_every_s
        self._checked_at = time.monotonic()
        self._confirmed_at = self._checked_at
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, conn: Connection, *, check_every_s: float = DEFAULT_CHECK_EVERY_S, files: Path | None = None
    ) -> GeocoderIndex:
        """Build the index from the database behind ``conn``.

        ``files``: a folder where the address arrays are written once and mapped by every process
        (:mod:`geocoder.mapped`); None: each process reads them into its own memory.
        """
        return cls(build_state(conn, files=files), check_every_s=check_every_s, files=files)

    @property
    def state(self) -> IndexState:
        """The current snapshot (take it once per search)."""
        return self._state

    def refresh_due(self) -> bool:
        """Whether the next ``refresh_if_stale`` would look at the database (callers skip connecting)."""
        return time.monotonic() - self._checked_at >= self.check_every_s

    def refresh_if_stale(self, conn: Connection, *, force: bool = False) -> bool:
        """Rebuild what changed since the last build; True when a rebuild happened.

        Checks at most every ``check_every_s`` seconds (``force`` checks now). The check
        is a handful of primary-key look-ups and scans of the small tables (a few ms).
        """
        now = time.monotonic()
        if not force and now - self._checked_at < self.check_every_s:
            return False
        with self._lock:
            self._checked_at = now
            state = self._state
            current = fingerprint(conn, change_log=tile_invalidation if state.change_log else None)
            if current == state.fingerprint:
                self._confirmed_at = now
                return False
            same_addresses = current.addresses == state.fingerprint.addresses
            reuse = state.addresses if same_addresses else None
            self._state = build_state(conn, addresses=reuse, files=self.files, source=state.source)
            self._confirmed_at = now
            return True

    def confirm(self, conn: Connection) -> bool:
        """Look whether the addresses changed since the snapshot (no rebuild); True when they did not.

        One cheap fingerprint (a few primary-key look-ups): :meth:`addresses_fresh` then
        says for how long the snapshot's addresses are known to be the database's.
        """
        now = time.monotonic()
        state = self._state
        marks = address_marks(conn, change_log=tile_invalidation if state.change_log else None)
        same = marks == state.fingerprint.addresses
        with self._lock:
            if state is self._state:
                self._confirmed_at = now if same else -math.inf
        return same

    def addresses_fresh(self, within_s: float) -> bool:
        """Whether the snapshot's addresses were seen equal to the database's less than ``within_s`` ago.

        False from the moment a look finds a change until the rebuild that takes it in.
        """
        return time.monotonic() - self._confirmed_at < within_s

    def replace_state(self, make: Callable[[IndexState], IndexState | None]) -> bool:
        """Swap in ``make(current state)`` under the refresh lock; False when it gives None (no swap)."""
        with self._lock:
            made = make(self._state)
            if made is None:
                return False
            self._state = made
            return True

    def stats(self) -> IndexStats:
        """Counts of entries by kind, contexts, tokens, addresses and memory of the address arrays."""
        state = self._state
        kinds: dict[str, int] = {}
        for entry in state.entries:
            kinds[entry.kind] = kinds.get(entry.kind, 0) + 1
        return IndexStats(
            entries=kinds,
            contexts=len(state.contexts),
            tokens=len(state.vocab.words),
            addresses=len(state.houses),
            address_bytes=state.houses.nbytes,
            built_seconds=state.built_seconds,
        )
