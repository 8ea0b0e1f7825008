"""Vietnamese text in one canonical form: NFC with one tone-mark placement.

Sources mix "Hoà"/"Hòa" and "Thuỷ"/"Thủy" (new and old style); stored names use the
old style, the one most GSO names use. The geocoder builds its matching on top.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_TONE_MARKS: Final = "\u0300\u0301\u0309\u0303\u0323"  # huyền, sắc, hỏi, ngã, nặng
_OPEN_PAIRS: Final = ("oa", "oe", "uy")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _build_tone_table() -> dict[str, str]:
    """Map every new-style pair ("oà", "Uỷ", ...) to its old-style spelling."""
    table: dict[str, str] = {}
    for first, second in _OPEN_PAIRS:
        for mark in _TONE_MARKS:
            for f in (first, first.upper()):
                for s in (second, second.upper()):
                    table[f + _nfc(s + mark)] = _nfc(f + mark) + s
    return table


_TONE_TABLE: Final = _build_tone_table()
_TONE_RE: Final = re.compile(
    "[oOuU][" + "".join(sorted({pair[1] for pair in _TONE_TABLE})) + r"](?![^\W\d_])",
)


def _retone(match: re.Match[str]) -> str:
    """Old-style spelling of one open pair; the "u" of "qu" is part of the consonant.

    The pattern also meets pairs that are not open ones ("uè", "oỳ"): they stay as written.
    """
    start = match.start()
    if start and match.string[start - 1] in "qQ":
        return match.group()
    return _TONE_TABLE.get(match.group(), match.group())


def canonical_tones(text: str) -> str:
    """Move the tone mark of open ``oa``/``oe``/``uy`` to the first vowel (NFC input).

    >>> canonical_tones("Hoà Bình, Thuỷ, khoẻ, Quý, hoàng, Huỳnh")
    'Hòa Bình, Thủy, khỏe, Quý, hoàng, Huỳnh'
    >>> canonical_tones("thuè, Thuà, loỳ")
    'thuè, Thuà, loỳ'
    """
    return _TONE_RE.sub(_retone, text)


def canonical_text(text: str) -> str:
    """NFC with canonical tone marks.

    >>> canonical_text("Pho\u0300ng Hoà Bình")
    'Phòng Hòa Bình'
    """
    return canonical_tones(unicodedata.normalize("NFC", text))
