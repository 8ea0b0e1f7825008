"""Candidate generation as array work: the posting lists and entry facts laid out for numpy.

:meth:`geocoder.scoring.Matcher.candidates` ranks every entry whose names share a token
with the query. Done with Python dictionaries that is a loop over every posting and over
every covered entry's context links, per query; here the index lays them out once
(:class:`CandidateArrays`, built with the index) so a query sums its posting hits with
``np.bincount`` and weighs the contexts it names with one ``np.maximum.at`` per context.

The sums run in the order of the postings, as a loop over them would: every cover is
the same float, to the last bit, so the same entries are chosen in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from geocoder.entries import Entry, NameForm

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

VARIANT_BITS: Final = 8
"""Bits of a name variant (or of a token position) in a packed key."""


@dataclass(frozen=True, slots=True)
class Hits:
    """The postings one query reaches, one row per (query token, vocabulary token, posting), in loop order."""

    rows: Ints
    """Rows of :class:`CandidateArrays` (posting number)."""
    positions: Ints
    """The query position of each row."""
    qualities: Floats
    """The quality of the expansion that reached each row."""
    weights: Floats
    """The query weight of its position."""


@dataclass(frozen=True, slots=True)
class Covers:
    """Per name variant (packed key ``owner << 8 | variant``) reached: name share and query weight hit."""

    keys: Ints
    names: Floats
    hits: Floats

    @property
    def owners(self) -> Ints:
        """The entry of each key."""
        return self.keys >> VARIANT_BITS


@dataclass(frozen=True, slots=True)
class CandidateArrays:
    """The entry posting lists and the entry facts candidate ranking reads, as flat arrays.

    Postings of one token are contiguous rows (``spans[token]``: first row, end row), in
    the order of :class:`geocoder.vocab.PostingIndex`.
    """

    spans: dict[str, tuple[int, int]]
    owner: Ints
    variant: Ints
    index: Ints
    share: Floats
    type_level: Ints
    priority: Floats
    context_entries: tuple[tuple[Ints, Floats], ...]
    """Per context: the entries linked to it and the link weights."""
    name_class: tuple[int, ...]
    """Per entry: a number shared by the entries with the same name forms (they read alike)."""
    entry_contexts: tuple[frozenset[int], ...]
    """Per entry: the contexts it links to."""
    top_level: int
    """The highest ``type_level`` of an entry (0 without entries)."""
    slot: Ints
    """Per posting: its name token, ``(owner << 8 | variant) << 8 | position`` (one token of one variant)."""

    @classmethod
    def build(
        cls,
        postings: dict[str, tuple[tuple[int, int, int, float], ...]],
        entries: Sequence[Entry],
        context_count: int,
    ) -> CandidateArrays:
        """Lay out the posting lists (token -> (owner, variant, position, share)) and the entries.

        >>> from geocoder.entries import name_form
        >>> entry = Entry(0, "village", "village", "v:0", "Lác", "Lác", (name_form("Lác"),), "", 4, 0, 0,
        ...               None, None, (), (), 1.0)
        >>> arrays = CandidateArrays.build({"lac": ((0, 0, 0, 1.0),)}, [entry], 1)
        >>> arrays.spans, arrays.owner.tolist(), arrays.type_level.tolist()
        ({'lac': (0, 1)}, [0], [4])
        """
        spans: dict[str, tuple[int, int]] = {}
        flat: list[tuple[int, int, int, float]] = []
        for token, found in postings.items():
            spans[token] = (len(flat), len(flat) + len(found))
            flat.extend(found)
        columns = list(zip(*flat, strict=True)) if flat else [(), (), (), ()]
        owner = np.asarray(columns[0], dtype=np.int64)
        variant = np.asarray(columns[1], dtype=np.int64)
        index = np.asarray(columns[2], dtype=np.int64)
        type_level = np.asarray([entry.type_level for entry in entries], dtype=np.int64)
        return cls(
            spans=spans,
            owner=owner,
            variant=variant,
            index=index,
            share=np.asarray(columns[3], dtype=np.float64),
            type_level=type_level,
            priority=np.asarray([entry.priority for entry in entries], dtype=np.float64),
            context_entries=_context_entries(entries, context_count),
            name_class=_name_classes(entries),
            entry_contexts=tuple(frozenset(link.context for link in entry.contexts) for entry in entries),
            top_level=int(type_level.max(initial=0)),
            slot=(owner << VARIANT_BITS | variant) << VARIANT_BITS | index,
        )

    def hits(self, expansions: Sequence[dict[str, float]], weights: Sequence[float]) -> Hits:
        """The postings reached by each query position's expansions, in the order of a loop over them."""
        starts: list[int] = []
        sizes: list[int] = []
        positions: list[int] = []
        qualities: list[float] = []
        position_weights: list[float] = []
        spans = self.spans
        for position, expansion in enumerate(expansions):
            weight = weights[position]
            for token, quality in expansion.items():
                span = spans.get(token)
                if span is not None:
                    starts.append(span[0])
                    sizes.append(span[1] - span[0])
                    positions.append(position)
                    qualities.append(quality)
                    position_weights.append(weight)
        if not starts:
            empty = np.zeros(0, dtype=np.float64)
            return Hits(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), empty, empty)
        counts = np.asarray(sizes, dtype=np.int64)
        return Hits(
            _ranges(np.asarray(starts, dtype=np.int64), counts),
            np.repeat(np.asarray(positions, dtype=np.int64), counts),
            np.repeat(np.asarray(qualities, dtype=np.float64), counts),
            np.repeat(np.asarray(position_weights, dtype=np.float64), counts),
        )

    def covers(self, hits: Hits) -> Covers:
        """Per name variant: the idf share of its tokens hit (each at its best reading) and the query weight.

        A token of a name read several times (a repeated query word, two typo readings)
        counts once, at its best quality, exactly as a loop keeping the best gain would sum it.
        """
        slots = self.slot[hits.rows]
        order = np.argsort(slots, kind="stable")
        ordered = slots[order]
        gains = _gains(order, ordered, self.share[hits.rows] * hits.qualities)
        keys = ordered >> VARIANT_BITS  # sorted too: a key is the high bits of its slots
        changes = _changes(keys)
        inverse = np.empty(len(keys), dtype=np.int64)
        inverse[order] = np.cumsum(changes) - 1
        unique = keys[changes]
        names: Floats = np.bincount(inverse, weights=gains, minlength=len(unique)).astype(
            np.float64, copy=False
        )
        weighted = hits.weights * hits.qualities
        query: Floats = np.bincount(inverse, weights=weighted, minlength=len(unique)).astype(
            np.float64, copy=False
        )
        return Covers(unique, names, query)

    def named(self, levels: dict[int, float], owners: Ints) -> Floats:
        """For each owner, the best (link weight x context level weight) over the contexts in ``levels``."""
        best = np.zeros(len(self.type_level), dtype=np.float64)
        if levels:
            found = [self.context_entries[context] for context in levels]
            linked = np.concatenate([entries for entries, _weights in found])
            weighed = np.concatenate(
                [weights * level for (_entries, weights), level in zip(found, levels.values(), strict=True)]
            )
            np.maximum.at(best, linked, weighed)
        return best[owners]

    def mask(self, owners: Ints) -> npt.NDArray[np.bool_]:
        """A boolean per entry: True for ``owners``."""
        marked = np.zeros(len(self.type_level), dtype=np.bool_)
        marked[owners] = True
        return marked

    def best_by_owner(self, covers: Covers, cover: Floats, minimum: float) -> tuple[Ints, Floats]:
        """The entries with a variant covered at least ``minimum``, each with its best cover (keys sorted)."""
        kept = cover >= minimum
        owners, values = covers.owners[kept], cover[kept]
        if not len(owners):
            return owners, values
        starts = _firsts(owners)
        return owners[starts], np.maximum.reduceat(values, starts)

    def seeds(self, hits: Hits, chosen: Iterable[int]) -> dict[int, list[tuple[int, int, int]]]:
        """(variant, token position in the name, query position) of each chosen owner's postings, in order."""
        wanted = np.fromiter(chosen, dtype=np.int64)
        owners = self.owner[hits.rows]
        keep = self.mask(wanted)[owners]
        rows = hits.rows[keep]
        found: dict[int, list[tuple[int, int, int]]] = {int(owner): [] for owner in wanted}
        columns = zip(
            owners[keep].tolist(),
            self.variant[rows].tolist(),
            self.index[rows].tolist(),
            hits.positions[keep].tolist(),
            strict=True,
        )
        for owner, variant, index, position in columns:
            found[owner].append((variant, index, position))
        return found


def _ranges(starts: Ints, sizes: Ints) -> Ints:
    """The rows ``start, start + 1, ..., start + size - 1`` of each (start, size), one after another.

    >>> _ranges(np.array([5, 0, 9]), np.array([2, 3, 1])).tolist()
    [5, 6, 0, 1, 2, 9]
    """
    ends = np.cumsum(sizes)
    rows: Ints = np.arange(int(ends[-1]), dtype=np.int64) + np.repeat(starts - (ends - sizes), sizes)
    return rows


def _changes(ordered: Ints) -> npt.NDArray[np.bool_]:
    """True where a run of equal values of a sorted array starts.

    >>> _changes(np.array([3, 3, 5, 7, 7, 7])).tolist()
    [True, False, True, True, False, False]
    """
    changes = np.empty(len(ordered), dtype=np.bool_)
    changes[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=changes[1:])
    return changes


def _firsts(ordered: Ints) -> Ints:
    """Where each run of equal values of a sorted array starts.

    >>> _firsts(np.array([3, 3, 5, 7, 7, 7])).tolist()
    [0, 2, 3]
    """
    return np.flatnonzero(_changes(ordered))


def _gains(order: Ints, ordered: Ints, values: Floats) -> Floats:
    """What each reading adds to its name token's best so far (0 when it is not better), in order.

    ``order`` sorts the readings' slots (stably), ``ordered`` is the slots so sorted. The
    best so far of a reading is the largest value of the readings of its slot before it
    (0 for the first): compared at each distance within the slot, a few array steps.

    >>> slots = np.array([1, 2, 1, 1])
    >>> order = np.argsort(slots, kind="stable")
    >>> _gains(order, slots[order], np.array([0.25, 0.5, 0.75, 0.5])).tolist()
    [0.25, 0.5, 0.5, 0.0]
    """
    starts = _firsts(ordered)
    if len(starts) >= len(ordered):  # no slot read twice
        return values
    depth = np.arange(len(ordered)) - np.repeat(starts, np.diff(starts, append=len(ordered)))
    sorted_values = values[order]
    before = np.zeros(len(ordered), dtype=np.float64)
    for distance in range(1, int(depth.max()) + 1):
        rows = np.flatnonzero(depth >= distance)
        before[rows] = np.maximum(before[rows], sorted_values[rows - distance])
    gain = sorted_values - before
    gains = np.empty(len(ordered), dtype=np.float64)
    gains[order] = np.where(gain > 0, gain, 0.0)
    return gains


def _name_classes(entries: Sequence[Entry]) -> tuple[int, ...]:
    """Per entry, the number of its name forms: the first entry with the same forms gets it.

    >>> from geocoder.entries import name_form
    >>> def entry(id_, name):
    ...     return Entry(id_, "village", "village", f"v:{id_}", name, name, (name_form(name),), "", 4, 0, 0,
    ...                  None, None, (), (), 1.0)
    >>> _name_classes([entry(0, "Lác"), entry(1, "Ngọc"), entry(2, "Lác")])
    (0, 1, 0)
    """
    classes: dict[tuple[NameForm, ...], int] = {}
    return tuple(classes.setdefault(entry.names, len(classes)) for entry in entries)


def _context_entries(entries: Sequence[Entry], context_count: int) -> tuple[tuple[Ints, Floats], ...]:
    """Per context, the entries that link to it and with what weight."""
    linked: list[list[int]] = [[] for _ in range(context_count)]
    weights: list[list[float]] = [[] for _ in range(context_count)]
    for entry in entries:
        for link in entry.contexts:
            linked[link.context].append(entry.id)
            weights[link.context].append(link.weight)
    return tuple(
        (np.asarray(ids, dtype=np.int64), np.asarray(found, dtype=np.float64))
        for ids, found in zip(linked, weights, strict=True)
    )
