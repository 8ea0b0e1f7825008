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
from dataclasses import dataclass, field
from typing import Final, cast

import numpy as np
import numpy.typing as npt

from geocoder.entries import Entry, NameForm

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

VARIANT_BITS: Final = 8
"""Bits of a name variant (or of a token position) in a packed key."""

_FIRST: Final = np.ones(1, dtype=np.bool_)
"""The first value of a sorted array starts a run (:func:`_changes`)."""


@dataclass(slots=True)
class Hits:
    """The postings one query reaches, one row per (query token, vocabulary token, posting), in loop order."""

    rows: Ints
    """Rows of :class:`CandidateArrays` (posting number)."""
    positions: Ints
    """The query position of each row."""
    qualities: Floats
    """The quality of the expansion that reached each row."""
    weighted: Floats
    """The query weight of its position times that quality."""
    before: Floats | None
    """Per row, the best quality its token was reached with before (0 for the first reading);
    None when no token is reached twice."""
    monotone: bool
    """Whether every quality is a number >= 0 (a reading's value then grows with its quality)."""


@dataclass(slots=True)
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
    key: Ints
    """Per posting: its name variant, ``owner << 8 | variant`` (``slot >> 8``)."""
    distinct: bool
    """Whether no name token is posted twice and every share is a number >= 0 (see :meth:`covers`)."""
    weighed: dict[tuple[int, float], Floats] = field(default_factory=dict, compare=False)
    """The link weights of a context times a level weight, kept once asked (:meth:`named`)."""

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
        share = np.asarray(columns[3], dtype=np.float64)
        key = owner << VARIANT_BITS | variant
        slot = key << VARIANT_BITS | index
        distinct = len(np.unique(slot)) == len(slot) and bool(np.all(share >= 0))
        return cls(
            spans=spans,
            owner=owner,
            variant=variant,
            index=index,
            share=share,
            type_level=type_level,
            priority=np.asarray([entry.priority for entry in entries], dtype=np.float64),
            context_entries=_context_entries(entries, context_count),
            name_class=_name_classes(entries),
            entry_contexts=tuple(frozenset(link.context for link in entry.contexts) for entry in entries),
            top_level=int(type_level.max(initial=0)),
            slot=slot,
            key=key,
            distinct=distinct,
        )

    def hits(self, expansions: Sequence[dict[str, float]], weights: Sequence[float]) -> Hits:
        """The postings reached by each query position's expansions, in the order of a loop over them."""
        shifts: list[int] = []
        sizes: list[int] = []
        positions: list[int] = []
        qualities: list[float] = []
        weighted: list[float] = []
        tokens: list[str] = []
        monotone = True
        total = 0
        spans = self.spans
        for position, expansion in enumerate(expansions):
            weight = weights[position]
            for token, quality in expansion.items():
                span = spans.get(token)
                if span is not None:
                    size = span[1] - span[0]
                    shifts.append(span[0] - total)
                    sizes.append(size)
                    total += size
                    positions.append(position)
                    qualities.append(quality)
                    weighted.append(weight * quality)
                    tokens.append(token)
                    monotone = monotone and quality >= 0.0
        if not total:
            empty = np.zeros(0, dtype=np.float64)
            none = np.zeros(0, dtype=np.int64)
            return Hits(none, none, empty, empty, None, monotone)
        counts = np.asarray(sizes, dtype=np.int64)
        rows = np.asarray(shifts, dtype=np.int64).repeat(counts) + np.arange(total, dtype=np.int64)
        before = None
        if len(set(tokens)) < len(tokens):
            before = np.asarray(_before(tokens, qualities), dtype=np.float64).repeat(counts)
        return Hits(
            rows,
            np.asarray(positions, dtype=np.int64).repeat(counts),
            np.asarray(qualities, dtype=np.float64).repeat(counts),
            np.asarray(weighted, dtype=np.float64).repeat(counts),
            before,
            monotone,
        )

    def covers(self, hits: Hits) -> Covers:
        """Per name variant: the idf share of its tokens hit (each at its best reading) and the query weight.

        A token of a name read several times (a repeated query word, two typo readings)
        counts once, at its best quality, exactly as a loop keeping the best gain would sum it:
        a name token is posted once, under its one vocabulary token, so it is read again only
        when that vocabulary token is, and a reading's value (share x quality) grows with the
        quality, so the best reading before is the one of the best quality before
        (:attr:`Hits.before`). Without those guarantees the readings are compared slot by slot.
        """
        rows = hits.rows
        share = self.share[rows]
        values = share * hits.qualities
        if not (self.distinct and hits.monotone):
            slots = self.slot[rows]
            order = np.argsort(slots, kind="stable")
            gains = _gains(order, slots[order], values)
            ordered = slots[order] >> VARIANT_BITS
        else:
            if hits.before is None:
                gains = values
            else:
                gain = values - share * hits.before
                gains = np.where(gain > 0, gain, 0.0)
            keys = self.key[rows]
            order = keys.argsort()
            ordered = keys[order]
        changes = _changes(ordered)
        inverse = np.empty(len(ordered), dtype=np.int64)
        inverse[order] = changes.cumsum() - 1
        unique = ordered[changes]
        names = cast(Floats, np.bincount(inverse, weights=gains, minlength=len(unique)))
        query = cast(Floats, np.bincount(inverse, weights=hits.weighted, minlength=len(unique)))
        return Covers(unique, names, query)

    def named(self, levels: dict[int, float], owners: Ints) -> Floats:
        """For each owner, the best (link weight x context level weight) over the contexts in ``levels``."""
        best = np.zeros(len(self.type_level), dtype=np.float64)
        if levels:
            linked: list[Ints] = []
            weighed: list[Floats] = []
            known = self.weighed
            for context, level in levels.items():
                entries, weights = self.context_entries[context]
                linked.append(entries)
                found = known.get((context, level))
                if found is None:
                    found = known[(context, level)] = weights * level
                weighed.append(found)
            if len(linked) == 1:
                np.maximum.at(best, linked[0], weighed[0])
            else:
                np.maximum.at(best, np.concatenate(linked), np.concatenate(weighed))
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
        wanted = list(chosen)
        found: dict[int, list[tuple[int, int, int]]] = {owner: [] for owner in wanted}
        rows = hits.rows
        keep = self.mask(np.asarray(wanted, dtype=np.int64))[self.owner[rows]]
        slots: list[int] = self.slot[rows[keep]].tolist()
        positions: list[int] = hits.positions[keep].tolist()
        low = (1 << VARIANT_BITS) - 1
        for slot, position in zip(slots, positions, strict=True):
            found[slot >> 2 * VARIANT_BITS].append((slot >> VARIANT_BITS & low, slot & low, position))
        return found


def _changes(ordered: Ints) -> npt.NDArray[np.bool_]:
    """True where a run of equal values of a sorted array starts.

    >>> _changes(np.array([3, 3, 5, 7, 7, 7])).tolist()
    [True, False, True, True, False, False]
    """
    return np.concatenate((_FIRST[: len(ordered)], ordered[1:] != ordered[:-1]))


def _firsts(ordered: Ints) -> Ints:
    """Where each run of equal values of a sorted array starts.

    >>> _firsts(np.array([3, 3, 5, 7, 7, 7])).tolist()
    [0, 2, 3]
    """
    found: Ints = _changes(ordered).nonzero()[0]
    return found


def _before(tokens: list[str], qualities: list[float]) -> list[float]:
    """Per reading of a token, the best quality it was read with before (0 for its first reading).

    >>> _before(["lac", "mai", "lac", "lac"], [0.5, 1.0, 0.75, 0.5])
    [0.0, 0.0, 0.5, 0.75]
    """
    best: dict[str, float] = {}
    before: list[float] = []
    for token, quality in zip(tokens, qualities, strict=True):
        known = best.get(token, 0.0)
        before.append(known)
        if quality > known:
            best[token] = quality
    return before


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
