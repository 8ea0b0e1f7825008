"""Token look-ups: posting lists, a typo dictionary (SymSpell deletes) and prefix completion.

Everything works on folded tokens (no marks, đ -> d). A name is a tuple of tokens;
its owner is an entry or a context, by integer id. Query tokens are expanded once
into the vocabulary tokens they may stand for, each with a quality:

* ``EXACT_FOLD`` - the same folded token (marks are compared later, on the accented forms);
* ``TYPO_1`` - one deletion, insertion, substitution or swap of neighbours (SymSpell); a
  known token of three letters or less is taken as typed (too many words are one edit away),
  or as a four-letter word with a letter after its first dropped (``TYPO_DROPPED_SHORT``:
  "soi" may be "suối" typed short, a slip that leaves another word);
* ``TYPO_2`` - two edits, for long tokens only, when nothing closer exists;
* prefix completions for autocomplete, by how much of the token was typed.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from addresses.vocabulary import initials_confusable

EXACT_FOLD: Final = 1.0
TYPO_1: Final = 0.75
TYPO_1_SHORT: Final = 0.6
TYPO_1_KNOWN: Final = 0.65
TYPO_2: Final = 0.6
TYPO_DROPPED_SHORT: Final = 0.5
"""A known word of three letters read as a longer one with a letter dropped ("Soi" for "Suối")."""
PREFIX_BASE: Final = 0.8
MIN_TYPO_LENGTH: Final = 3
MIN_TYPO_2_LENGTH: Final = 7
MAX_COMPLETIONS: Final = 400
_CACHE_LIMIT: Final = 200_000

Expansion = dict[str, float]
"""Vocabulary token -> quality of reading the query token as it."""

Posting = tuple[int, int, int, float]
"""(owner id, name variant number, token position in the name, idf share of the token in that name)."""


def deletes(token: str) -> set[str]:
    """Every string made by deleting one character.

    >>> sorted(deletes("son"))
    ['on', 'sn', 'so']
    """
    return {token[:i] + token[i + 1 :] for i in range(len(token))}


def keeps_initial(token: str, word: str) -> bool:
    """Whether a slip one edit from ``word`` keeps its first letter or one confused with it.

    A first letter typed in place of another makes another word ("rang" is not "hang"),
    unless writers mix the two up (:func:`addresses.vocabulary.initials_confusable`: "xon"
    for "son"); a swap, a letter dropped or added keeps the reading.

    >>> keeps_initial("rang", "hang"), keeps_initial("xon", "son"), keeps_initial("hnag", "hang")
    (False, True, True)
    """
    if len(token) != len(word) or token[0] == word[0] or token[1:] != word[1:]:
        return True
    return initials_confusable(token[0], word[0])


@dataclass(slots=True)
class Vocabulary:
    """All folded tokens of names, with a typo dictionary and a sorted list for prefixes."""

    words: frozenset[str]
    _deletes: dict[str, list[str]]
    _sorted: list[str]
    _long_words: list[str]
    _cache: dict[str, Expansion] = field(default_factory=dict)
    _completions: dict[str, Expansion] = field(default_factory=dict)

    @classmethod
    def build(cls, tokens: Iterable[str]) -> Vocabulary:
        """Index the tokens (duplicates are fine).

        >>> vocab = Vocabulary.build(["phong", "son", "sơn"])
        >>> sorted(vocab.expand("phnog").items())
        [('phong', 0.75)]
        """
        words = frozenset(tokens)
        table: dict[str, list[str]] = {}
        for word in words:
            if len(word) >= MIN_TYPO_LENGTH:
                for key in (word, *deletes(word)):
                    table.setdefault(key, []).append(word)
        long_words = sorted(word for word in words if len(word) >= MIN_TYPO_2_LENGTH - 1)
        return cls(words, table, sorted(words), long_words)

    def expand(self, token: str) -> Expansion:
        """The vocabulary tokens a folded query token may stand for, with their quality."""
        found = self._cache.get(token)
        if found is None:
            found = self._expand(token)
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            self._cache[token] = found
        return found

    def _expand(self, token: str) -> Expansion:
        out: Expansion = {}
        if token in self.words:
            out[token] = EXACT_FOLD
        known_short = token in self.words and len(token) <= MIN_TYPO_LENGTH
        if len(token) >= MIN_TYPO_LENGTH and not token.isdigit() and not known_short:
            self._add_typos(token, out)
        elif known_short and len(token) == MIN_TYPO_LENGTH:
            self._add_dropped(token, out)
        if len(out) <= int(token in self.words) and len(token) >= MIN_TYPO_2_LENGTH:
            self._add_far_typos(token, out)
        return out

    def _add_typos(self, token: str, out: Expansion) -> None:
        """Words one edit away (SymSpell: shared deletes, then a real distance check)."""
        quality = TYPO_1 if len(token) > MIN_TYPO_LENGTH else TYPO_1_SHORT
        if token in self.words:
            quality = min(quality, TYPO_1_KNOWN)
        for key in (token, *deletes(token)):
            for word in self._deletes.get(key, ()):
                if word in out or word.isdigit() or not keeps_initial(token, word):
                    continue
                if OSA.distance(token, word) <= 1:
                    out[word] = quality

    def _add_dropped(self, token: str, out: Expansion) -> None:
        """Words a known short token is with one letter dropped after the first ("soi" for "suoi").

        >>> Vocabulary.build(["soi", "suoi", "sai", "xoi"]).expand("soi")
        {'soi': 1.0, 'suoi': 0.5}
        """
        for word in self._deletes.get(token, ()):
            if len(word) == len(token) + 1 and word[0] == token[0]:
                out[word] = TYPO_DROPPED_SHORT

    def _add_far_typos(self, token: str, out: Expansion) -> None:
        """Words two edits away, for long tokens that found nothing closer."""
        for word, _distance, _index in process.extract(
            token, self._long_words, scorer=Levenshtein.distance, score_cutoff=2, limit=5
        ):
            out.setdefault(word, TYPO_2)

    def complete(self, prefix: str) -> Expansion:
        """Tokens starting with ``prefix``, better the more of them was typed (the token itself: 1.0).

        >>> Vocabulary.build(["mai", "maison", "man"]).complete("mai")
        {'mai': 1.0, 'maison': 0.9}
        """
        found = self._completions.get(prefix)
        if found is not None:
            return found
        found = {}
        start = bisect.bisect_left(self._sorted, prefix)
        for word in self._sorted[start : start + MAX_COMPLETIONS]:
            if not word.startswith(prefix):
                break
            share = len(prefix) / len(word)
            found[word] = 1.0 if word == prefix else round(PREFIX_BASE + (1 - PREFIX_BASE) * share, 2)
        if len(self._completions) > _CACHE_LIMIT:
            self._completions.clear()
        self._completions[prefix] = found
        return found


@dataclass(frozen=True, slots=True)
class PostingIndex:
    """Which owner names contain which token, and how rare each token is (idf).

    A name's first ``lead`` tokens (a unit word such as "xóm" that the name also exists
    without) are not posted: the name is found through its other tokens.
    """

    postings: dict[str, tuple[Posting, ...]]
    idf: dict[str, float]

    @classmethod
    def build(cls, names: Iterable[tuple[int, int, tuple[str, ...], int]]) -> PostingIndex:
        """Index ``(owner, variant, folded tokens, lead)`` tuples.

        >>> index = PostingIndex.build([(0, 0, ("mai", "chau"), 0), (1, 0, ("mai", "ha"), 0)])
        >>> [p[:3] for p in index.postings["mai"]], index.idf["chau"] > index.idf["mai"]
        ([(0, 0, 0), (1, 0, 0)], True)
        """
        items = list(names)
        owners: dict[str, set[int]] = {}
        for owner, _variant, tokens, _lead in items:
            for token in tokens:
                owners.setdefault(token, set()).add(owner)
        total = max(len({item[0] for item in items}), 1)
        idf = {token: math.log(1 + total / len(found)) for token, found in owners.items()}
        postings: dict[str, list[Posting]] = {}
        for owner, variant, tokens, lead in items:
            weight = sum(idf[token] for token in tokens)
            for position, token in enumerate(tokens):
                if position >= lead:
                    postings.setdefault(token, []).append((owner, variant, position, idf[token] / weight))
        return cls({token: tuple(found) for token, found in postings.items()}, idf)

    def weight(self, token: str) -> float:
        """The idf of a token (rare tokens weigh more); unknown tokens weigh like the rarest."""
        return self.idf.get(token, 8.0)
