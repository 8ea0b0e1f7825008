"""Address text as it is written: the clean form, and messy forms for geocoding tests.

People drop diacritics, abbreviate the unit words ("P.", "X.", "TT", "Đ."), forget
commas, type in lower case and make typos. ``messy_texts`` applies one to three of
those habits to a chosen fraction of texts, deterministically for a random generator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

import numpy as np
from numpy.typing import NDArray

from addresses.errors import InvalidParameterError
from geocoder.normalize import strip_marks

Habit = Callable[[str, np.random.Generator], str]

#: Words people abbreviate, and the forms they use (the first match in a text is replaced).
ABBREVIATIONS: Final = (
    ("thị trấn ", ("TT ", "TT.", "tt ")),
    ("phường ", ("P.", "P ", "Ph. ")),
    ("xã ", ("X.", "X ", "x.")),
    ("đường ", ("Đ.", "đ.", "D.")),
    ("tỉnh ", ("T.", "t.")),
    ("ngõ ", ("ng.", "N.")),
    ("số ", ("", "sn ", "SN ")),
    ("Quốc lộ ", ("QL", "QL.", "ql ")),
)
VILLAGE_WORDS: Final = ("xóm", "bản", "làng", "thôn", "tổ", "khu", "tiểu khu")


def street_label(street: str) -> str:
    """The street as written in an address: "đường X" unless the name says what it is.

    >>> street_label("Cù Chính Lan"), street_label("Quốc lộ 6"), street_label("Đường số 3")
    ('đường Cù Chính Lan', 'Quốc lộ 6', 'Đường số 3')
    """
    lowered = street.lower()
    if lowered.startswith(("đường", "quốc lộ", "tỉnh lộ", "ql", "đt")):
        return street
    return f"đường {street}"


def village_label(village: str) -> str:
    """A village name with its type word in lower case, as written inside an address.

    >>> village_label("Xóm Lác"), village_label("Bo Ba")
    ('xóm Lác', 'Bo Ba')
    """
    first, _, rest = village.partition(" ")
    if rest and first.lower() in VILLAGE_WORDS:
        return f"{first.lower()} {rest}"
    return village


def address_text(parts: list[str | None]) -> str:
    """The non-empty parts joined with commas.

    >>> address_text(["số 12", None, "đường Cù Chính Lan", "phường Hòa Bình", "tỉnh Phú Thọ"])
    'số 12, đường Cù Chính Lan, phường Hòa Bình, tỉnh Phú Thọ'
    """
    return ", ".join(part for part in parts if part)


def no_diacritics(text: str, _rng: np.random.Generator) -> str:
    """Typed without diacritics.

    >>> no_diacritics("số 12, đường Cù Chính Lan", np.random.default_rng(0))
    'so 12, duong Cu Chinh Lan'
    """
    return strip_marks(text)


def abbreviated(text: str, rng: np.random.Generator) -> str:
    """Each unit word present replaced by one of its abbreviations."""
    for word, forms in ABBREVIATIONS:
        if word in text:
            text = text.replace(word, forms[int(rng.integers(len(forms)))], 1)
    return text


def no_commas(text: str, _rng: np.random.Generator) -> str:
    """Commas left out.

    >>> no_commas("xóm Lác, xã Mai Hạ", np.random.default_rng(0))
    'xóm Lác xã Mai Hạ'
    """
    return text.replace(",", "")


def lower_case(text: str, _rng: np.random.Generator) -> str:
    """Typed all in lower case."""
    return text.lower()


def without_province(text: str, _rng: np.random.Generator) -> str:
    """The province left out (most people do).

    >>> without_province("xóm Lác, xã Mai Hạ, tỉnh Phú Thọ", np.random.default_rng(0))
    'xóm Lác, xã Mai Hạ'
    """
    return re.sub(r",?\s*tỉnh Phú Thọ$", "", text)


def old_town(text: str, town: str) -> str:
    """The 2025 commune replaced by the pre-2025 town the address was in, as people still write.

    >>> old_town("số 9, đường Cù Chính Lan, xã Lạc Sơn, tỉnh Phú Thọ", "Vụ Bản")
    'số 9, đường Cù Chính Lan, thị trấn Vụ Bản, tỉnh Phú Thọ'
    """
    return re.sub(r"\bxã [^,]+", f"thị trấn {town}", text, count=1)


def typo(text: str, rng: np.random.Generator) -> str:
    """One letter dropped, or two neighbouring letters swapped (always a different text).

    >>> typo("Cù Chính Lan", np.random.default_rng(1)) != "Cù Chính Lan"
    True
    """
    letters = [i for i, char in enumerate(text) if char.isalpha()]
    if not letters:
        return text + "."
    at = letters[int(rng.integers(len(letters)))]
    swapped = text[:at] + text[at + 1 : at + 2] + text[at] + text[at + 2 :]
    if rng.random() < 0.5 and swapped != text:
        return swapped
    return text[:at] + text[at + 1 :]


HABITS: Final[tuple[Habit, ...]] = (without_province, abbreviated, no_diacritics, no_commas, lower_case, typo)
"""The habits in the order they are applied (abbreviate before diacritics are gone)."""


def messy_text(text: str, habits: NDArray[np.bool_], rng: np.random.Generator) -> str:
    """``text`` with the chosen habits applied; a typo when they changed nothing."""
    for habit, chosen in zip(HABITS, habits, strict=True):
        if chosen:
            text = habit(text, rng)
    return text


def messy_texts(
    clean: list[str],
    *,
    fraction: float,
    rng: np.random.Generator,
    towns: list[str | None] | None = None,
) -> tuple[list[str], NDArray[np.bool_]]:
    """The texts as written: ``round(fraction * n)`` of them messy, the others clean.

    Returns the written texts and which are messy. A messy text always differs from
    its clean form. ``towns`` names, for each text, the pre-2025 town (thị trấn) the
    address was in: half the messy ones still write it instead of the commune.

    >>> written, messy = messy_texts(["xóm Lác, xã Mai Hạ"] * 4, fraction=0.5, rng=np.random.default_rng(3))
    >>> int(messy.sum()), all((w != "xóm Lác, xã Mai Hạ") == m for w, m in zip(written, messy))
    (2, True)
    """
    if not 0.0 <= fraction <= 1.0:
        raise InvalidParameterError("messy", f"a fraction between 0 and 1, not {fraction}")
    count = round(fraction * len(clean))
    messy = np.zeros(len(clean), dtype=bool)
    messy[rng.choice(len(clean), size=count, replace=False)] = True
    chosen = rng.random((count, len(HABITS))) < 0.4
    chosen[np.arange(count), rng.integers(0, len(HABITS), count)] = True  # at least one habit
    written = list(clean)
    for row, position in enumerate(np.flatnonzero(messy)):
        text = clean[position]
        if towns is not None and towns[position] and rng.random() < 0.5:
            text = old_town(text, towns[position] or "")
        text = messy_text(text, chosen[row], rng)
        written[position] = text if text != clean[position] else typo(text, rng)
    return written, messy
