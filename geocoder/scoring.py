"""Score how well an entry explains a query, token by token.

For one candidate entry the matcher looks for its name as a run of consecutive query
tokens (typos allowed), then tries to explain every other token: the unit word before
the name (it must fit: "huyện" before a ward's name contradicts it), the house number
(found in the entry's street or village), and the entry's contexts - its ward, old
commune, old district, provinces - each as its own run, with a fitting unit word.
The score is the explained share of the query's token weight, times how much of the
name was matched (idf-weighted), times the name form's quality, minus a penalty per
contradicting unit word:

    score = explained / total * (NAME_BASE + (1 - NAME_BASE) * name_coverage) * form_quality

so a village whose commune and district are both in the query beats a namesake
elsewhere, and an exact, accented name beats an unaccented or misspelt one.

Then the reading is weighed against the units the text sets apart (its *segments*:
names between separators, unit words and filler words, each with the level of its unit
word - "xã" before it or "commune" after it), and the score multiplied by:

* :data:`PARTIAL` when the name leaves other tokens of its segment unexplained ("Tan Dan
  Kindergarten" read as the village "Tân Dân": the text names something else), and
  :data:`MISNAMED` when that segment is labelled a unit of the entry's kind ("Thôn Giếng
  Xạ" read as the village "Giang": another village, so the commune named answers), or
  when a place is read only by the word for its kind and the text names a unit it leaves
  unexplained ("Trạm y tế Yên Phú" read as the health station of Lạc Thịnh: the station
  of Yên Phú is meant, so the commune Yên Phú answers);
* :data:`FINER_IGNORED` when the text names a commune (or a village) finer than the entry
  that the reading leaves unexplained: the finest unit named wins, coarser ones are
  context ("Ngọc Lâu commune (Lạc Sơn)" is the commune, not the district); the answer's
  note says the finer unit was not found;
* :data:`CONTRADICTED` when a unit written with its unit word is one the entry does not
  lie in ("xã Ngọc Lâu, huyện Mai Châu"); the answer's note says so.

These factors only lower a score, so only the matches whose upper bound can still reach
the first places are weighed (:meth:`Matcher.cohere_best`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Final, final

import numpy as np

from geocoder.candidates import Covers, Floats, Ints
from geocoder.categories import CATEGORY_FOLDED
from geocoder.entries import NO_TYPE, Context, Entry, NameForm
from geocoder.houses import HouseHit, house_hash
from geocoder.index import IndexState
from geocoder.normalize import OTHER_MARKS_SCORE, UNACCENTED_SCORE, accent_score, marks_fit
from geocoder.query import Query
from geocoder.unitwords import ENGLISH, VILLAGE, UnitWord
from geocoder.vocab import Expansion

NAME_BASE: Final = 0.5
"""The share of the score a full query explanation earns even when only part of the name matched."""
READ_BASE: Final = 0.5
"""The share of the score a name earns however its tokens read (:meth:`Matcher._read_as`)."""
CONTRADICTION: Final = 0.12
"""Penalty for a unit word that contradicts the entry ("huyện" before a commune's name)."""
SAME_LEVEL_OTHER_TYPE: Final = 0.6
"""How much a unit word of the right level but another type explains ("xã" for a "phường")."""
HOUSE_MISSING: Final = 0.5
"""How much a house number explains when the street is right but the number is not registered."""
MAX_CANDIDATES: Final = 32
"""Entries scored in full per query (the best covered ones)."""
MIN_COVERAGE: Final = 0.2
"""Candidates covered less than this are not scored."""
RUNS_TRIED: Final = 3
"""Readings of one entry tried (its name may occur several times in the query)."""
CONTEXT_SHARE: Final = 0.3
"""How much the contexts named in a query weigh in choosing candidates."""
LEVEL_WEIGHT: Final = {3: 1.0, 2: 0.6, 1: 0.2}
"""How telling a context of each level is (a commune names a small area, a province a large one)."""
OTHER_TYPE_FACTOR: Final = 0.85
"""Candidate cover of an entry whose kind no unit word of the query names."""
UNTYPED_FACTOR: Final = 0.92
"""The same for a place (no unit word names places)."""
PARTIAL: Final = 0.8
"""Score factor when the name matched leaves other name tokens of its segment unexplained
("Tan Dan Kindergarten" read as the village "Tân Dân": the text names something else)."""
MISNAMED: Final = 0.5
"""The same when the text labels that segment as a unit of the entry's own level or a coarser
one: it names another unit ("Thôn Giếng Xạ" is not the village "Giang"; "Pa Co Lon hamlet" is
not the hamlet "Pa Co"; "Ngoc Lau commune" is not the village "Ngoa"), so the unit named with
it answers instead."""
FINER_IGNORED: Final = {3: 0.7, 4: 0.9}
"""Score factor, by level, when the text names a finer unit that the answer leaves unexplained
("Ngọc Lâu commune (Lạc Sơn)" answered by the district): the finest unit named wins. Milder
for a village: many villages are missing from the data, and the commune is then the answer."""
SLIPPED_PART: Final = 0.75
"""Score factor when only part of the name matched, and only through slips or other marks ("xom
rang" read as the village "Rông Cấn": one word of two, and that one another word): the text
hardly names that unit."""
SLIP_QUALITY: Final = 0.75
"""The best quality of a token read through a slip (vocab.TYPO_1) or with other marks (0.7)."""
CONTRADICTED: Final = 0.85
"""Score factor when a unit the text names with its unit word is not one the answer lies in."""
COMMUNE_SKIPPED: Final = 0.95
"""Score factor for a village read from a name no unit word labels, after a name it leaves unexplained,
when that name reads as well as a commune it does not lie in and the text names the village's district
but not its commune: in "Thung Dao (Tu Son - Kim Boi)" the name after the place is the commune holding
it ("Tú Sơn"), as addresses list a unit and then the ones holding it, not the village "Tu Sơn" of Nật
Sơn elsewhere in the district with the commune between them left out."""
COMMUNE_CALLED_VILLAGE: Final = 0.9
"""Score factor for a village named with the English word "village" and its district, not its commune,
when its name reads as well as a commune it is not in (:meth:`Matcher._commune_called_village`)."""
VILLAGE_WORD: Final = "village"
"""The English unit word travel pages also use for a commune."""
WARD_WORD: Final = "phuong"
"""The folded unit word of an urban ward."""
OTHER_TYPE_NAMED: Final = 0.95
"""Score factor for a unit named with the unit word of another type of its level ("phường Hòa Bình" read as
the old xã Hòa Bình): writers get the type wrong, but a unit of that name and of the type written (the
2025 phường Hòa Bình) is meant before it, though the old city named after it ("TP Hòa Bình") is the old
xã's district and only a predecessor of the ward's."""


def not_found_note(typed: str, name: str) -> str:
    """The note of an answer whose finer unit typed was not found in it (an f-string: compiled, cheap).

    >>> not_found_note("xóm Lác", "Mai Hạ")
    'xóm Lác was not found in Mai Hạ: the answer is Mai Hạ'
    """
    return f"{typed} was not found in {name}: the answer is {name}"


def contradiction_note(name: str, typed: str) -> str:
    """The note of an answer not in a coarser unit the text names (an f-string, as :func:`not_found_note`).

    >>> contradiction_note("Ngọc Lâu", "huyện Mai Châu")
    'Ngọc Lâu is not in huyện Mai Châu as the text says; the answer follows the finest unit named'
    """
    return f"{name} is not in {typed} as the text says; the answer follows the finest unit named"


_START_SHIFT: Final = 8
"""Bits of a query position in a packed key (queries are shorter): a run's (start, end), a run's alignment."""

Seed = tuple[int, int, int]
"""(name variant, token position in the name, query position) of one shared token."""


def type_fit(word: UnitWord, level: int, unit_type: str) -> float | None:
    """How well a unit word fits a thing of ``level`` and type (None: it contradicts it).

    >>> from geocoder.unitwords import UNIT_WORDS
    >>> type_fit(UNIT_WORDS["xa"], 3, "xa"), type_fit(UNIT_WORDS["xa"], 3, "phuong")
    (1.0, 0.6)
    >>> type_fit(UNIT_WORDS["huyen"], 3, "xa") is None
    True
    >>> type_fit(UNIT_WORDS["township"], 3, "thi tran"), type_fit(UNIT_WORDS["township"], 3, "xa")
    (1.0, 0.6)
    """
    if word.level != level:
        return None
    if not unit_type or word.folded == unit_type:
        return 1.0
    if word.folded in ENGLISH and (not word.types or unit_type in word.types):
        return 1.0
    return SAME_LEVEL_OTHER_TYPE


def written_with_marks(names: tuple[NameForm, ...]) -> bool:
    """Whether any form of a name carries a mark (else its source wrote it without diacritics).

    >>> from geocoder.entries import name_form
    >>> written_with_marks((name_form("Pa Co"),)), written_with_marks((name_form("Làng Hang"),))
    (False, True)
    """
    return any(not token.isascii() for form in names for token in form.accented)


def _exact_only(expansion: Expansion, token: str) -> Expansion:
    """Only the token itself: a unit word ("làng", "huyện") is not read as a misspelt name."""
    return {token: expansion[token]} if token in expansion else {}


def _unit_word_cover(query: Query) -> list[bool]:
    """Whether each query token belongs to a unit word."""
    covered = [False] * len(query.folded)
    for start, word in enumerate(query.unit_words):
        if word is not None:
            for i in range(start, min(len(covered), start + word.size)):
                covered[i] = True
    return covered


def _mask(start: int, end: int) -> int:
    """A bit mask of token positions ``start`` to ``end - 1``."""
    return (1 << end) - (1 << start)


_ALIGN_OFFSET: Final = 1 << _START_SHIFT
"""Added to (query position - name position), which may be negative, in a packed (variant, alignment) key."""
_ALIGN_SHIFT: Final = _START_SHIFT + 2
"""Bits of that alignment in the key."""


@final
class Run:
    """A name matched as consecutive query tokens: positions, name variant, quality.

    Like :class:`Span` and :class:`Match`, built many times per query and never changed: a
    plain class with its own ``__init__``, which mypyc compiles (a dataclass keeps the
    interpreted ``__init__`` the decorator writes, twenty times as costly to call).
    """

    __slots__ = ("end", "explained", "name_coverage", "start", "variant")

    def __init__(self, variant: int, start: int, end: int, explained: float, name_coverage: float) -> None:
        self.variant = variant
        self.start = start
        self.end = end
        self.explained = explained
        self.name_coverage = name_coverage


@final
class _RunWord:
    """The unit word around a run: the run's tokens, the word (None: none), its weight and tokens.

    What it adds depends on the entry's level and type (:func:`type_fit`): it explains its
    weight times the fit and its tokens (unless they overlap the run's), or contradicts the
    entry (:data:`CONTRADICTION`).
    """

    __slots__ = ("overlaps", "unit", "used", "weight", "word_mask")

    def __init__(
        self, used: int, unit: UnitWord | None, weight: float, word_mask: int, overlaps: bool
    ) -> None:
        self.used = used
        self.unit = unit
        self.weight = weight
        self.word_mask = word_mask
        self.overlaps = overlaps


def _covers(runs: list[Run], position: int) -> bool:
    """Whether one of the runs covers a query position."""
    return any(run.start <= position < run.end for run in runs)


def _sort_runs(runs: list[Run]) -> None:
    """Sort runs in place, the best first: name coverage, then weight explained (stable, as ``sorted``).

    A few runs at most: an insertion sort, compiled, spares a key function's calls.
    """
    for i in range(1, len(runs)):
        run = runs[i]
        j = i
        while j > 0 and _better_run(run, runs[j - 1]):
            runs[j] = runs[j - 1]
            j -= 1
        runs[j] = run


def _better_run(one: Run, other: Run) -> bool:
    """Whether ``one`` sorts strictly before ``other`` by (-name coverage, -explained)."""
    if one.name_coverage != other.name_coverage:
        return one.name_coverage > other.name_coverage
    return one.explained > other.explained


def _reads_on(expansions: list[Expansion], folded: tuple[str, ...], start: int) -> bool:
    """Whether the name's tokens after its first read the query tokens after ``start`` (their expansions)."""
    return all(folded[i] in expansions[start + i] for i in range(1, len(folded)))


@final
class Span:
    """A context name found in the query, with the unit word before it (when it fits)."""

    __slots__ = ("explained", "mask", "typed")

    def __init__(self, mask: int, explained: float, typed: bool = False) -> None:
        self.mask = mask
        self.explained = explained
        self.typed = typed


@final
class Match:
    """An entry scored against a query."""

    __slots__ = (
        "base",
        "conflict",
        "contexts",
        "entry",
        "house",
        "house_tried",
        "penalty",
        "run",
        "score",
        "used",
    )

    def __init__(  # noqa: PLR0913, PLR0917 - the fields of a match, positional as the dataclass had them
        self,
        entry: Entry,
        score: float,
        run: Run,
        house: HouseHit | None,
        house_tried: bool,
        contexts: tuple[int, ...],
        conflict: str | None = None,
        base: float = 0.0,
        penalty: float = 0.0,
        used: int = 0,
    ) -> None:
        self.entry = entry
        self.score = score
        self.run = run
        self.house = house
        self.house_tried = house_tried
        self.contexts = contexts
        self.conflict = conflict
        self.base = base
        self.penalty = penalty
        self.used = used


def _by_mask(spans: list[Span]) -> tuple[Span, ...]:
    """The spans by token mask (ties in their order, as ``sorted``)."""
    if len(spans) == 1:
        return (spans[0],)
    return tuple(sorted(spans, key=_span_mask))


def _span_mask(span: Span) -> int:
    """A span's token mask (the key spans are sorted by)."""
    return span.mask


class Matcher:
    """Matches one query against the index: candidates, runs, contexts, scores."""

    def __init__(self, state: IndexState, query: Query, *, prefix: bool = False) -> None:
        self.state = state
        self.query = query
        self.n = len(query.folded)
        vocab = state.vocab
        self.prefix = prefix
        self.unit_cover = _unit_word_cover(query)
        self.unmarked = all(token.isascii() for token in query.accented)
        self.expansions: list[Expansion] = [
            _exact_only(vocab.expand(token), token) if word else vocab.expand(token)
            for token, word in zip(query.folded, self.unit_cover, strict=True)
        ]
        if prefix and self.n:
            last = dict(vocab.complete(query.folded[-1]))
            for word, quality in self.expansions[-1].items():
                last[word] = max(quality, last.get(word, 0.0))
            self.expansions[-1] = last
        self._spans: dict[int, tuple[Span, ...]] | None = None
        self._segments: list[tuple[int, int | None, int, int]] | None = None
        self._typed: list[tuple[int, int, int]] | None = None
        self._qualities: dict[tuple[int, str, str], tuple[float, float]] = {}
        self._around: dict[tuple[int, int], tuple[int, UnitWord] | None] = {}
        self._categories: dict[tuple[int, int], bool] = {}
        self._runs: dict[int, tuple[list[Seed], list[Run]]] = {}
        self._houses: dict[int, HouseHit | None] = {}
        self._hashes: dict[str, np.uint64] = {}
        self._fits: dict[tuple[int, bool, int, int, float, float, int], tuple[float, str | None]] = {}
        self._run_words: dict[int, _RunWord] = {}
        self._texts: dict[int, str] = {}

    # ------------------------------------------------------------------ tokens

    def quality(self, position: int, folded: str, accented: str, names: tuple[NameForm, ...] = ()) -> float:
        """How well query token ``position`` reads as a name token (0: not at all).

        A misspelling (a typo reading, not a completion) must keep the marks typed: a token
        written with marks the name's token lacks is another word ("rằng" is not "hang"),
        unless the name (``names``: its forms) is written without any marks at all. So is a
        token typed with a mark where a name written with marks has none on it: "Thành" read
        as the "Thanh" of "Thanh Sơn" is another tone (:data:`OTHER_MARKS_SCORE`), not a name
        whose source left the marks out.
        Computed once per (position, name token) and query: many candidates share tokens.
        """
        known = self._qualities.get((position, folded, accented))
        if known is None:
            known = self._qualities[(position, folded, accented)] = self._token_quality(
                position, folded, accented
            )
        if known[0] != known[1] and written_with_marks(names):
            return known[1]
        return known[0]

    def _token_quality(self, position: int, folded: str, accented: str) -> tuple[float, float]:
        """The quality of a reading for a name written without marks, and for a name written with them."""
        found = self.expansions[position].get(folded)
        if found is None:
            return 0.0, 0.0
        if found >= 1.0:
            return self._folded_quality(position, accented, found)
        return self._slip_quality(position, accented, found)

    def _folded_quality(self, position: int, accented: str, found: float) -> tuple[float, float]:
        """:meth:`_token_quality` of a token equal to the name's once folded: by the marks typed."""
        typed = self.query.accented[position]
        exact = accent_score(typed, accented) or found
        if exact < 1.0 and position in self.query.landmark_names:
            # the noun of a landmark only as written; the name after it, read otherwise, only as a name
            # written without marks ("hồ Hòa Bình" is no "Làng Hố", "cầu Trắng" no "Làng Trang")
            if position in self.query.landmark_heads:
                return 0.0, 0.0
            return exact, (exact if typed.isascii() else 0.0)
        if self.unmarked:
            # text typed without any mark tells no name apart by its marks: "an" is "An" as much as "Ân"
            return min(exact, UNACCENTED_SCORE), min(exact, UNACCENTED_SCORE)
        if exact == UNACCENTED_SCORE and accented.isascii() and not typed.isascii():
            return exact, OTHER_MARKS_SCORE  # a mark typed where the name has none: another tone
        return exact, exact

    def _slip_quality(self, position: int, accented: str, found: float) -> tuple[float, float]:
        """:meth:`_token_quality` of a token read through a slip (or a completion while typing)."""
        if not self._typo(position, found):
            return found, found
        typed = self.query.accented[position]
        if not marks_fit(typed, accented):
            # only a name written without marks reads so, and no mark confirms the slip: both count, as for
            # a token equal once folded (UNACCENTED_SCORE): "thành" is hardly the "Thinh" of "Khanh Thinh"
            return found * UNACCENTED_SCORE, 0.0
        if not self.unmarked and typed.isascii() and not accented.isascii():
            # a slip that lost the marks too, in text that writes them: both count ("Theo" is no "Thếp")
            return found * UNACCENTED_SCORE, found * UNACCENTED_SCORE
        return found, found

    def _only_landmark_nouns(self, start: int, end: int) -> bool:
        """Whether tokens ``start:end`` are all the nouns of a landmark before a name: they name its kind
        ("suối khoáng Kim Bôi" is no village "Suối Nội" or "Bản Khoáng")."""
        heads = self.query.landmark_heads
        return bool(heads) and all(p in heads for p in range(start, end))

    def unit_word_around(self, start: int, end: int) -> tuple[int, UnitWord] | None:
        """The unit word qualifying tokens ``start:end`` (:meth:`Query.unit_word_around`), once per span."""
        key = (start, end)
        if key not in self._around:
            self._around[key] = self.query.unit_word_around(start, end)
        return self._around[key]

    def _typo(self, position: int, quality: float) -> bool:
        """Whether a reading of a query token below 1 is a misspelling (not a prefix completion)."""
        completing = self.prefix and position == self.n - 1
        return not completing and quality < 1.0

    # ------------------------------------------------------------------ candidates

    def candidates(
        self, limit: int = MAX_CANDIDATES, *, admit: Callable[[Entry], bool] | None = None
    ) -> list[tuple[Entry, list[Seed]]]:
        """Entries whose names share tokens with the query, best covered first.

        One pass over the posting lists (as arrays, :mod:`geocoder.candidates`) sums, per
        name variant, the idf share of its tokens the query hits and the query weight its
        tokens hit; the best variant of each entry ranks it (see :meth:`_rank`). ``admit``
        leaves entries out before the cut (filters).
        """
        arrays = self.state.candidate_arrays
        hits = arrays.hits(self.expansions, self.query.weights)
        covers = arrays.covers(hits)
        entries = self.state.entries
        if admit is not None:
            owners = covers.owners
            kept = [owner for owner in np.unique(owners).tolist() if admit(entries[owner])]
            keep = arrays.mask(np.asarray(kept, dtype=np.int64))[owners]
            covers = Covers(covers.keys[keep], covers.names[keep], covers.hits[keep])
        chosen = self._rank(covers, limit)
        seeds = arrays.seeds(hits, chosen)
        return [(entries[owner], seeds[owner]) for owner in chosen]

    def _rank(self, covers: Covers, limit: int) -> list[int]:
        """The owners of the best-covered variants: name share x (1 + query share) / 2.

        While a prefix is typed (autocomplete) the roles swap: the share of the query the
        name explains ranks first, since the rest of the name is still to be typed.
        """
        total = self.query.total_weight or 1.0
        arrays = self.state.candidate_arrays
        owners = covers.owners
        levels = arrays.type_level[owners]
        typed = np.zeros(arrays.top_level + 1, dtype=np.float64)
        for level, weight in self._unit_word_weights().items():
            if level < len(typed):
                typed[level] = weight
        query_share = np.minimum(1.0, (covers.hits + typed[levels]) / total)
        # typing a prefix, the rest of a name is still to come: what was typed counts most
        if self.prefix:
            cover = query_share * (0.5 + 0.5 * covers.names)
        else:
            cover = covers.names * (0.5 + 0.5 * query_share)
        found, best = arrays.best_by_owner(covers, cover, MIN_COVERAGE)
        if len(found) > limit:
            best = self._weigh_contexts(found, best)
        order = np.lexsort((found, -arrays.priority[found], -best))[:limit]
        return [int(owner) for owner in found[order]]

    def _unit_word_weights(self) -> dict[int, float]:
        """The query weight of its unit words, by level: what an entry of that level explains too."""
        found: dict[int, float] = {}
        weights = self.query.weights
        for start, word in enumerate(self.query.unit_words):
            if word is not None:
                found[word.level] = found.get(word.level, 0.0) + sum(weights[start : start + word.size])
        return found

    def _weigh_contexts(self, owners: Ints, best: Floats) -> Floats:
        """Scale each cover by what else the query says about it, so the right few survive the cut.

        The best context the query names: a street name found in every commune ("Quốc lộ
        6") has dozens of equally covered entries, and the one in the commune the query names
        must survive. The unit words: "xã M..." asks for a commune, not a village "Mõ".
        """
        spans = self.spans_by_context()
        levels = {context: LEVEL_WEIGHT.get(self.state.contexts[context].level, 0.0) for context in spans}
        arrays = self.state.candidate_arrays
        named = arrays.named(levels, owners)
        typed = [word.level for word in self.query.unit_words if word is not None]
        entry_levels = arrays.type_level[owners]
        factor = np.ones(len(owners))
        if typed:  # an entry of a kind no unit word names is less likely meant
            other = np.where(entry_levels == NO_TYPE, UNTYPED_FACTOR, OTHER_TYPE_FACTOR)
            named_levels = np.zeros(max(arrays.top_level, *typed) + 1, dtype=np.bool_)
            named_levels[typed] = True
            factor = np.where(named_levels[entry_levels], 1.0, other)
        return best * (1 - CONTEXT_SHARE + CONTEXT_SHARE * named) * factor

    # ------------------------------------------------------------------ runs

    def runs(self, entry: Entry, seeds: list[Seed]) -> list[Run]:
        """Maximal runs of the entry's names in the query, the best first (one per stretch).

        Entries with the same name forms read alike (namesakes: one street name in many
        communes), so the runs are found once per name forms and seeds.
        """
        key = self.state.candidate_arrays.name_class[entry.id]
        known = self._runs.get(key)
        if known is not None and known[0] == seeds:
            return known[1]
        runs = self._find_runs(entry, seeds)
        self._runs[key] = (seeds, runs)
        return runs

    def _find_runs(self, entry: Entry, seeds: list[Seed]) -> list[Run]:
        """The runs of :meth:`runs`, found."""
        found: dict[int, list[Run]] = {}  # by name variant and alignment (query position - name position)
        for variant, index, position in seeds:
            key = variant << _ALIGN_SHIFT | (position - index + _ALIGN_OFFSET)
            runs = found.get(key)
            if runs is None:
                runs = found[key] = []
            if _covers(runs, position):
                continue
            run = self._run(entry, variant, index, position)
            if run is not None:
                runs.append(run)
        every: list[Run] = []
        for runs in found.values():
            every.extend(runs)
        if len(every) > 1:
            _sort_runs(every)
        return every[:RUNS_TRIED]

    def _run(self, entry: Entry, variant: int, index: int, position: int) -> Run | None:
        """Extend one seed both ways along the name while tokens keep matching."""
        form = entry.names[variant]
        weights = self.query.weights
        first = index
        while first > 0 and position - (index - first) > 0:
            p = position - (index - first) - 1
            if self.quality(p, form.folded[first - 1], form.accented[first - 1], entry.names) <= 0:
                break
            first -= 1
        start = position - (index - first)
        explained, end, last = 0.0, start, first
        name_weights = self.state.name_weights[entry.id][variant]
        matched = 0.0
        while last < len(form.folded) and end < self.n:
            quality = self.quality(end, form.folded[last], form.accented[last], entry.names)
            if quality <= 0:
                break
            explained += weights[end] * quality
            matched += name_weights[last]
            end += 1
            last += 1
        if end == start or self._only_landmark_nouns(start, end):
            return None
        typed = name_weights[:last] if self.prefix and end == self.n else name_weights
        return Run(variant, start, end, explained, matched / sum(typed))

    # ------------------------------------------------------------------ contexts

    def spans(self, context_id: int) -> tuple[Span, ...]:
        """Where a context's names occur in the query, each with a fitting unit word."""
        return self.spans_by_context().get(context_id, ())

    def spans_by_context(self) -> dict[int, tuple[Span, ...]]:
        """Every context found in the query, with its spans (computed once)."""
        if self._spans is None:
            self._spans = self._find_spans()
        return self._spans

    def _find_spans(self) -> dict[int, tuple[Span, ...]]:
        """All context names found in the query: one pass over the context posting lists.

        A name is found where the posting of its first token is and each of its other
        tokens reads the query token after (in that token's expansions); names whose first
        tokens are not posted (a leading unit word) are found through their other forms.
        """
        postings = self.state.context_postings.postings
        contexts = self.state.contexts
        expansions = self.expansions
        n = self.n
        found: dict[int, list[Span]] = {}
        for position, expansion in enumerate(expansions):
            for token in expansion:
                reached = postings.get(token)
                if reached is None:
                    continue
                for posting in reached:
                    if posting[2] != 0:
                        continue
                    owner = posting[0]
                    context = contexts[owner]
                    form = context.names[posting[1]]
                    folded = form.folded
                    size = len(folded)
                    if position + size > n or not _reads_on(expansions, folded, position):
                        continue
                    span = self._span(context, folded, form.accented, position)
                    if span is not None:
                        spans = found.get(owner)
                        if spans is None:
                            found[owner] = [span]
                        else:
                            spans.append(span)
        return {owner: _by_mask(spans) for owner, spans in found.items()}

    def _span(
        self, context: Context, folded: tuple[str, ...], accented: tuple[str, ...], start: int
    ) -> Span | None:
        """One context name at ``start``: its quality, with the unit word before it."""
        explained = 0.0
        for i, (token, written) in enumerate(zip(folded, accented, strict=True)):
            quality = self.quality(start + i, token, written, context.names)
            if quality <= 0:
                return None
            explained += self.query.weights[start + i] * quality
        return self._with_unit_word(context, start, start + len(folded), explained)

    def _with_unit_word(self, context: Context, start: int, end: int, explained: float) -> Span | None:
        """A span plus the unit word around it; None when that word contradicts the context."""
        around = self.unit_word_around(start, end)
        if around is None:
            return Span(_mask(start, end), explained)
        begin, word = around
        fit = type_fit(word, context.level, context.unit_type)
        if fit is None:
            return None
        stop = begin + word.size
        extra = sum(self.query.weights[begin:stop]) * fit
        return Span(_mask(start, end) | _mask(begin, stop), explained + extra, typed=True)

    # ------------------------------------------------------------------ scoring

    def explain(self, entry: Entry, run: Run, *, cohere: bool = True) -> Match:
        """Score an entry read at one run of the query.

        Without ``cohere`` the score is an upper bound, before :meth:`cohere` weighs how the
        reading fits the units the text sets apart (it only ever lowers the score).
        """
        around = self._run_word(run.start, run.end)
        used = around.used
        penalty = 0.0
        explained = run.explained
        unit = around.unit
        if unit is not None:  # the unit word before the name: it explains its tokens, or contradicts
            fit = type_fit(unit, entry.type_level, entry.unit_type)
            if fit is None and unit.folded == VILLAGE_WORD and entry.type_level == VILLAGE - 1:
                fit = SAME_LEVEL_OTHER_TYPE  # travel pages call a commune a village ("Pa Co village")
            if fit is None:
                penalty = CONTRADICTION
            elif not around.overlaps:
                explained = run.explained + around.weight * fit
                used = around.used | around.word_mask
        house: HouseHit | None = None
        tried = False
        if self.query.house is not None and entry.group >= 0:
            house, tried, extra, used = self._house(entry, used)
            explained += extra
        contexts: list[int] = []
        found = self._spans if self._spans is not None else self.spans_by_context()
        if found:
            for link in entry.contexts:
                for span in found.get(link.context, ()):
                    if not span.mask & used:
                        explained += span.explained * link.weight
                        used |= span.mask
                        contexts.append(link.context)
                        break
        form = entry.names[run.variant]
        share = explained / self.query.total_weight if self.query.total_weight else 0.0
        base = share * (NAME_BASE + (1 - NAME_BASE) * run.name_coverage) * form.quality * self._read_as(run)
        match = Match(
            entry,
            max(0.0, min(1.0, base - penalty)),
            run,
            house,
            tried,
            tuple(contexts),
            None,
            base,
            penalty,
            used,
        )
        return self.cohere(match) if cohere else match

    def _read_as(self, run: Run) -> float:
        """How surely the name's tokens read as typed: :data:`READ_BASE` plus the rest times their mean
        quality (1: every token as typed; a slip or other marks lower it).

        A slip or other marks lower the explained share by the weight of that token only, which a long
        text's contexts dilute: "xã Trung Sơn, huyện Lương Sơn, tỉnh Hòa Bình" read as the xã "Trường
        Sơn" of the same district explains nearly as much. The name itself is read less surely, whatever
        else the text names. Text typed without marks reads every name alike (its best reading is
        :data:`UNACCENTED_SCORE`); a completion while typing (autocomplete) is no slip.
        """
        if self.prefix:
            return 1.0
        typed = sum(self.query.weights[run.start : run.end])
        if typed <= 0:
            return 1.0
        best = UNACCENTED_SCORE if self.unmarked else 1.0
        return READ_BASE + (1 - READ_BASE) * min(1.0, run.explained / (typed * best))

    def _run_word(self, start: int, end: int) -> _RunWord:
        """The unit word around a run (tokens ``start:end``), once per query and run."""
        key = start << _START_SHIFT | end
        known = self._run_words.get(key)
        if known is None:
            known = self._run_words[key] = self._find_run_word(start, end)
        return known

    def _find_run_word(self, start: int, end: int) -> _RunWord:
        """The value of :meth:`_run_word`, found."""
        used = _mask(start, end)
        word = self.unit_word_around(start, end)
        if word is None:
            return _RunWord(used, None, 0.0, 0, False)
        begin, unit = word
        word_mask = _mask(begin, begin + unit.size)
        weight = sum(self.query.weights[begin : begin + unit.size])
        return _RunWord(used, unit, weight, word_mask, bool(used & word_mask))

    def cohere(self, match: Match) -> Match:
        """The match scored with how it fits the text's units (partial name, finer unit, contradiction)."""
        factor, conflict = self._coherence(match.entry, match.run, match.used)
        if match.entry.type_level == VILLAGE:
            factor *= self._commune_skipped(match) * self._commune_called_village(match)
        factor *= self._other_type(match)
        if factor == 1.0 and conflict is None:
            return match
        score = max(0.0, min(1.0, match.base * factor - match.penalty))
        return Match(
            match.entry,
            score,
            match.run,
            match.house,
            match.house_tried,
            match.contexts,
            conflict,
            match.base,
            match.penalty,
            match.used,
        )

    def cohere_best(self, matches: list[Match], limit: int) -> list[Match]:
        """Cohere the matches that may still reach the first ``limit`` places (best upper bounds first).

        A coherent score never exceeds the upper bound, so once ``limit`` coherent scores
        beat the next bound the rest cannot overtake them; they stay, unweighed, below.
        """
        ordered = sorted(matches, key=lambda m: -m.score)
        done: list[Match] = []
        best: list[float] = []  # the ``limit`` best coherent scores so far (a min-heap)
        for index, match in enumerate(ordered):
            if len(best) == limit and match.score < best[0]:
                return [*done, *ordered[index:]]
            cohered = self.cohere(match)
            done.append(cohered)
            if len(best) < limit:
                heapq.heappush(best, cohered.score)
            else:
                heapq.heappushpop(best, cohered.score)
        return done

    # ------------------------------------------------------------------ coherence

    def _coherence(self, entry: Entry, run: Run, used: int) -> tuple[float, str | None]:
        """How well the reading fits the units the text sets apart: a factor, and the contradiction."""
        generic = entry.names[run.variant].generic
        key = (entry.type_level, generic, run.start, run.end, run.explained, run.name_coverage, used)
        fit = self._fits.get(key)
        if fit is None:
            fit = self._fits[key] = self._fit(entry, run, used)
        factor, missing = fit
        conflict = self._contradiction(entry, used)
        if conflict is not None:
            factor *= CONTRADICTED
        elif missing is not None:
            conflict = not_found_note(missing, entry.name)
        return factor, conflict

    def _fit(self, entry: Entry, run: Run, used: int) -> tuple[float, str | None]:
        """The factor of :meth:`_coherence` but the contradiction, and the finer unit left out.

        It depends on the entry's level and generic name, the run and the tokens used only:
        computed once per query for namesakes read alike.
        """
        factor = min(
            self._partial(entry, run, used),
            self._generic(entry, run, used),
            self._slipped(run),
            self._unit_word_only(run),
        )
        finer, missing = self._ignored_finer(entry, used)
        return factor * finer, missing

    def _segment_masks(self) -> list[tuple[int, int | None, int, int]]:
        """Each segment of the query as (token mask, level, start, end), computed once."""
        if self._segments is None:
            self._segments = [(_mask(g.start, g.end), g.level, g.start, g.end) for g in self.query.segments]
        return self._segments

    def _typed_spans(self) -> list[tuple[int, int, int]]:
        """Context spans written with a fitting unit word: (context id, level, mask), computed once."""
        if self._typed is None:
            contexts = self.state.contexts
            self._typed = [
                (context_id, contexts[context_id].level, span.mask)
                for context_id, spans in self.spans_by_context().items()
                for span in spans
                if span.typed
            ]
        return self._typed

    def _partial(self, entry: Entry, run: Run, used: int) -> float:
        """The factor for a name that leaves name tokens of its segment unexplained (1: none).

        :data:`MISNAMED` when the text labels that segment a unit of the entry's level or a
        coarser one: "Ngoc Lau commune" read in part as the village "Ngoa" names a commune.
        """
        for mask, level, start, end in self._segment_masks():
            if start <= run.start < end:
                if not mask & ~used:
                    return MISNAMED if self._misread(level, entry, run) else 1.0
                return MISNAMED if level is not None and level <= entry.type_level else PARTIAL
        return 1.0

    def _misread(self, level: int | None, entry: Entry, run: Run) -> bool:
        """Whether a segment labelled a coarser unit ("xã Cố Nghĩa") is read as a finer one through
        other marks or a slip (the village "Cô Nghĩa"): the text names the unit it labels. Text typed
        without marks reads every name alike ("Lac village" may be the street "Lác"), but a segment
        labelled a commune or a district that a unit of that level reads as well names that unit ("xa Co
        Nghia" is the xã Cố Nghĩa, not the village Cô Nghĩa)."""
        if level is None or level >= entry.type_level:
            return False
        typed = sum(self.query.weights[run.start : run.end])
        if run.explained < typed * UNACCENTED_SCORE - 1e-9:
            return True
        return level < VILLAGE and self._labelled_unit_reads(level, run)

    def _labelled_unit_reads(self, level: int, run: Run) -> bool:
        """Whether a unit of ``level``, written with a unit word that fits it, reads the run's tokens at
        least as well as the run (a context span covering them)."""
        mask = _mask(run.start, run.end)
        contexts = self.state.contexts
        return any(
            span.typed and span.mask & mask == mask and span.explained >= run.explained - 1e-9
            for context, spans in self.spans_by_context().items()
            if contexts[context].level == level
            for span in spans
        )

    def _commune_skipped(self, match: Match) -> float:
        """The factor for a village read from an unlabelled name after a name it leaves unexplained, when
        that name reads as well as a commune elsewhere and the text names the village's district, not its
        commune (:data:`COMMUNE_SKIPPED`; 1: not so)."""
        run = match.run
        segment = self.query.segment_at(run.start)
        if segment is None or segment.level is not None or segment.start == 0:
            return 1.0
        if not any(
            end <= run.start and mask & ~match.used for mask, _level, _start, end in self._segment_masks()
        ):
            return 1.0
        contexts = self.state.contexts
        levels = {contexts[context].level for context in match.contexts}
        if VILLAGE - 2 not in levels or VILLAGE - 1 in levels:
            return 1.0
        mask = _mask(run.start, run.end)
        own = self.state.candidate_arrays.entry_contexts[match.entry.id]
        codes = match.entry.unit_codes
        for context, spans in self.spans_by_context().items():
            found = contexts[context]
            if found.level != VILLAGE - 1 or context in own or found.code in codes:
                continue
            if any(span.mask & mask == mask and span.explained >= run.explained - 1e-9 for span in spans):
                return COMMUNE_SKIPPED
        return 1.0

    def _commune_called_village(self, match: Match) -> float:
        """The factor for a village named with the English word "village" when the text names its district
        but not its commune, and its name reads as well as a commune's (:data:`COMMUNE_CALLED_VILLAGE`; 1:
        not so): travel pages call a commune a village ("Tay Phong village of Cao Phong district" is the
        commune Tây Phong, not the village Tây Phong of another commune left out)."""
        word = self.query.unit_word_after(match.run.end)
        if word is None or word[1].folded != VILLAGE_WORD:
            return 1.0
        contexts = self.state.contexts
        levels = {contexts[context].level for context in match.contexts}
        if VILLAGE - 2 not in levels or VILLAGE - 1 in levels:
            return 1.0
        return COMMUNE_CALLED_VILLAGE if self._names_another_commune(match) else 1.0

    def _names_another_commune(self, match: Match) -> bool:
        """Whether the village's name in the text is, as well, the name of a commune it is not in (the text's
        unit word need not fit it: "village" said of a commune)."""
        run = match.run
        weights, typed = self.query.weights, self.query.accented[run.start : run.end]
        own = self.state.candidate_arrays.entry_contexts[match.entry.id]
        codes = match.entry.unit_codes
        for context in self.state.contexts:
            if context.level != VILLAGE - 1 or context.id in own or context.code in codes:
                continue
            for form in context.names:
                if len(form.accented) == len(typed):
                    scores = [
                        accent_score(word, name) for word, name in zip(typed, form.accented, strict=True)
                    ]
                    explained = sum(w * q for w, q in zip(weights[run.start : run.end], scores, strict=True))
                    if all(scores) and explained >= run.explained - 1e-9:
                        return True
        return False

    def _other_type(self, match: Match) -> float:
        """The factor for a unit named "phường" (or "ward") that is not one ("phường Hòa Bình" read as a
        xã; :data:`OTHER_TYPE_NAMED`; 1: not so). Not for "xã" before a thị trấn's name: since 2025 every
        thị trấn is a xã, and writers name the old one so."""
        word = self.unit_word_around(match.run.start, match.run.end)
        if word is None:
            return 1.0
        unit = word[1]
        if unit.folded != WARD_WORD and WARD_WORD not in unit.types:
            return 1.0
        fit = type_fit(unit, match.entry.type_level, match.entry.unit_type)
        return OTHER_TYPE_NAMED if fit == SAME_LEVEL_OTHER_TYPE else 1.0

    def _unit_word_only(self, run: Run) -> float:
        """The factor for a name read only from the words of a unit word ("lo" of "quoc lo" is not "Lô")."""
        if all(self.unit_cover[run.start : run.end]):
            return MISNAMED
        return 1.0

    def _slipped(self, run: Run) -> float:
        """The factor for a name matched in part, each token matched only through a slip (1: not so)."""
        if run.name_coverage >= 1.0:
            return 1.0
        typed = sum(self.query.weights[run.start : run.end])
        return SLIPPED_PART if run.explained <= typed * SLIP_QUALITY + 1e-9 else 1.0

    def _generic(self, entry: Entry, run: Run, used: int) -> float:
        """The factor for a place read only by the word for its kind, the text naming a unit it leaves out.

        "Trạm y tế Yên Phú" is the health station of Yên Phú and "Nhà văn hóa xóm Lác" the
        community hall of xóm Lác, not any other health station or hall (:data:`MISNAMED`);
        "Cây xăng, xã Tân Lạc" is any fuel station the commune named holds (1: no change).
        """
        if not entry.names[run.variant].generic and not self._category(run.start, run.end):
            return 1.0
        for mask, level, _start, _end in self._segment_masks():
            free = mask & ~used
            if free and (level is not None or self._names_a_unit(free)):
                return MISNAMED
        return 1.0

    def _category(self, start: int, end: int) -> bool:
        """Whether query tokens ``start:end`` name a kind of place ("trạm y tế"), once per span."""
        key = (start, end)
        known = self._categories.get(key)
        if known is None:
            known = self._categories[key] = " ".join(self.query.folded[start:end]) in CATEGORY_FOLDED
        return known

    def _names_a_unit(self, free: int) -> bool:
        """Whether the tokens under ``free`` hold the whole name of some unit (a context)."""
        return any(
            span.mask & free == span.mask for spans in self.spans_by_context().values() for span in spans
        )

    def _ignored_finer(self, entry: Entry, used: int) -> tuple[float, str | None]:
        """The factor for a commune or village the text names, finer than the entry and unexplained.

        A village the text names with its unit word ("xóm Thung Dao Bắc") and leaves unexplained counts
        against another village too: the answer is not the village named. With it, the text of that
        unit (for the note saying it was not found).
        """
        if entry.type_level == NO_TYPE:
            return 1.0, None
        ignored = [
            (FINER_IGNORED.get(level, 1.0), start, end)
            for mask, level, start, end in self._segment_masks()
            if level is not None
            and (entry.type_level < level <= VILLAGE or level == entry.type_level == VILLAGE)
            and not mask & used
        ]
        if not ignored:
            return 1.0, None
        factor, start, end = min(ignored)
        word = self.unit_word_around(start, end)
        first = min(start, word[0]) if word else start
        last = max(end, word[0] + word[1].size) if word else end
        return factor, " ".join(self.query.accented[first:last])

    def _contradiction(self, entry: Entry, used: int) -> str | None:
        """A unit the text names with its unit word, unexplained, that the entry does not lie in."""
        typed = self._typed_spans()
        if not typed:
            return None
        level = entry.type_level or VILLAGE + 1
        for context_id, context_level, mask in typed:
            if (
                context_level <= level
                and not mask & used
                and context_id not in self.state.candidate_arrays.entry_contexts[entry.id]
            ):
                return contradiction_note(entry.name, self._text_of(mask))
        return None

    def _text_of(self, mask: int) -> str:
        """The query tokens under a mask, as typed (normalised), once per mask."""
        known = self._texts.get(mask)
        if known is None:
            known = self._texts[mask] = " ".join(
                token for p, token in enumerate(self.query.accented) if mask >> p & 1
            )
        return known

    def _house(self, entry: Entry, used: int) -> tuple[HouseHit | None, bool, float, int]:
        """Look the query's house number up in the entry's group: (hit, tried, explained weight, used)."""
        spec = self.query.house
        if spec is None or entry.group < 0:
            return None, False, 0.0, used
        free = [p for p in spec.positions if not used >> p & 1]
        if spec.positions and not free:
            return None, False, 0.0, used
        if entry.group in self._houses:
            hit = self._houses[entry.group]
        else:
            hit = self._houses[entry.group] = self._find_house(entry.group, spec.keys)
        weight = sum(self.query.weights[p] for p in free) * (1.0 if hit is not None else HOUSE_MISSING)
        for p in free:
            used |= 1 << p
        return hit, True, weight, used

    def _find_house(self, group: int, keys: tuple[str, ...]) -> HouseHit | None:
        """The address (or place address) with one of the keys in a group."""
        store = self.state.houses
        for key in keys:
            hit = (
                store.find_hashed(group, self._house_hash(key))
                if group < len(self.state.addresses.groups)
                else None
            )
            if hit is not None:
                return hit
            place = self.state.streets.place_houses.get((group, key))
            if place is not None:
                return HouseHit(-1, -1, place[0], place[1], None, place[2])
        return None

    def _house_hash(self, key: str) -> np.uint64:
        """The :func:`geocoder.houses.house_hash` of a house key, once per query."""
        known = self._hashes.get(key)
        if known is None:
            known = self._hashes[key] = np.uint64(house_hash(key))
        return known

    def best(self, entry: Entry, seeds: list[Seed], *, cohere: bool = True) -> Match | None:
        """The best-scoring reading of one entry (an upper bound without ``cohere``)."""
        found: Match | None = None
        for run in self.runs(entry, seeds):
            match = self.explain(entry, run, cohere=cohere)
            if found is None or match.score > found.score:
                found = match
        return found
