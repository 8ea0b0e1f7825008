"""Candidate ranking on arrays against a plain-Python reference, on the whole development set.

:meth:`geocoder.scoring.Matcher.candidates` sums posting hits with numpy
(:mod:`geocoder.candidates`). The reference here is written independently as the loop
over the posting lists it replaces: for every forward query of the development set, as
searched and as typed (autocomplete), with and without a filter, both must choose the
same entries in the same order with the same seeds.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from geocoder.candidates import _gains
from geocoder.entries import NO_TYPE, Entry
from geocoder.index import GeocoderIndex, IndexState
from geocoder.query import read_query
from geocoder.scoring import (
    CONTEXT_SHARE,
    LEVEL_WEIGHT,
    MAX_CANDIDATES,
    MIN_COVERAGE,
    OTHER_TYPE_FACTOR,
    UNTYPED_FACTOR,
    Matcher,
)

pytestmark = pytest.mark.db

QUERIES = Path(__file__).resolve().parents[2] / "data" / "hoabinh" / "geocoding_dev_queries.jsonl"

Seeds = list[tuple[int, int, int]]
Chosen = list[tuple[int, Seeds]]
Sums = dict[tuple[int, int], float]


@pytest.fixture(scope="module")
def state(engine: Engine) -> Iterator[IndexState]:
    """The index of the bundled data, built once for the module."""
    with engine.connect() as conn:
        yield GeocoderIndex.load(conn).state


def dev_texts() -> list[str]:
    """The forward queries of the development set."""
    rows = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(row["query"] for row in rows if row.get("query")))


def _covers(matcher: Matcher) -> tuple[Sums, Sums, dict[int, Seeds]]:
    """Per (entry, variant): name share hit (each name token at its best reading), query weight hit; seeds."""
    names: Sums = {}
    hits: Sums = {}
    best: dict[tuple[int, int, int], float] = {}
    seeds: dict[int, Seeds] = {}
    weights = matcher.query.weights
    for position, expansion in enumerate(matcher.expansions):
        for token, quality in expansion.items():
            for owner, variant, index, share in matcher.state.entry_postings.postings.get(token, ()):
                gain = share * quality - best.get((owner, variant, index), 0.0)
                if gain > 0:
                    best[(owner, variant, index)] = share * quality
                    names[(owner, variant)] = names.get((owner, variant), 0.0) + gain
                hits[(owner, variant)] = hits.get((owner, variant), 0.0) + weights[position] * quality
                seeds.setdefault(owner, []).append((variant, index, position))
    return names, hits, seeds


def _unit_word_weight(matcher: Matcher) -> dict[int, float]:
    """The query weight of the unit words of each level."""
    found: dict[int, float] = {}
    query = matcher.query
    for start, word in enumerate(query.unit_words):
        if word is not None:
            found[word.level] = found.get(word.level, 0.0) + sum(query.weights[start : start + word.size])
    return found


def _weighed(matcher: Matcher, entry: Entry, cover: float) -> float:
    """An entry's cover scaled by the contexts the query names and by its unit words."""
    spans = matcher.spans_by_context()
    named = max(
        (
            link.weight * LEVEL_WEIGHT.get(matcher.state.contexts[link.context].level, 0.0)
            for link in entry.contexts
            if link.context in spans
        ),
        default=0.0,
    )
    typed = {word.level for word in matcher.query.unit_words if word is not None}
    if not typed or entry.type_level in typed:
        factor = 1.0
    else:
        factor = UNTYPED_FACTOR if entry.type_level == NO_TYPE else OTHER_TYPE_FACTOR
    return cover * (1 - CONTEXT_SHARE + CONTEXT_SHARE * named) * factor


def reference(matcher: Matcher, admit: Callable[[Entry], bool] | None = None) -> Chosen:
    """The candidates as the loop over the posting lists chooses them."""
    names, hits, seeds = _covers(matcher)
    entries = matcher.state.entries
    total = matcher.query.total_weight or 1.0
    typed = _unit_word_weight(matcher)
    best: dict[int, float] = {}
    for (owner, variant), share in names.items():
        if admit is not None and not admit(entries[owner]):
            continue
        query_share = min(1.0, (hits[(owner, variant)] + typed.get(entries[owner].type_level, 0.0)) / total)
        cover = query_share * (0.5 + 0.5 * share) if matcher.prefix else share * (0.5 + 0.5 * query_share)
        if cover >= MIN_COVERAGE:
            best[owner] = max(cover, best.get(owner, 0.0))
    if len(best) > MAX_CANDIDATES:
        best = {owner: _weighed(matcher, entries[owner], cover) for owner, cover in best.items()}
    ranked = sorted(best, key=lambda owner: (-best[owner], -entries[owner].priority, owner))
    return [(owner, seeds[owner]) for owner in ranked[:MAX_CANDIDATES]]


def fast(matcher: Matcher, admit: Callable[[Entry], bool] | None = None) -> Chosen:
    """The candidates as the matcher chooses them."""
    return [(entry.id, seeds) for entry, seeds in matcher.candidates(admit=admit)]


def villages(entry: Entry) -> bool:
    """A filter: villages only."""
    return entry.kind == "village"


@pytest.mark.parametrize("prefix", [False, True], ids=["search", "autocomplete"])
def test_candidates_match_the_posting_loop(state: IndexState, prefix: bool) -> None:
    """Every development query chooses the same candidates, in the same order, with the same seeds."""
    texts = dev_texts()
    assert len(texts) > 500
    compared = 0
    for number, text in enumerate(texts):
        typed = text[: max(3, len(text) - 2)] if prefix else text
        query = read_query(typed, words=state.vocab.words)
        if not query.folded:
            continue
        matcher = Matcher(state, query, prefix=prefix)
        chosen = fast(matcher)
        assert chosen == reference(matcher), typed
        if number % 7 == 0:
            assert fast(matcher, villages) == reference(matcher, villages), typed
        compared += bool(chosen)
    assert compared > len(texts) * 0.9


@pytest.mark.parametrize("prefix", [False, True], ids=["search", "autocomplete"])
def test_covers_without_the_slot_sort_equal_the_sorted_covers(state: IndexState, prefix: bool) -> None:
    """The covers summed without sorting slots are the slot-sorted covers, to the bit, repeated words too.

    The index posts every name token once (``distinct``), so the shortcut applies; turned
    off, every query takes the slot-by-slot comparison of readings.
    """
    arrays = state.candidate_arrays
    assert arrays.distinct
    sorted_arrays = dataclasses.replace(arrays, distinct=False)
    repeated = 0
    for text in dev_texts():
        typed = text[: max(3, len(text) - 2)] if prefix else text
        query = read_query(typed, words=state.vocab.words)
        if not query.folded:
            continue
        matcher = Matcher(state, query, prefix=prefix)
        hits = arrays.hits(matcher.expansions, query.weights)
        fast, slow = arrays.covers(hits), sorted_arrays.covers(hits)
        assert fast.keys.tolist() == slow.keys.tolist(), typed
        assert fast.names.tolist() == slow.names.tolist(), typed
        assert fast.hits.tolist() == slow.hits.tolist(), typed
        repeated += hits.before is not None
    assert repeated > 10


def gains_loop(slots: list[int], values: list[float]) -> list[float]:
    """What each reading adds to its slot's best so far, as a loop keeping the best per slot."""
    best: dict[int, float] = {}
    out = []
    for slot, value in zip(slots, values, strict=True):
        gain = value - best.get(slot, 0.0)
        out.append(gain if gain > 0 else 0.0)
        best[slot] = max(best.get(slot, 0.0), value)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_gains_match_a_loop(seed: int) -> None:
    """The array gains equal the loop's, to the bit, for slots read once, twice or many times."""
    rng = np.random.default_rng(seed)
    for _ in range(400):
        count = int(rng.integers(0, 40))
        slots = rng.integers(0, int(rng.integers(1, 12)), count)
        values = rng.choice([0.0, 0.3, 0.5, 0.75, 0.9, 1.0], count) * rng.choice([1.0, 0.1234567], count)
        order = np.argsort(slots, kind="stable")
        assert _gains(order, slots[order], values).tolist() == gains_loop(slots.tolist(), values.tolist())


def test_namesakes_share_a_name_class(state: IndexState) -> None:
    """Entries share a name class exactly when their name forms are equal (they read alike)."""
    classes = state.candidate_arrays.name_class
    first: dict[int, Entry] = {}
    shared = 0
    for entry in state.entries:
        known = first.setdefault(classes[entry.id], entry)
        assert known.names == entry.names
        shared += known is not entry
    assert shared > 0
    assert len({entry.names for entry in state.entries}) == len(first)
