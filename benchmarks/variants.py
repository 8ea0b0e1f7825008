"""Robustness variants of address text: how else people write the same address.

The real-text set has no Vietnamese written without marks, few lower-case strings and
few abbreviations (SOURCES.md, "Known gaps"). Each function here rewrites one string
the way people also write it, so the tune half can be checked in each writing against
the same truth: :data:`VARIANTS` names them in the order of the tables.

* ``no marks``: every diacritic removed, đ -> d ("xã Mai Hạ" -> "xa Mai Ha");
* ``lower case``;
* ``other tone placement``: the tone of open oa/oe/uy on the other vowel (Hòa <-> Hoà);
* ``no commas``: commas dropped, the parts run together;
* ``abbreviated``: the unit words written short (xã -> X., thị trấn -> TT, huyện -> H.,
  thành phố -> TP, tiểu khu -> TK, tổ dân phố -> TDP).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from benchmarks import devset

_TONE_MARKS: Final = "\u0300\u0301\u0309\u0303\u0323"
_OPEN_PAIRS: Final = ("oa", "oe", "uy")


def _nfc(text: str) -> str:
    """NFC composition."""
    return unicodedata.normalize("NFC", text)


def _swap_table() -> dict[str, str]:
    """Every open pair with a tone, in either placement, mapped to the other placement."""
    table: dict[str, str] = {}
    for pair in _OPEN_PAIRS:
        for upper_first in (False, True):
            first = pair[0].upper() if upper_first else pair[0]
            second = pair[1]
            for mark in _TONE_MARKS:
                old, new = _nfc(first + mark) + second, first + _nfc(second + mark)
                table[old], table[new] = new, old
    return table


_SWAP: Final = _swap_table()
_SWAP_RE: Final = re.compile(
    "(?<![qQ])(?:" + "|".join(sorted(map(re.escape, _SWAP), key=len, reverse=True)) + r")(?![^\W\d_])"
)


def strip_marks(text: str) -> str:
    """Every diacritic removed, đ -> d, case kept.

    >>> strip_marks("Thôn Giếng, xã Đồng Bảng")
    'Thon Gieng, xa Dong Bang'
    """
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def lower_case(text: str) -> str:
    """Lower case.

    >>> lower_case("Xã Mai Hạ, Huyện Mai Châu")
    'xã mai hạ, huyện mai châu'
    """
    return text.lower()


def other_tone_placement(text: str) -> str:
    """The tone of each open oa/oe/uy moved to the other vowel (old style <-> new style).

    >>> other_tone_placement("Hòa Bình, Thuỷ, Quý, hoàng, khoẻ")
    'Hoà Bình, Thủy, Quý, hoàng, khỏe'
    """
    return _SWAP_RE.sub(lambda m: _SWAP[m.group()], _nfc(text))


def drop_commas(text: str) -> str:
    """Commas (and semicolons) dropped, single spaces between the words.

    >>> drop_commas("Xóm Lác, xã Chiềng Châu ,Mai Châu")
    'Xóm Lác xã Chiềng Châu Mai Châu'
    """
    return " ".join(re.sub(r"[,;]", " ", text).split())


SHORT_FORMS: Final = (
    ("thị trấn", "TT"),
    ("thành phố", "TP"),
    ("tổ dân phố", "TDP"),
    ("tiểu khu", "TK"),
    ("huyện", "H."),
    ("xã", "X."),
)
"""Unit words and the short forms people write for them."""

_SHORT_RE: Final = re.compile(
    r"(?<![^\W\d_])(" + "|".join(word for word, _ in SHORT_FORMS) + r")(?![^\W\d_])\s*", re.IGNORECASE
)


def _short(match: re.Match[str]) -> str:
    """The short form of one unit word ("X." glued to the name, the others followed by a space)."""
    short = dict(SHORT_FORMS)[match.group(1).lower()]
    return short if short.endswith(".") else short + " "


def abbreviate(text: str) -> str:
    """The unit words written short: xã -> X., thị trấn -> TT, huyện -> H., thành phố -> TP...

    >>> abbreviate("Tiểu khu 3, thị trấn Mãn Đức, huyện Tân Lạc, Xã Phú Cường")
    'TK 3, TT Mãn Đức, H.Tân Lạc, X.Phú Cường'
    >>> abbreviate("Thành phố Hòa Bình, tổ dân phố 5")
    'TP Hòa Bình, TDP 5'
    """
    return _SHORT_RE.sub(_short, _nfc(text))


VARIANTS: Final[dict[str, Callable[[str], str]]] = {
    "as written": lambda text: text,
    "no marks": strip_marks,
    "lower case": lower_case,
    "other tone placement": other_tone_placement,
    "no commas": drop_commas,
    "abbreviated": abbreviate,
}
"""Each way of rewriting a string, by name ("as written" is the string itself)."""


@dataclass(frozen=True)
class VariantRate:
    """One variant on a set of entries: how many strings it changed, and how many were answered right."""

    variant: str
    n: int
    changed: int
    hits: int

    @property
    def rate(self) -> float:
        """Share of the entries answered right in this writing."""
        return self.hits / self.n if self.n else float("nan")


def rates_by_variant(forward: devset.Forward, queries: Sequence[devset.DevQuery]) -> list[VariantRate]:
    """Each variant of :data:`VARIANTS` run through ``forward`` and judged against the same truth."""
    rates = []
    for name, rewrite in VARIANTS.items():
        texts = [rewrite(query.text) for query in queries]
        answers = [forward(text) for text in texts]
        hits = devset.judge(queries, answers).hit
        changed = sum(text != query.text for text, query in zip(texts, queries, strict=True))
        rates.append(VariantRate(name, len(queries), changed, int(hits.sum())))
    return rates


def rate_table(rates: Sequence[VariantRate]) -> str:
    """A Markdown table of variant rates.

    >>> print(rate_table([VariantRate("no marks", 4, 3, 3)]))
    | variant | n | changed | right | rate |
    |---|---:|---:|---:|---:|
    | no marks | 4 | 3 | 3 | 75.0% |
    """
    lines = ["| variant | n | changed | right | rate |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {r.variant} | {r.n} | {r.changed} | {r.hits} | {r.rate:.1%} |" for r in rates]
    return "\n".join(lines)
