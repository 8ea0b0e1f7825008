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
  thành phố -> TP, tiểu khu -> TK, tổ dân phố -> TDP);
* ``new province``: Hòa Bình named as the province written Phú Thọ, its province since
  1 July 2025 ("tỉnh Hòa Bình" -> "tỉnh Phú Thọ", "Hoa Binh province" -> "Phu Tho province");
  ``new province, no district``: the district dropped as well, as districts were abolished
  that day; ``no province``, ``no district``: one of them left out;
* ``Việt Nam appended`` (", Vietnam" to text without marks);
* ``upper case``, as letterheads write ("XÃ MAI HẠ, HUYỆN MAI CHÂU");
* ``decomposed (NFD)``: each mark a character of its own, as text from some systems arrives;
* ``dashes``, ``semicolons``, ``full stops``: " - ", "; " or ". " where the text has a comma;
* ``label in front``: "Địa chỉ:", "Đ/c:" or "ĐC:" ("Address:" in English);
* ``phone after``: a telephone number after the address ("- ĐT: 0218 3xx xxxx"), its digits
  drawn at random (seeded by the text: fake);
* ``one slip``: one name word of four letters or more with a letter dropped, doubled or
  swapped with the next (the word and the slip drawn at random, seeded by the text).

Whatever is drawn at random is seeded by the text itself, so each writing is the same on
every run. The "no district" writings change the truth of the texts that named an old
commune whose name another district's commune bears ("xã Cao Sơn" of Lương Sơn without
"huyện Lương Sơn" is read as the 2025 xã Cao Sơn): they are held to a lower bar.
"""

from __future__ import annotations

import functools
import html.entities
import json
import random
import re
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from addresses.vocabulary import ENGLISH_FILLERS, ENGLISH_TERMS, UNIT_TERMS
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


# --- the province and the districts since 1 July 2025 --------------------------------

_PROVINCES: Final = ("hoa binh", "phu tho")
_DISTRICTS: Final = (
    "hoa binh", "da bac", "luong son", "kim boi", "cao phong", "tan lac", "mai chau", "lac son",
    "yen thuy", "lac thuy", "ky son",
)  # fmt: skip
"""The districts of Hòa Bình (folded), the dissolved Kỳ Sơn with them, and the city (first: alone,
"Hòa Bình" is read as the province)."""


def _alternatives(names: Sequence[str]) -> str:
    """A group matching any of the folded names, whole words."""
    return r"(?<![a-z])(?:" + "|".join(names) + r")(?![a-z])"


def _folded(text: str) -> str:
    """Lower case, marks removed: one character for each of the text's (positions align).

    A mark that composes with no letter (the Mường script's) becomes an apostrophe:

    >>> _folded("Xã Đồng Bảng"), _folded("La\u032dc")
    ('xa dong bang', "la'c")
    """
    return "".join(strip_marks(char) or "'" for char in text).lower()


def _written_like(found: str, name: str) -> str:
    """``name`` written as ``found`` is: without marks when it has none, upper case when it is."""
    if found.isascii():
        name = strip_marks(name)
    return name.upper() if found.isupper() else name


_OLD_PROVINCE_RE: Final = re.compile(
    r"(?<![a-z])(?:tinh|t\.)\s*(?P<labelled>hoa binh)(?![a-z])"
    r"|(?<![a-z])(?P<english>hoa binh)(?=\s+province(?![a-z]))"
    r"|(?:[,(\u2013-]\s*|(?<=\sof\s))(?P<alone>hoa binh)(?=\s*\)?\s*$)"
)
"""Hòa Bình named as the province (folded text): after "tỉnh"/"T.", before "province", or alone
ending the text after a comma, a dash, "of" or a bracket ("huyện Lạc Sơn (Hòa Bình)")."""
_PROVINCE_PART_RE: Final = re.compile(
    r"(?:\s*[,;\u2013-]\s*|\s+of\s+(?:northern\s+)?|\s+)?"
    rf"(?:(?<![a-z])(?:tinh|t\.)\s*{_alternatives(_PROVINCES)}|{_alternatives(_PROVINCES)}\s+province(?![a-z]))"
    rf"|\s*\(\s*{_alternatives(_PROVINCES)}\s*\)(?=\s*$)"
    rf"|\s*[,;\u2013-]\s*{_alternatives(_PROVINCES)}(?=\s*\)?\s*$)"
)
"""The province with what joins it to the text before ("..., tỉnh Hòa Bình", "... of Hoa Binh province")."""
_COMMUNE_WORD_RE: Final = re.compile(
    r"(?<![a-z])(?:(?<!thi )xa|phuong|thi tran|tt|x\.|p\.|commune|ward|township|town)(?![a-z])"
)
"""A commune-level unit word (folded): a text naming none names its district for its place."""
_DISTRICT_PART_RE: Final = re.compile(
    rf"{_alternatives(_DISTRICTS)}\s+district['\u2019]s\s+|{_alternatives(_DISTRICTS)}['\u2019]s\s+"
    r"|(?:\s*[,;\u2013-]\s*|\s+(?:of|in)\s+(?:the\s+)?|\s+)?"
    rf"(?:(?<![a-z])(?:huyen|h\.|thanh pho|tp\.?|thi xa)\s*{_alternatives(_DISTRICTS)}"
    rf"|{_alternatives(_DISTRICTS)}\s+(?:district|city)(?![a-z'\u2019]))"
    rf"|\s*\(\s*{_alternatives(_DISTRICTS[1:])}\s*\)"
    rf"|\s*[,\u2013-]\s*{_alternatives(_DISTRICTS[1:])}(?=\s*(?:[,;)\u2013-]|$))"
)
"""A district (folded text) with what joins it to the text before: labelled ("huyện Mai Châu",
"H. Mai Châu", "Mai Chau district", "Lac Son district's", "thành phố Hòa Bình"), or alone in
brackets or as a part ("xã Bắc Phong (Cao Phong)", "xóm Ké, Vầy Nưa, Đà Bắc")."""
_TIDY: Final = (
    (re.compile(r"\(\s*[,;\u2013-]?\s*\)"), ""),
    (re.compile(r"\(\s*[,;\u2013-]\s*"), "("),
    (re.compile(r"\s*[,;\u2013-]\s*\)"), ")"),
    (re.compile(r"\s+\)"), ")"),
    (re.compile(r"\s{2,}"), " "),
)


def _cut(text: str, pattern: re.Pattern[str]) -> str:
    """The NFC text without the spans ``pattern`` finds in its fold, tidied (no empty brackets)."""
    text = _nfc(text)
    spans = [match.span() for match in pattern.finditer(_folded(text))]
    for start, end in reversed(spans):
        text = text[:start] + text[end:]
    for tidy, replacement in _TIDY:
        text = tidy.sub(replacement, text)
    return text.strip(" ,;-\u2013")


def new_province(text: str) -> str:
    """Hòa Bình named as the province written Phú Thọ, its province since 1 July 2025.

    "Hòa Bình" the city, or ahead of the end without a province word, stays:

    >>> new_province("xã Tân Mai, huyện Mai Châu, tỉnh Hòa Bình")
    'xã Tân Mai, huyện Mai Châu, tỉnh Phú Thọ'
    >>> new_province("Tan Mai commune of Hoa Binh province"), new_province("huyện Lạc Sơn (Hoà Bình)")
    ('Tan Mai commune of Phu Tho province', 'huyện Lạc Sơn (Phú Thọ)')
    >>> new_province("TỈNH HÒA BÌNH"), new_province("phường Tân Hòa, thành phố Hòa Bình")
    ('TỈNH PHÚ THỌ', 'phường Tân Hòa, thành phố Hòa Bình')
    """
    text = _nfc(text)
    for match in reversed(list(_OLD_PROVINCE_RE.finditer(_folded(text)))):
        start, end = match.span(match.lastgroup or 0)
        text = text[:start] + _written_like(text[start:end], "Phú Thọ") + text[end:]
    return text


def drop_province(text: str) -> str:
    """The province (Hòa Bình or Phú Thọ) left out, with the comma or word that joined it.

    >>> drop_province("xã Tân Mai, huyện Mai Châu, tỉnh Hòa Bình")
    'xã Tân Mai, huyện Mai Châu'
    >>> drop_province("Tan Mai commune in Mai Chau district of Hoa Binh province")
    'Tan Mai commune in Mai Chau district'
    >>> drop_province("xã Mai Châu (Phú Thọ)"), drop_province("xã Tân Mai (Mai Châu, Hòa Bình)")
    ('xã Mai Châu', 'xã Tân Mai (Mai Châu)')
    """
    return _cut(text, _PROVINCE_PART_RE)


def drop_district(text: str) -> str:
    """The district left out, as since 1 July 2025, when the text names a commune-level unit.

    >>> drop_district("xã Tân Mai, huyện Mai Châu, tỉnh Hòa Bình")
    'xã Tân Mai, tỉnh Hòa Bình'
    >>> drop_district("Lac Son district's Tan Mai commune"), drop_district("xã Tân Mai (Mai Châu)")
    ('Tan Mai commune', 'xã Tân Mai')
    >>> drop_district("Tan Mai commune of Mai Chau district, Hoa Binh province")
    'Tan Mai commune, Hoa Binh province'
    >>> drop_district("đoạn qua huyện Mai Châu")  # the district is all it names
    'đoạn qua huyện Mai Châu'
    """
    if _COMMUNE_WORD_RE.search(_folded(text)) is None:
        return text
    return _cut(text, _DISTRICT_PART_RE)


def new_province_without_district(text: str) -> str:
    """The 2025 writing: Phú Thọ for the province, the district left out.

    >>> new_province_without_district("xóm Lác, xã Chiềng Châu, huyện Mai Châu, tỉnh Hòa Bình")
    'xóm Lác, xã Chiềng Châu, tỉnh Phú Thọ'
    """
    return drop_district(new_province(text))


def _unmarked(text: str) -> bool:
    """Whether the text carries no Vietnamese mark (English, or Vietnamese typed without marks)."""
    return strip_marks(text) == text


def add_country(text: str) -> str:
    """ ", Việt Nam" appended (", Vietnam" to a text without marks).

    >>> add_country("xã Tân Mai"), add_country("Tan Mai commune")
    ('xã Tân Mai, Việt Nam', 'Tan Mai commune, Vietnam')
    """
    return text + (", Vietnam" if _unmarked(text) else ", Việt Nam")


def upper_case(text: str) -> str:
    """Upper case, as letterheads write names.

    >>> upper_case("Xã Mai Hạ, huyện Mai Châu")
    'XÃ MAI HẠ, HUYỆN MAI CHÂU'
    """
    return text.upper()


def decompose(text: str) -> str:
    """Unicode NFD: each mark a character of its own after its letter, as some systems send text.

    >>> decompose("Hạ") == "Ha\u0323", len(decompose("xã Mai Hạ"))
    (True, 11)
    """
    return unicodedata.normalize("NFD", text)


_COMMA_RE: Final = re.compile(r"\s*,\s*")


def separated_by(separator: str) -> Callable[[str], str]:
    """A rewrite that writes ``separator`` where the text has a comma.

    >>> separated_by(" - ")("xóm Lác, xã Chiềng Châu ,Mai Châu")
    'xóm Lác - xã Chiềng Châu - Mai Châu'
    >>> separated_by(". ")("xóm Lác, xã Chiềng Châu")
    'xóm Lác. xã Chiềng Châu'
    """

    def rewrite(text: str) -> str:
        return _COMMA_RE.sub(separator, text)

    return rewrite


def _rng(text: str, salt: str) -> random.Random:
    """A random generator seeded by the text and a salt: the same text gets the same rewrite."""
    return random.Random(zlib.crc32(f"{salt}:{text}".encode()))


LABELS: Final = ("Địa chỉ: ", "Đ/c: ", "ĐC: ")
"""Labels people write before a Vietnamese address ("Address: " before an English one)."""


def add_label(text: str) -> str:
    """A label in front: "Địa chỉ:", "Đ/c:" or "ĐC:" (one chosen by the text), "Address:" in English.

    >>> add_label("xã Tân Mai") in {label + "xã Tân Mai" for label in LABELS}
    True
    >>> add_label("Tan Mai commune")
    'Address: Tan Mai commune'
    """
    if _unmarked(text):
        return "Address: " + text
    return _rng(text, "label").choice(LABELS) + text


LANDLINE_SHARE: Final = 0.5
"""Share of the telephone numbers that are landlines (the others are mobile numbers)."""


def add_phone(text: str) -> str:
    r"""A telephone number after the address, its digits drawn at random (seeded by the text: fake).

    A landline of Hòa Bình (0218 3xx xxxx) or a mobile number (09xx xxx xxx), "- ĐT:" or "- SĐT:" before it in
    Vietnamese, ", Tel:" with the country code in English:

    >>> add_phone("Tan Mai commune").startswith("Tan Mai commune, Tel: +84 ")
    True
    >>> phone = r"xã Tân Mai - (ĐT: 0218 3\d\d \d{4}|SĐT: 09\d\d \d{3} \d{3})"
    >>> re.fullmatch(phone, add_phone("xã Tân Mai")) is not None
    True
    """
    rng = _rng(text, "phone")
    digits = "".join(str(rng.randrange(10)) for _ in range(8))
    landline = rng.random() < LANDLINE_SHARE
    number = f"218 3{digits[:2]} {digits[2:6]}" if landline else f"9{digits[:2]} {digits[2:5]} {digits[5:]}"
    if _unmarked(text):
        return f"{text}, Tel: +84 {number}"
    return f"{text} - {'ĐT' if landline else 'SĐT'}: 0{number}"


def _unit_words() -> frozenset[str]:
    """The folded words of unit words, English unit words and fillers (no slip is made in them)."""
    words = {strip_marks(w) for term in UNIT_TERMS for w in term.word.split()}
    words |= {w for term in ENGLISH_TERMS for w in term.word.split()} | set(ENGLISH_FILLERS)
    return frozenset(words)


_NOT_NAMES: Final = _unit_words()
_WORD_RE: Final = re.compile(r"[^\W\d_]+")
SLIP_MIN_LETTERS: Final = 4


def _slip(word: str, rng: random.Random) -> str:
    """One slip in a word: a letter dropped, doubled or swapped with the next; the first letter kept.

    A doubled letter is typed again without its marks (the keyboard's marks go on one letter):

    >>> [_slip("Khoè", random.Random(seed)) for seed in (2, 5, 9)]
    ['Koè', 'Khèo', 'Khoèe']
    """
    kind = rng.choice(("drop", "double", "swap"))
    if kind == "swap":
        k = rng.randrange(1, len(word) - 1)
        return word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    k = rng.randrange(1, len(word))
    if kind == "drop":
        return word[:k] + word[k + 1 :]
    return word[: k + 1] + strip_marks(word[k]) + word[k + 1 :]


def one_slip(text: str) -> str:
    """One typing slip in one name word of four letters or more (chosen at random, seeded by the text).

    Name words start with a capital and are no unit word ("Xã", "Commune"); the slip drops,
    doubles or swaps a letter after the first:

    >>> one_slip("xã Mai Hạ"), one_slip("Xã Mai Hạ") == one_slip("Xã Mai Hạ")
    ('xã Mai Hạ', True)
    >>> slipped = one_slip("xóm Chiềng, Xã Mai Hạ")
    >>> slipped != "xóm Chiềng, Xã Mai Hạ", slipped.startswith("xóm Ch"), slipped.endswith(", Xã Mai Hạ")
    (True, True, True)
    """
    text = _nfc(text)
    names = [
        m
        for m in _WORD_RE.finditer(text)
        if m.group()[0].isupper()
        and len(m.group()) >= SLIP_MIN_LETTERS
        and _folded(m.group()) not in _NOT_NAMES
    ]
    if not names:
        return text
    rng = _rng(text, "slip")
    chosen = rng.choice(names)
    return text[: chosen.start()] + _slip(chosen.group(), rng) + text[chosen.end() :]


# --- more writings, generated from the real strings' own words (issue 10) -------------------

_ENGLISH_OF: Final = (
    ("tổ dân phố", "residential group"),
    ("thị trấn", "town"),
    ("thành phố", "city"),
    ("tiểu khu", "zone"),
    ("phường", "ward"),
    ("huyện", "district"),
    ("tỉnh", "province"),
    ("xã", "commune"),
    ("xóm", "hamlet"),
    ("thôn", "village"),
    ("bản", "village"),
    ("làng", "village"),
)
"""Vietnamese unit words and the English words written after the name for them."""
_VIETNAMESE_PART_RE: Final = re.compile(
    r"(?<![^\W\d_])("
    + "|".join(word for word, _ in _ENGLISH_OF)
    + r")\s+([^,;()\-\u2013]+?)(?=\s*(?:[,;()\-\u2013]|$))",
    re.IGNORECASE,
)


def english_unit_words(text: str) -> str:
    """Each Vietnamese unit word written in English after its name, as English pages do.

    >>> english_unit_words("xóm Lác, xã Chiềng Châu (huyện Mai Châu)")
    'Lác hamlet, Chiềng Châu commune (Mai Châu district)'
    """
    english = dict(_ENGLISH_OF)
    return _VIETNAMESE_PART_RE.sub(lambda m: f"{m.group(2)} {english[m.group(1).lower()]}", _nfc(text))


ENGLISH_SHORT_FORMS: Final = (("district", "Dist."), ("province", "Prov."), ("commune", "Com."))
_ENGLISH_SHORT_RE: Final = re.compile(r"\b(district|province|commune)\b", re.IGNORECASE)


def english_short_forms(text: str) -> str:
    """English unit words written short: district -> Dist., province -> Prov., commune -> Com.

    >>> english_short_forms("Lac hamlet, Chieng Chau commune, Mai Chau District")
    'Lac hamlet, Chieng Chau Com., Mai Chau Dist.'
    """
    return _ENGLISH_SHORT_RE.sub(lambda m: dict(ENGLISH_SHORT_FORMS)[m.group(1).lower()], text)


def reverse_order(text: str) -> str:
    """The comma-separated parts in reverse order: the province first, as forms and envelopes ask.

    >>> reverse_order("xóm Lác, xã Chiềng Châu, huyện Mai Châu")
    'huyện Mai Châu, xã Chiềng Châu, xóm Lác'
    """
    return ", ".join(reversed([part.strip() for part in _COMMA_RE.split(text) if part.strip()]))


_Y_I_RE: Final = re.compile(
    r"(?<![^\W\d_])((?:[bcdđghklmnprstvx]|ch|kh|nh|ph|th|tr))([yýỳỷỹỵiíìỉĩị])(?![^\W\d_])", re.IGNORECASE
)
_Y_TO_I: Final = str.maketrans("yýỳỷỹỵYÝỲỶỸỴ", "iíìỉĩịIÍÌỈĨỊ")
_I_TO_Y: Final = str.maketrans("iíìỉĩịIÍÌỈĨỊ", "yýỳỷỹỵYÝỲỶỸỴ")


def swap_y_i(text: str) -> str:
    """In names, a syllable-final y after a consonant written i, and i written y (Sỹ/Sĩ, Kỳ/Kì, Mỹ/Mĩ).

    Names are the words written with a capital that are no unit word ("Thị" of "Thị trấn" stays).

    >>> swap_y_i("xã Lạc Sỹ, Ngọc Mỹ, Thị trấn Kỳ Sơn, Thủy, Quý")
    'xã Lạc Sĩ, Ngọc Mĩ, Thị trấn Kì Sơn, Thủy, Quý'
    >>> swap_y_i("Tú Lí")
    'Tú Lý'
    """

    def swap(match: re.Match[str]) -> str:
        if not match.group()[0].isupper() or _folded(match.group()) in _NOT_NAMES:
            return match.group()
        vowel = match.group(2)
        table = _Y_TO_I if vowel.lower() in "yýỳỷỹỵ" else _I_TO_Y
        return match.group(1) + vowel.translate(table)

    return _Y_I_RE.sub(swap, _nfc(text))


_ADMIN_WORD_RE: Final = re.compile(
    r"(?<![^\W\d_])(?:thị trấn|thành phố|thị xã|phường|huyện|tỉnh|xã)\s+", re.IGNORECASE
)


def drop_admin_words(text: str) -> str:
    """The words xã, phường, thị trấn, huyện, thành phố, tỉnh left out, the names kept.

    >>> drop_admin_words("xóm Lác, xã Chiềng Châu, huyện Mai Châu, tỉnh Hòa Bình")
    'xóm Lác, Chiềng Châu, Mai Châu, Hòa Bình'
    """
    return _ADMIN_WORD_RE.sub("", _nfc(text))


_VILLAGE_WORDS: Final = {
    "xóm": "thôn",
    "thôn": "xóm",
    "bản": "xóm",
    "làng": "xóm",
    "hamlet": "village",
    "village": "hamlet",
}
_VILLAGE_WORD_RE: Final = re.compile(
    r"(?<![^\W\d_])(xóm|thôn|bản|làng|hamlet|village)(?![^\W\d_])", re.IGNORECASE
)


def other_village_word(text: str) -> str:
    """Another word for a village: xóm <-> thôn, bản/làng -> xóm, hamlet <-> village.

    >>> other_village_word("Bản Lác, xóm Bưng, Lac village")
    'Xóm Lác, thôn Bưng, Lac hamlet'
    """

    def other(match: re.Match[str]) -> str:
        word = _VILLAGE_WORDS[match.group(1).lower()]
        return word.capitalize() if match.group(1)[0].isupper() else word

    return _VILLAGE_WORD_RE.sub(other, _nfc(text))


LANDMARKS: Final = ("chợ", "cầu", "suối", "đền", "hồ", "thác", "hang", "nhà văn hóa")
"""Landmarks named after the village they are in ("chợ Lác", the market of Lác; "cầu Lác", its bridge)."""
_FIRST_VILLAGE_WORD_RE: Final = re.compile(r"^(xóm|thôn|bản|làng|xã)\s+(?=[^\W\d_])", re.IGNORECASE)


def landmark_of_the_village(text: str) -> str:
    """A landmark named after the village (or the commune) first named in place of it ("xóm Lác, xã ..." ->
    "chợ Lác, xã ...", "xã Tân Mai, huyện ..." -> "hồ Tân Mai, huyện ..."), as news writes where something
    happened; Vietnamese text with marks only (chosen by the text).

    >>> written = landmark_of_the_village("xóm Lác, xã Chiềng Châu")
    >>> written.endswith(" Lác, xã Chiềng Châu"), written.rsplit(" Lác", 1)[0] in LANDMARKS
    (True, True)
    >>> landmark_of_the_village("xom Lac, xa Chieng Chau")
    'xom Lac, xa Chieng Chau'
    """
    text = _nfc(text)
    if _unmarked(text):
        return text
    landmark = _rng(text, "landmark").choice(LANDMARKS)

    def named(match: re.Match[str]) -> str:
        return (landmark.capitalize() if match.group()[0].isupper() else landmark) + " "

    return _FIRST_VILLAGE_WORD_RE.sub(named, text, count=1)


SHOPS: Final = ("Cửa hàng tạp hóa Minh Anh, ", "Gần chợ, ", "Đối diện UBND xã, ", "Cạnh trường tiểu học, ")
"""Words before an address naming a shop or a landmark near it ("Minh Anh grocery, " in English)."""
SHOPS_ENGLISH: Final = ("Minh Anh grocery, ", "Near the market, ", "Opposite the school, ")


def shop_in_front(text: str) -> str:
    """A shop or landmark named before the address (chosen by the text).

    >>> shop_in_front("xã Tân Mai") in {shop + "xã Tân Mai" for shop in SHOPS}
    True
    """
    return _rng(text, "shop").choice(SHOPS_ENGLISH if _unmarked(text) else SHOPS) + text


def distance_after(text: str) -> str:
    """How far the place is from the centre, in brackets after the address.

    >>> distance_after("xã Tân Mai")[:27], distance_after("Tan Mai commune").endswith("km from the centre)")
    ('xã Tân Mai (cách trung tâm ', True)
    """
    km = _rng(text, "km").randrange(2, 20)
    return text + (f" (about {km} km from the centre)" if _unmarked(text) else f" (cách trung tâm {km} km)")


def house_number_in_front(text: str) -> str:
    """A house number before the address ("Số 12, ", "No. 12, ").

    >>> house_number_in_front("xã Tân Mai")[:3], house_number_in_front("Tan Mai")[:4]
    ('Số ', 'No. ')
    """
    number = _rng(text, "house").randrange(1, 300)
    return (f"No. {number}, " if _unmarked(text) else f"Số {number}, ") + text


_LONG_UNIT_WORD_RE: Final = re.compile(
    r"(?<![^\W\d_])(?:commune|district|province|hamlet|village|township|huyện|phường)(?![^\W\d_])",
    re.IGNORECASE,
)


def unit_word_slip(text: str) -> str:
    """One slip in a long unit word (commune, district, village, huyện, phường...), as "Mit villafe" has.

    >>> unit_word_slip("Lac village") != "Lac village", unit_word_slip("Lac village").startswith("Lac v")
    (True, True)
    >>> unit_word_slip("xóm Lác")
    'xóm Lác'
    """
    text = _nfc(text)
    words = list(_LONG_UNIT_WORD_RE.finditer(text))
    if not words:
        return text
    rng = _rng(text, "unit slip")
    chosen = rng.choice(words)
    return text[: chosen.start()] + _slip(chosen.group(), rng) + text[chosen.end() :]


_TONES: Final = "\u0300\u0301\u0309\u0303\u0323"


def wrong_tone(text: str) -> str:
    """One tone mark replaced by another or left out (the mark and the replacement drawn by the text).

    >>> wrong_tone("Tan Mai"), wrong_tone("Hạ") in {"Ha", "Hà", "Há", "Hả", "Hã"}
    ('Tan Mai', True)
    """
    decomposed = unicodedata.normalize("NFD", _nfc(text))
    marks = [i for i, char in enumerate(decomposed) if char in _TONES]
    if not marks:
        return _nfc(text)
    rng = _rng(text, "tone")
    at = rng.choice(marks)
    other = rng.choice([*(tone for tone in _TONES if tone != decomposed[at]), ""])
    return _nfc(decomposed[:at] + other + decomposed[at + 1 :])


# --- more writings of issue 10 (second round): how writers also join, shorten and pad -------------

_ENGLISH_UNIT_AFTER_RE: Final = re.compile(
    r"(?<![^\W\d_])((?:[^\W\d_][^\W_]*|\d+)(?:\s+(?:[^\W\d_][^\W_]*|\d+))*?)\s+"
    r"(commune|hamlet|village|district|ward|township|town|province|city)(?![^\W\d_'\u2019])",
)
_NAME_WORD_RE: Final = re.compile(r"[A-Z\u00c0-\u1ef8][^\W_]*|\d+")
_POSSESSIVE_RE: Final = re.compile(r"['\u2019]s(?![^\W_])")
ENGLISH_UNIT_WORDS: Final = frozenset(w for term in ENGLISH_TERMS for w in term.word.split())


def english_word_first(text: str) -> str:
    """The English unit word written before the name, as some English pages do ("Commune Tay Phong").

    Only names written with capitals are turned ("the road to" stays lower case), and no text with a
    possessive ("Lac Son district's ..."), which English writes only after the name:

    >>> english_word_first("Lac hamlet, Chieng Chau commune, Mai Chau district")
    'Hamlet Lac, Commune Chieng Chau, District Mai Chau'
    >>> english_word_first("xóm Lác, xã Chiềng Châu")
    'xóm Lác, xã Chiềng Châu'
    """

    def turn(match: re.Match[str]) -> str:
        words = match.group(1).split()
        name: list[str] = []
        for word in reversed(words):
            if _NAME_WORD_RE.fullmatch(word) is None or _folded(word) in ENGLISH_UNIT_WORDS:
                break
            name.insert(0, word)
        if not name:
            return match.group()
        before = " ".join(words[: len(words) - len(name)])
        turned = f"{match.group(2).capitalize()} {' '.join(name)}"
        return f"{before} {turned}" if before else turned

    if _POSSESSIVE_RE.search(text):
        return text
    return _ENGLISH_UNIT_AFTER_RE.sub(turn, text)


_PART_BEFORE_UNIT_RE: Final = re.compile(
    r"\s*,\s*(?=(?:xã|phường|thị trấn|huyện|thành phố|tỉnh)\s)", re.IGNORECASE
)
_PART_BEFORE_ENGLISH_UNIT_RE: Final = re.compile(
    r"\s*,\s*(?=[^,]*?\s(?:commune|ward|township|district|province)(?![^\W\d_]))", re.IGNORECASE
)


def joined_by_thuoc(text: str) -> str:
    """The first comma before a unit word written "thuộc" ("belonging to"; "of" in English).

    >>> joined_by_thuoc("xóm Bưng, xã Ngòi Hoa, huyện Tân Lạc")
    'xóm Bưng thuộc xã Ngòi Hoa, huyện Tân Lạc'
    >>> joined_by_thuoc("Lac hamlet, Chieng Chau commune, Mai Chau district")
    'Lac hamlet of Chieng Chau commune, Mai Chau district'
    """
    text = _nfc(text)
    if _unmarked(text):
        return _PART_BEFORE_ENGLISH_UNIT_RE.sub(" of ", text, count=1)
    return _PART_BEFORE_UNIT_RE.sub(" thuộc ", text, count=1)


PREPOSITIONS: Final = ("tại ", "ở ", "Tại: ")
"""Words before a Vietnamese address saying where ("at", "in"); "in " in English."""


def preposition_in_front(text: str) -> str:
    """ "tại", "ở" ("at", "in") before the address, as running text writes it ("in" in English).

    >>> preposition_in_front("xã Tân Mai") in {word + "xã Tân Mai" for word in PREPOSITIONS}
    True
    >>> preposition_in_front("Tan Mai commune")
    'in Tan Mai commune'
    """
    if _unmarked(text):
        return "in " + text
    return _rng(text, "preposition").choice(PREPOSITIONS) + text


def no_space_after_commas(text: str) -> str:
    """No space after the commas (nor before them), as typed in forms.

    >>> no_space_after_commas("xóm Lác, xã Chiềng Châu ,Mai Châu")
    'xóm Lác,xã Chiềng Châu,Mai Châu'
    """
    return _COMMA_RE.sub(",", text)


def extra_spaces(text: str) -> str:
    """Two spaces between the words, a space before each comma, spaces at both ends.

    >>> extra_spaces("xóm Lác, xã Chiềng Châu")
    ' xóm  Lác ,  xã  Chiềng  Châu '
    """
    return " " + " ,  ".join("  ".join(part.split()) for part in _COMMA_RE.split(text)) + " "


_CITY_RE: Final = re.compile(r"(?<![a-z])(?P<word>thanh pho|tp\.?)\s*(?=hoa binh(?![a-z]))")
_HOA_BINH_RE: Final = re.compile(
    r"(?<![a-z])(?:thanh pho|tp\.?|tinh|t\.)\s*(?P<labelled>hoa binh)(?![a-z])"
    r"|(?<![a-z])(?P<english>hoa binh)(?=\s+(?:province|city)(?![a-z]))"
    r"|(?:[,(\u2013-]\s*|(?<=\sof\s))(?P<alone>hoa binh)(?=\s*\)?\s*$)"
)


def city_short(text: str) -> str:
    """ "thành phố" before Hòa Bình written "Tp." (the city's short form on letterheads and signs).

    >>> city_short("tổ 6, phường Thái Bình, thành phố Hòa Bình"), city_short("TP Hòa Bình")
    ('tổ 6, phường Thái Bình, Tp. Hòa Bình', 'Tp. Hòa Bình')
    """
    text = _nfc(text)
    for match in reversed(list(_CITY_RE.finditer(_folded(text)))):
        text = text[: match.start()] + "Tp. " + text[match.end() :]
    return text


def hoa_binh_short(text: str) -> str:
    """Hòa Bình, as the province or the city, written "HB" ("tỉnh HB", "TP HB", "Hoa Binh city" -> "HB city").

    >>> hoa_binh_short("xã Tân Mai, huyện Mai Châu, tỉnh Hòa Bình")
    'xã Tân Mai, huyện Mai Châu, tỉnh HB'
    >>> hoa_binh_short("phường Tân Hòa (TP Hòa Bình)"), hoa_binh_short("Lac Son district of Hoa Binh")
    ('phường Tân Hòa (TP HB)', 'Lac Son district of HB')
    """
    text = _nfc(text)
    for match in reversed(list(_HOA_BINH_RE.finditer(_folded(text)))):
        start, end = match.span(match.lastgroup or 0)
        text = text[:start] + "HB" + text[end:]
    return text


COUNTRY_FORMS: Final = (", VN", " - Việt Nam", ", Viet Nam", ", Việt Nam.")
"""How the country is written after a Vietnamese address besides ", Việt Nam"."""


def country_short(text: str) -> str:
    """The country after the address written otherwise: ", VN", " - Việt Nam", ", Viet Nam" (one by the text).

    >>> country_short("xã Tân Mai") in {"xã Tân Mai" + form for form in COUNTRY_FORMS}
    True
    """
    return text + _rng(text, "country").choice(COUNTRY_FORMS)


_ANY_PROVINCE_RE: Final = re.compile(r"(?<![a-z])(?:hoa binh|phu tho|tinh|province)(?![a-z])")


def new_province_appended(text: str) -> str:
    """ ", tỉnh Phú Thọ" (", Phu Tho province") appended to a text naming no province: since 1 July 2025
    writers add the new province and keep the old district.

    >>> new_province_appended("xóm Bưng, xã Ngòi Hoa, huyện Tân Lạc")
    'xóm Bưng, xã Ngòi Hoa, huyện Tân Lạc, tỉnh Phú Thọ'
    >>> new_province_appended("Rai hamlet (Lac Son district)")
    'Rai hamlet (Lac Son district), Phu Tho province'
    >>> new_province_appended("xã Cao Sơn, tỉnh Hòa Bình")
    'xã Cao Sơn, tỉnh Hòa Bình'
    """
    if _ANY_PROVINCE_RE.search(_folded(text)):
        return text
    return text + (", Phu Tho province" if _unmarked(text) else ", tỉnh Phú Thọ")


CAPTIONS: Final = (" (Ảnh: TL)", " (ảnh: Minh Anh)", ". Ảnh: Thu Trang", " (Ảnh minh họa)")
"""Photo captions a copied address carries after it ("(Photo: ...)" in English); the names are made up."""
CAPTIONS_ENGLISH: Final = (" (Photo: Minh Anh)", ". Photo: VNA", " (Illustrative photo)")


def caption_after(text: str) -> str:
    """A photo caption left after the address copied from a news page (chosen by the text).

    >>> caption_after("xã Tân Mai") in {"xã Tân Mai" + caption for caption in CAPTIONS}
    True
    >>> caption_after("Tan Mai commune") in {"Tan Mai commune" + caption for caption in CAPTIONS_ENGLISH}
    True
    """
    return text + _rng(text, "caption").choice(CAPTIONS_ENGLISH if _unmarked(text) else CAPTIONS)


def title_case(text: str) -> str:
    """Each word capitalised, the unit words too ("Xóm Lác, Xã Chiềng Châu, Huyện Mai Châu").

    >>> title_case("xóm Lác, xã Chiềng Châu (huyện Mai Châu)")
    'Xóm Lác, Xã Chiềng Châu (Huyện Mai Châu)'
    """
    return _WORD_RE.sub(lambda m: m.group()[0].upper() + m.group()[1:].lower(), _nfc(text))


def typed_fast(text: str) -> str:
    """No marks, lower case, no commas: an address typed quickly on a phone.

    >>> typed_fast("Xóm Lác, xã Chiềng Châu (Mai Châu)")
    'xom lac xa chieng chau (mai chau)'
    """
    return drop_commas(strip_marks(text).lower())


POSTCODE: Final = "36000"
"""The postcode of Hòa Bình province (the five-digit codes of 2018)."""


def postcode_after(text: str) -> str:
    """The province's postcode after the address (", 36000").

    >>> postcode_after("xã Tân Mai, tỉnh Hòa Bình")
    'xã Tân Mai, tỉnh Hòa Bình, 36000'
    """
    return f"{text}, {POSTCODE}"


def tight_dashes(text: str) -> str:
    """A dash without spaces where the text has a comma ("xóm Lác-xã Chiềng Châu").

    >>> tight_dashes("xóm Lác, xã Chiềng Châu")
    'xóm Lác-xã Chiềng Châu'
    """
    return _COMMA_RE.sub("-", text)


_FIRST_COMMUNE_RE: Final = re.compile(
    r"(?<![^\W\d_])(?:xã|phường|thị trấn)\s+[^,;()\-\u2013.]+?(?=\s*(?:[,;()\-\u2013.]|$))", re.IGNORECASE
)


def old_unit_marked(text: str) -> str:
    """The commune named followed by "(cũ)" ("former"), as writers mark the units abolished in 2025.

    >>> old_unit_marked("xóm Lác, xã Chiềng Châu, huyện Mai Châu")
    'xóm Lác, xã Chiềng Châu (cũ), huyện Mai Châu'
    >>> old_unit_marked("Lac hamlet")
    'Lac hamlet'
    """
    return _FIRST_COMMUNE_RE.sub(lambda m: m.group() + " (cũ)", _nfc(text), count=1)


_MUONG_WORDS: Final = (("thị trấn", "thi\u032d tlẩn"), ("xóm", "xỏm"), ("xã", "xa\u032d"))
_MUONG_WORD_RE: Final = re.compile(
    r"(?<![^\W\d_])(" + "|".join(word for word, _ in _MUONG_WORDS) + r")(?![^\W\d_])", re.IGNORECASE
)


def muong_unit_words(text: str) -> str:
    """The unit words as the Mường-language edition spells them: xóm -> xỏm, xã -> xa̭, thị trấn -> thi̭ tlẩn.

    >>> muong_unit_words("xóm Lác, Xã Chiềng Châu") == "xỏm Lác, Xa\u032d Chiềng Châu"
    True
    """

    def muong(match: re.Match[str]) -> str:
        word = dict(_MUONG_WORDS)[match.group(1).lower()]
        return word[0].upper() + word[1:] if match.group(1)[0].isupper() else word

    return _MUONG_WORD_RE.sub(muong, _nfc(text))


_TELEX_TONES: Final = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
"""The Telex keys of the tone marks (acute s, grave f, hook r, tilde x, dot below j)."""


def telex_slip(text: str) -> str:
    """One name word's tone left as its Telex key after the word, as when the input method drops
    the mark ("Trần Hưng Đạo" typed "Trần Hưng Đaoj"; the word chosen by the text).

    >>> telex_slip("xã Mai Hạ")
    'xã Mai Haj'
    >>> telex_slip("Tan Mai commune")
    'Tan Mai commune'
    """
    text = _nfc(text)
    toned = [
        m
        for m in _WORD_RE.finditer(text)
        if m.group()[0].isupper()
        and _folded(m.group()) not in _NOT_NAMES
        and any(c in _TELEX_TONES for c in unicodedata.normalize("NFD", m.group()))
    ]
    if not toned:
        return text
    chosen = _rng(text, "telex").choice(toned)
    decomposed = unicodedata.normalize("NFD", chosen.group())
    tone = next(c for c in decomposed if c in _TELEX_TONES)
    word = _nfc(decomposed.replace(tone, "", 1)) + _TELEX_TONES[tone]
    return text[: chosen.start()] + word + text[chosen.end() :]


def line_breaks(text: str) -> str:
    r"""A line break where the text has a comma, as an address copied from a letterhead or a form.

    >>> line_breaks("xóm Lác, xã Chiềng Châu")
    'xóm Lác\nxã Chiềng Châu'
    """
    return _COMMA_RE.sub("\n", text)


def web_spaces(text: str) -> str:
    r"""Spaces as text copied from a web page has them: no-break spaces between words, a zero-width
    space after each comma.

    >>> web_spaces("xóm Lác, xã Mai") == "xóm\u00a0Lác,\u200b\u00a0xã\u00a0Mai"
    True
    """
    return text.replace(" ", "\u00a0").replace(",", ",\u200b")


BULLETS: Final = ("- ", "• ", "+ ", "* ", "1. ")
"""What a list in a page or a message writes before an address."""


def bullet_in_front(text: str) -> str:
    """A list bullet before the address, a full stop after it (the bullet chosen by the text).

    >>> bullet_in_front("xã Tân Mai") in {bullet + "xã Tân Mai." for bullet in BULLETS}
    True
    """
    return _rng(text, "bullet").choice(BULLETS) + text + "."


_NAME_PAIR_RE: Final = re.compile(
    r"(?<![^\W\d_])([A-ZĐ\u00c0-\u1ef8][^\W\d_]*) (?=[A-ZĐ\u00c0-\u1ef8][^\W\d_]*)"
)


def hyphenated_names(text: str) -> str:
    """The syllables of each name joined by hyphens, as older texts write them ("Mai-Châu", "Hoa-Binh").

    >>> hyphenated_names("xóm Lác, xã Chiềng Châu, Hoa Binh province")
    'xóm Lác, xã Chiềng-Châu, Hoa-Binh province'
    """

    def join(match: re.Match[str]) -> str:
        return match.group(1) + ("-" if _folded(match.group(1)) not in _NOT_NAMES else " ")

    return _NAME_PAIR_RE.sub(join, _nfc(text))


def d_for_dj(text: str) -> str:
    """Đ written D, the other marks kept (a keyboard without đ: "Dà Bắc").

    >>> d_for_dj("xã Đồng Bảng, huyện Đà Bắc")
    'xã Dồng Bảng, huyện Dà Bắc'
    """
    return text.replace("đ", "d").replace("Đ", "D")


def abbreviated_without_marks(text: str) -> str:
    """The unit words short and no marks ("x. Chieng Chau, H. Mai Chau").

    >>> abbreviated_without_marks("xã Chiềng Châu, huyện Mai Châu")
    'X.Chieng Chau, H.Mai Chau'
    """
    return strip_marks(abbreviate(text))


def no_marks_no_district(text: str) -> str:
    """No marks and no district: the 2025 writing typed without marks.

    >>> no_marks_no_district("xã Chiềng Châu, huyện Mai Châu, tỉnh Phú Thọ")
    'xa Chieng Chau, tinh Phu Tho'
    """
    return strip_marks(new_province_without_district(text))


def utf8_read_as_cp1252(text: str) -> str:
    """The UTF-8 bytes of the text read as Windows-1252, as a page with a wrong charset shows it
    ("Hòa Bình" -> "HÃ²a BÃ¬nh"); bytes that code has no character for are read as Latin-1.

    >>> utf8_read_as_cp1252("Hòa Bình")
    'HÃ²a BÃ¬nh'
    """
    raw = text.encode("utf-8")
    return "".join(
        bytes([byte]).decode("cp1252", errors="strict") if byte not in _CP1252_HOLES else chr(byte)
        for byte in raw
    )


_CP1252_HOLES: Final = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})


def html_entities(text: str) -> str:
    """The marked letters and the spaces written as HTML entities, as scraped page text may keep them
    ("Hòa Bình" -> "H&ograve;a B&igrave;nh"; named entities where HTML has them, else numbered).

    >>> html_entities("xã Hòa Bình")
    'x&atilde;&nbsp;H&ograve;a&nbsp;B&igrave;nh'
    """
    names = {chr(code): name for code, name in html.entities.codepoint2name.items()}
    out = []
    for char in _nfc(text):
        if char == " ":
            out.append("&nbsp;")
        elif char.isascii():
            out.append(char)
        else:
            out.append(f"&{names[char]};" if char in names else f"&#{ord(char)};")
    return "".join(out)


_FIRST_XA_RE: Final = re.compile(r"(?<![^\W\d_])(xã|phường|thị trấn)(?=\s)", re.IGNORECASE)


def peoples_committee(text: str) -> str:
    """ "UBND" (the People's Committee) before the commune named, as government sites write the
    commune's office ("UBND xã Chiềng Châu, huyện Mai Châu").

    >>> peoples_committee("xóm Lác, xã Chiềng Châu"), peoples_committee("Lac hamlet")
    ('xóm Lác, UBND xã Chiềng Châu', 'Lac hamlet')
    """
    return _FIRST_XA_RE.sub(lambda m: "UBND " + m.group(1), _nfc(text), count=1)


SENTENCES: Final = (
    "Sáng 12/3, tại {}, đã diễn ra lễ khánh thành cầu treo.",
    "Ngày 5/7/2025, đoàn công tác đã đến thăm {} và trao 50 suất quà.",
    "Năm 2024, {} có 120 hộ thoát nghèo.",
)
"""News sentences an address is read out of (the numbers and the words made up)."""
SENTENCES_ENGLISH: Final = (
    "On March 12, a suspension bridge was inaugurated in {}.",
    "In 2024, 120 households in {} escaped poverty.",
)


def in_a_sentence(text: str) -> str:
    """The address inside a news sentence, with a date and other words around it (chosen by the text).

    >>> in_a_sentence("xã Tân Mai") in {sentence.format("xã Tân Mai") for sentence in SENTENCES}
    True
    """
    return _rng(text, "sentence").choice(SENTENCES_ENGLISH if _unmarked(text) else SENTENCES).format(text)


FEATURES: Final = (
    "thác nước ",
    "ruộng bậc thang ",
    "điểm trường ",
    "cầu treo ",
    "nhà văn hóa ",
    "khu du lịch sinh thái ",
    "chợ phiên ",
)
"""A feature named before the place it is at, as news and tourism pages write ("ruộng bậc thang xã ...")."""
FEATURES_ENGLISH: Final = (
    "the waterfall of ",
    "terraced fields in ",
    "the suspension bridge in ",
    "a homestay in ",
)


def feature_in_front(text: str) -> str:
    """A feature (waterfall, terraced fields, school site, bridge, hall...) named before the address.

    >>> feature_in_front("xã Tân Mai") in {feature + "xã Tân Mai" for feature in FEATURES}
    True
    """
    return _rng(text, "feature").choice(FEATURES_ENGLISH if _unmarked(text) else FEATURES) + text


_GLUE_RE: Final = re.compile(
    r"(?<![^\W\d_])(xã|huyện|tỉnh|phường|thị trấn|thành phố|xóm|thôn|bản|làng|tổ)\s+(?=[^\W\d_])",
    re.IGNORECASE,
)


def unit_word_glued(text: str) -> str:
    """No space between a unit word and the name (with its capital) after it, as typed fast or
    extracted from a PDF ("xãTân Mai", "huyệnMai Châu"; "tỉnh lộ" stays).

    >>> unit_word_glued("xóm Lác, xã Chiềng Châu, huyện Mai Châu, tỉnh lộ 6")
    'xómLác, xãChiềng Châu, huyệnMai Châu, tỉnh lộ 6'
    """

    def glue(match: re.Match[str]) -> str:
        return match.group(1) if match.string[match.end()].isupper() else match.group()

    return _GLUE_RE.sub(glue, _nfc(text))


_CAMEL_RE: Final = re.compile(r"(?<=[^\W\d_])\s+(?=[A-ZĐ\u00c0-\u00de\u0100-\u01b0\u1ea0-\u1ef8])")


def names_run_together(text: str) -> str:
    """The syllables of each name written together, each with its capital, as in tags and web addresses
    ("Mai Châu" -> "MaiChâu"; the unit words keep their space).

    >>> names_run_together("xóm Lác, xã Chiềng Châu, Mai Chau district")
    'xóm Lác, xã ChiềngChâu, MaiChau district'
    """

    def join(match: re.Match[str]) -> str:
        before = match.string[: match.start()].split()[-1]
        return match.group() if _folded(before) in _NOT_NAMES or not before[0].isupper() else ""

    return _CAMEL_RE.sub(join, _nfc(text))


def upper_case_without_marks(text: str) -> str:
    """Upper case and no marks ("XA TAN MAI, HUYEN MAI CHAU"), as old systems print addresses.

    >>> upper_case_without_marks("xã Tân Mai, huyện Mai Châu")
    'XA TAN MAI, HUYEN MAI CHAU'
    """
    return strip_marks(text).upper()


_COMMUNE_WORD_EN_RE: Final = re.compile(r"(?<![^\W\d_])(commune|township)(?![^\W\d_])", re.IGNORECASE)


def commune_called_village(text: str) -> str:
    """An English commune or township called a village, as travel pages call Pà Cò or Hang Kia.

    >>> commune_called_village("Lac hamlet, Chieng Chau Commune, Mai Chau district")
    'Lac hamlet, Chieng Chau Village, Mai Chau district'
    """
    return _COMMUNE_WORD_EN_RE.sub(lambda m: "Village" if m.group()[0].isupper() else "village", text)


@functools.cache
def _successors() -> dict[str, str]:
    """Each pre-2025 commune name (folded, with its type word) of one unit and one 2025 successor, and
    the successor's full name ("xa chieng chau" -> "Xã Mai Hạ"; from reorg_2025_old_to_new.json)."""
    old_to_new = json.loads((devset.DATA / "reorg_2025_old_to_new.json").read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for unit in old_to_new["level3s"]:
        names = [split["name"] for split in unit["splits"]]
        found.setdefault(_folded(_nfc(unit["name"])), []).append(names[0] if len(names) == 1 else "")
    return {old: new[0] for old, new in found.items() if len(new) == 1 and new[0]}


_OLD_COMMUNE_RE: Final = re.compile(
    r"(?<![^\W\d_])(?<![Tt]hị )(?:xã|phường|thị trấn)\s+[^\W\d_]+(?:\s+[^\W\d_]+){0,2}?"
    r"(?=\s*(?:[,;()\-\u2013.]|$))",
    re.IGNORECASE,
)


def new_commune_written(text: str) -> str:
    """The 2025 writing with its new names: each pre-2025 commune of one successor written as that
    successor, the district left out, the province Phú Thọ ("xóm Lác, xã Chiềng Châu, huyện Mai Châu,
    tỉnh Hòa Bình" -> "xóm Lác, xã Mai Hạ, tỉnh Phú Thọ"); Vietnamese text with marks only.

    >>> new_commune_written("xóm Lác, xã Chiềng Châu, huyện Mai Châu, tỉnh Hòa Bình")
    'xóm Lác, xã Mai Hạ, tỉnh Phú Thọ'
    >>> new_commune_written("Lac hamlet, Chieng Chau commune")
    'Lac hamlet, Chieng Chau commune'
    """
    if _unmarked(text):
        return text
    successors = _successors()

    def successor(match: re.Match[str]) -> str:
        new = successors.get(_folded(match.group()))
        if new is None:
            return match.group()
        return new[0].lower() + new[1:] if match.group()[0].islower() else new

    return new_province_without_district(_OLD_COMMUNE_RE.sub(successor, _nfc(text)))


_DIPHTHONG_RE: Final = re.compile(r"(?i)(ư)(ơ)|(i)(ê)|(u)(ô)|(y)(ê)")


def tone_on_first_vowel(text: str) -> str:
    """The tone of ươ, iê, uô, yê typed on their first vowel ("Mường" -> "Mừơng", "Chiềng" -> "Chìêng"),
    as some typists place it.

    >>> tone_on_first_vowel("xã Chiềng Châu, Mường Chiềng, Luông")
    'xã Chìêng Châu, Mừơng Chìêng, Luông'
    """
    out = []
    for word in re.split(r"(\W+)", _nfc(text)):
        decomposed = unicodedata.normalize("NFD", word)
        tones = [c for c in decomposed if c in _TONES]
        bare = _nfc("".join(c for c in decomposed if c not in _TONES))
        match = _DIPHTHONG_RE.search(bare)
        if len(tones) != 1 or match is None:
            out.append(word)
            continue
        at = match.start()
        out.append(_nfc(bare[: at + 1] + tones[0] + bare[at + 1 :]))
    return "".join(out)


_TYPE_WORDS: Final = {"xã": "phường", "phường": "xã", "thị trấn": "xã"}
_TYPE_WORD_RE: Final = re.compile(r"(?<![^\W\d_])(?<![Tt]hị )(xã|phường|thị trấn)(?=\s)", re.IGNORECASE)


def other_type_word(text: str) -> str:
    """The commune's type word another one (xã <-> phường, thị trấn -> xã), as writers get it wrong
    or keep the type a unit had before it was reclassified.

    >>> other_type_word("tổ 1, phường Tân Hòa, thị xã Hòa Bình, Thị trấn Bo")
    'tổ 1, xã Tân Hòa, thị xã Hòa Bình, Xã Bo'
    """

    def other(match: re.Match[str]) -> str:
        word = _TYPE_WORDS[match.group(1).lower()]
        return word.capitalize() if match.group(1)[0].isupper() else word

    return _TYPE_WORD_RE.sub(other, _nfc(text))


PEOPLE_SURNAMES: Final = ("Bùi", "Đinh", "Quách", "Hà", "Nguyễn", "Xa", "Trần", "Lò")
PEOPLE_GIVEN: Final = (
    "Hòa", "Bình", "Thanh", "Tân", "Lương", "Sơn", "Phong", "Thịnh", "Hưng", "Thủy", "Vân", "Yên", "Lâm",
    "Lạc", "Châu", "Hợp", "Tiến", "Nghĩa",
)  # fmt: skip
"""Made-up people: Mường, Thái and Kinh surnames, given names that are words of place names."""
PEOPLE_TITLES: Final = {"ông": "Văn", "bà": "Thị", "anh": "Văn", "chị": "Thị", "em": "Văn", "cụ": "Văn"}
"""Titles news text writes before a name, with the middle name of a man or a woman."""
PEOPLE_SENTENCES: Final = (
    "gia đình {title} {name} ở {address}",
    "{Title} {name}, {address}, cho biết",
    "{Title} {name} (trú tại {address})",
    "hộ gia đình {title} {name} tại {address}",
    "{Title} {name}, trưởng xóm, {address}",
    "{address}, {title} {name} cho biết",
    "Theo {title} {name}, {address}",
    "{Title} {name} - {address}",
)
PEOPLE_SENTENCES_ENGLISH: Final = (
    "Mr. {name} of {address}",
    "Ms {name}, a resident of {address}",
    "the family of Mr. {name} in {address}",
)


def a_person_named(text: str) -> str:
    """The address in news text about a person whose given name is a word of place names ("gia đình ông
    Bùi Văn Hòa ở xóm Lác..."; "Mr. Bui Van Hoa of Lac hamlet" in English); the person and the sentence
    chosen by the text, the names made up.

    >>> a_person_named("xóm Lác, xã Chiềng Châu").count("xóm Lác, xã Chiềng Châu")
    1
    >>> a_person_named("Lac hamlet").startswith(("Mr. ", "Ms ", "the family"))
    True
    """
    rng = _rng(text, "person")
    title = rng.choice(list(PEOPLE_TITLES))
    name = f"{rng.choice(PEOPLE_SURNAMES)} {PEOPLE_TITLES[title]} {rng.choice(PEOPLE_GIVEN)}"
    if _unmarked(text):
        return rng.choice(PEOPLE_SENTENCES_ENGLISH).format(name=strip_marks(name), address=text)
    sentence = rng.choice(PEOPLE_SENTENCES)
    return sentence.format(title=title, Title=title.capitalize(), name=name, address=text)


def web_slug(text: str) -> str:
    """The address as a web address or a file name writes it: no marks, lower case, words joined by "-"
    (or "_", chosen by the text).

    >>> web_slug("xóm Lác, xã Chiềng Châu (Mai Châu)") in {"xom-lac-xa-chieng-chau-mai-chau",
    ...     "xom_lac_xa_chieng_chau_mai_chau"}
    True
    """
    joiner = _rng(text, "slug").choice("-_")
    return re.sub(r"[^a-z0-9]+", joiner, strip_marks(_nfc(text)).lower()).strip(joiner)


UNIT_DESCRIPTIONS: Final = ("vùng cao", "miền núi", "đặc biệt khó khăn", "vùng sâu, vùng xa", "nông thôn mới")
"""What news text writes between a unit word and the unit's name ("xã vùng cao Pà Cò")."""


def unit_described(text: str) -> str:
    """Words describing the first commune or district between its unit word and its name, as news text
    writes ("xã vùng cao Pà Cò", "huyện miền núi Lạc Sơn"; chosen by the text); Vietnamese only.

    >>> written = unit_described("xóm Lác, xã Chiềng Châu")
    >>> written in {f"xóm Lác, xã {d} Chiềng Châu" for d in UNIT_DESCRIPTIONS}
    True
    """
    words = _rng(text, "described").choice(UNIT_DESCRIPTIONS)
    return _DESCRIBED_RE.sub(lambda m: f"{m.group(1)} {words}", _nfc(text), count=1)


_DESCRIBED_RE: Final = re.compile(
    r"(?<![^\W\d_])(?<![Tt]hị )(xã|thị trấn|huyện)(?=\s+[^\W\d_])", re.IGNORECASE
)


def now_named(text: str) -> str:
    """The 2025 successor of the first pre-2025 commune written after it in brackets, as news text names
    both ("xã Chiềng Châu (nay là xã Mai Hạ)"); Vietnamese text with marks naming such a commune only.

    >>> now_named("xóm Lác, xã Chiềng Châu, huyện Mai Châu")
    'xóm Lác, xã Chiềng Châu (nay là xã Mai Hạ), huyện Mai Châu'
    """
    if _unmarked(text):
        return text
    successors = _successors()

    def both(match: re.Match[str]) -> str:
        new = successors.get(_folded(match.group()))
        if new is None or _folded(new) == _folded(match.group()):
            return match.group()
        return f"{match.group()} (nay là {new[0].lower() + new[1:]})"

    return _OLD_COMMUNE_RE.sub(both, _nfc(text), count=1)


# --- more writings of issue 10 (sixth round): old and new units, other places, listings, links ----------

OLD_AND_NEW: Final = (
    "{old} (cũ), nay là {new}",
    "{old} cũ (nay thuộc {new})",
    "{old} (đã sáp nhập vào {new})",
    "{new} mới (trước đây là {old})",
    "{new} (trước đây là {old})",
)
"""How 2025-26 text names a pre-2025 commune and its successor together (the form chosen by the text)."""
OLD_AND_NEW_ENGLISH: Final = (
    "{old} commune (now part of {new} commune)",
    "the former {old} commune, now {new} commune",
    "{new} commune (formerly {old} commune)",
)
_OLD_COMMUNE_EN_RE: Final = re.compile(
    r"(?<![^\W\d_])((?:[A-Z][a-z]+ ){1,3}?)(?:commune|Commune)(?![^\W\d_])"
)


def old_and_new(text: str) -> str:
    """The first pre-2025 commune named with its 2025 successor, as 2025-26 text writes both ("xã Chiềng
    Châu (cũ), nay là xã Mai Hạ", "xã Mai Hạ (trước đây là xã Chiềng Châu)", "Chieng Chau commune (now
    part of Mai Ha commune)"; the form chosen by the text).

    >>> old_and_new("xóm Lác, xã Chiềng Châu, huyện Mai Châu") in {
    ...     "xóm Lác, " + form.format(old="xã Chiềng Châu", new="xã Mai Hạ") + ", huyện Mai Châu"
    ...     for form in OLD_AND_NEW}
    True
    >>> old_and_new("Lac hamlet, Chieng Chau commune") in {
    ...     "Lac hamlet, " + form.format(old="Chieng Chau", new="Mai Ha") for form in OLD_AND_NEW_ENGLISH}
    True
    """
    text = _nfc(text)
    successors = _successors()
    rng = _rng(text, "old and new")
    if _unmarked(text):
        english = rng.choice(OLD_AND_NEW_ENGLISH)

        def both_english(match: re.Match[str]) -> str:
            old = match.group(1).strip()
            new = successors.get("xa " + old.lower())
            if new is None or _folded(new) == "xa " + old.lower():
                return match.group()
            return english.format(old=old, new=strip_marks(new.split(" ", 1)[1]))

        return _OLD_COMMUNE_EN_RE.sub(both_english, text, count=1)
    form = rng.choice(OLD_AND_NEW)

    def both(match: re.Match[str]) -> str:
        new = successors.get(_folded(match.group()))
        if new is None or _folded(new) == _folded(match.group()):
            return match.group()
        return form.format(old=match.group(), new=new[0].lower() + new[1:])

    return _OLD_COMMUNE_RE.sub(both, text, count=1)


_REFERENCE_DISTRICTS: Final = (
    "Đà Bắc", "Lương Sơn", "Kim Bôi", "Cao Phong", "Tân Lạc", "Mai Châu", "Lạc Sơn", "Yên Thủy", "Lạc Thủy",
)  # fmt: skip
DIRECTIONS: Final = (
    ("bắc", "north"),
    ("nam", "south"),
    ("đông", "east"),
    ("tây", "west"),
    ("tây bắc", "northwest"),
)
FROM_ANOTHER_PLACE: Final = (
    "{text}, cách trung tâm huyện {district} khoảng {km} km",
    "{text} (cách thành phố Hòa Bình {km} km về phía {direction})",
    "Cách trung tâm huyện {district} {km} km về phía {direction}, {text}",
    "{text}, phía {direction} thành phố Hòa Bình",
)
"""How news and travel text place an address from another place (a district other than its own)."""
FROM_ANOTHER_PLACE_ENGLISH: Final = (
    "{text}, about {km} km from Hoa Binh city",
    "{text}, {km} km {direction} of {district} town",
    "About {km} km {direction} of {district} district, {text}",
)


def _other_district(text: str, rng: random.Random) -> str:
    """A district of :data:`_REFERENCE_DISTRICTS` the text does not name, drawn with ``rng``."""
    folded = _folded(_nfc(text))
    return rng.choice([d for d in _REFERENCE_DISTRICTS if _folded(d) not in folded])


def from_another_place(text: str) -> str:
    """How far, or which way, the place lies from another place: the city of Hòa Bình or the centre of a
    district the text does not name ("xã Tân Mai, cách trung tâm huyện Lạc Sơn khoảng 40 km", "Tan Mai
    commune, about 60 km from Hoa Binh city"; chosen by the text). The place of reference is not the answer.

    >>> from_another_place("xã Tân Mai, huyện Mai Châu").startswith(("xã Tân Mai", "Cách trung tâm huyện"))
    True
    >>> any(from_another_place(f"xã Tân Mai, huyện Mai Châu {n}").count("Mai Châu") > 1 for n in range(20))
    False
    """
    rng = _rng(text, "another place")
    district = _other_district(text, rng)
    km = rng.randrange(5, 80)
    vietnamese, english = rng.choice(DIRECTIONS)
    if _unmarked(text):
        return rng.choice(FROM_ANOTHER_PLACE_ENGLISH).format(
            text=text, km=km, direction=english, district=strip_marks(district)
        )
    return rng.choice(FROM_ANOTHER_PLACE).format(text=text, km=km, direction=vietnamese, district=district)


NEAR_ANOTHER_PLACE: Final = (
    "{text}, gần trung tâm huyện {district}",
    "{text} (giáp huyện {district})",
    "Gần thị trấn {district}, {text}",
)
"""How text places an address near or beside another place (a district other than its own)."""
NEAR_ANOTHER_PLACE_ENGLISH: Final = ("{text}, near {district} town", "{text}, next to {district} district")


def near_another_place(text: str) -> str:
    """Near or beside another place, a district the text does not name ("xã Tân Mai, gần trung tâm huyện Lạc
    Sơn", "Tan Mai commune, near Lac Son town"; chosen by the text). The place of reference is not the answer.

    >>> near_another_place("xã Tân Mai, huyện Mai Châu").count("Mai Châu")
    1
    """
    rng = _rng(text, "near")
    district = _other_district(text, rng)
    if _unmarked(text):
        return rng.choice(NEAR_ANOTHER_PLACE_ENGLISH).format(text=text, district=strip_marks(district))
    return rng.choice(NEAR_ANOTHER_PLACE).format(text=text, district=district)


@functools.cache
def _district_towns() -> dict[str, str]:
    """Each district (folded name) with the one thị trấn it had in March 2025, its seat (from the bundled GSO
    list; Lạc Thủy, with two, is left out): "tan lac" -> "Mãn Đức"."""
    units = json.loads(devset.GSO_UNITS.read_text(encoding="utf-8"))
    towns: dict[str, str] = {}
    for district in units["level2s"]:
        names = [unit["name"] for unit in district.get("level3s", []) if unit["type"] == "Thị trấn"]
        if len(names) == 1:
            towns[_folded(district["name"].split(" ", 1)[1])] = names[0].removeprefix("Thị trấn ")
    return towns


_LABELLED_DISTRICT_RE: Final = re.compile(
    r"(?<![^\W\d_])(?:huyện|H\.)\s*([^\W\d_]+(?:\s+[^\W\d_]+)?)(?=\s*(?:[,;()\-\u2013.]|$))"
    r"|(?<![^\W\d_])([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\s+[Dd]istrict(?![^\W\d_'\u2019])",
    re.IGNORECASE,
)


def district_by_its_town(text: str) -> str:
    """The district named by its town, the thị trấn at its seat, as the old form wrote it beside the commune
    ("xã Ngòi Hoa, TT. Mãn Đức" for huyện Tân Lạc; "Ngoi Hoa commune, Man Duc town").

    >>> district_by_its_town("xóm Bưng, xã Ngòi Hoa, huyện Tân Lạc")
    'xóm Bưng, xã Ngòi Hoa, TT. Mãn Đức'
    >>> district_by_its_town("Lac hamlet, Chieng Chau commune, Kim Boi district")
    'Lac hamlet, Chieng Chau commune, Bo town'
    """
    towns = _district_towns()

    def town(match: re.Match[str]) -> str:
        name = towns.get(_folded(match.group(1) or match.group(2)))
        if name is None:
            return match.group()
        return f"TT. {name}" if match.group(1) else f"{strip_marks(name)} town"

    return _LABELLED_DISTRICT_RE.sub(town, _nfc(text))


PLUS_CODE_DIGITS: Final = "23456789CFGHJMPQRVWX"
"""The 20 characters of Open Location Codes (Google Maps "plus codes")."""


def plus_code_in_front(text: str) -> str:
    """A short plus code before the address, as Google Maps writes a place without a street address
    ("8JQ5+2W xã Tân Mai"; its characters drawn by the text, so fake).

    >>> pattern = r"[2-9CFGHJMPQRVWX]{4}\\+[2-9CFGHJMPQRVWX]{2},? xã Tân Mai"
    >>> re.fullmatch(pattern, plus_code_in_front("xã Tân Mai")) is not None
    True
    """
    rng = _rng(text, "plus code")
    code = "".join(rng.choice(PLUS_CODE_DIGITS) for _ in range(4)) + "+"
    code += "".join(rng.choice(PLUS_CODE_DIGITS) for _ in range(2))
    return f"{code}{rng.choice((' ', ', '))}{text}"


OLD_POSTCODE: Final = "350000"
"""The six-digit postcode of Hòa Bình before 2018, which business listings still print."""


LISTING_SHORT_FORMS: Final = {
    "xã": "X.",
    "phường": "P.",
    "thị trấn": "TT.",
    "huyện": "H.",
    "thành phố": "TP.",
}
"""The unit words as business listings write them: short, a full stop and a space ("P. Phương Lâm")."""
_LISTING_WORD_RE: Final = re.compile(
    r"(?<![^\W\d_])(?<![Tt]hị )(thị trấn|thành phố|phường|huyện|xã)(?=\s+[^\W\d_])", re.IGNORECASE
)


def business_listing(text: str) -> str:
    """The layout of business listings and map pages: the unit words short with a full stop ("P. Phương
    Lâm, TP. Hòa Bình"), the province written as a part of its own with the old six-digit postcode and the
    country (", Hòa Bình 350000, Việt Nam"), the province word left out, so that "Hòa Bình" may stand for
    the city and then the province.

    >>> business_listing("tổ 6, phường Thái Bình, thành phố Hòa Bình, tỉnh Hòa Bình")
    'tổ 6, P. Thái Bình, TP. Hòa Bình, Hòa Bình 350000, Việt Nam'
    >>> business_listing("Lac hamlet (Mai Chau)")
    'Lac hamlet (Mai Chau), Hoa Binh 350000, Vietnam'
    """
    rest = _LISTING_WORD_RE.sub(lambda m: LISTING_SHORT_FORMS[m.group(1).lower()], drop_province(text))
    if _unmarked(text):
        return f"{rest}, Hoa Binh {OLD_POSTCODE}, Vietnam"
    return f"{rest}, Hòa Bình {OLD_POSTCODE}, Việt Nam"


_ENGLISH_PARTS_RE: Final = re.compile(
    r"^((?:[A-Z][a-z]+ ){0,3}[A-Z][a-z]+) (hamlet|village|Hamlet|Village),? "
    r"(?:(?:of|in) )?((?:[A-Z][a-z]+ ){0,3}[A-Z][a-z]+) (commune|Commune|township|Township)(?=,|$| \()"
)


def commune_possessive(text: str) -> str:
    """English news order: the commune first with a possessive, then its hamlet ("Chieng Chau commune's
    Lac hamlet"); English text that opens with a hamlet or village and its commune only.

    >>> commune_possessive("Lac hamlet, Chieng Chau commune, Mai Chau district")
    "Chieng Chau commune's Lac hamlet, Mai Chau district"
    >>> commune_possessive("Lac village of Chieng Chau commune (Mai Chau)")
    "Chieng Chau commune's Lac village (Mai Chau)"
    """
    if not _unmarked(text):
        return text
    return _ENGLISH_PARTS_RE.sub(lambda m: f"{m.group(3)} {m.group(4)}'s {m.group(1)} {m.group(2)}", text)


_DISTRICT_PART_END_RE: Final = re.compile(
    rf"(?P<district>(?:huyện|H\.)\s*(?:{'|'.join(_REFERENCE_DISTRICTS)})"
    rf"|(?:{'|'.join(strip_marks(d) for d in _REFERENCE_DISTRICTS)}) [Dd]istrict)"
)


def compass_point_in_the_district(text: str) -> str:
    """Where in its district the place lies, written before the district ("phía tây huyện Mai Châu", "in
    the west of Mai Chau district"; the compass point chosen by the text).

    >>> compass_point_in_the_district("xã Tân Mai, huyện Mai Châu").startswith("xã Tân Mai, phía ")
    True
    >>> compass_point_in_the_district("Tan Mai commune, Mai Chau district")[:24]
    'Tan Mai commune, in the '
    """
    vietnamese, english = _rng(text, "compass").choice(DIRECTIONS)

    def placed(match: re.Match[str]) -> str:
        if _unmarked(match.group()):
            return f"in the {english} of {match.group()}"
        return f"phía {vietnamese} {match.group()}"

    return _DISTRICT_PART_END_RE.sub(placed, _nfc(text), count=1)


LINK_FORMS: Final = (
    "📍 {text}",
    "“{text}”",
    '"{text}"',
    "{text} 🏞️🌾",
    "{text} https://maps.app.goo.gl/{token}",
    "📍{text} 👉 https://goo.gl/maps/{token}",
    "{text} (xem bản đồ: https://www.google.com/maps?q={lat},{lon})",
)
"""Quotes, emoji and map links around an address in messages and social posts."""


def quotes_emoji_links(text: str) -> str:
    """The address in quotes, with a pin or other emoji, or a map link after it (chosen by the text; the
    link's token and point drawn at random, so fake).

    >>> quotes_emoji_links("xã Tân Mai").count("xã Tân Mai")
    1
    """
    rng = _rng(text, "link")
    token = "".join(rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(17))
    lat, lon = f"20.{rng.randrange(10**6):06d}", f"105.{rng.randrange(10**6):06d}"
    return rng.choice(LINK_FORMS).format(text=text, token=token, lat=lat, lon=lon)


def valley_for_the_district(text: str) -> str:
    """English travel text: the district called a valley ("Mai Chau valley") and a hamlet or village
    called "the Muong village of X" or "the Thai village of X" (chosen by the text); English only.

    >>> valley_for_the_district("Lac hamlet, Chieng Chau commune, Mai Chau district") in {
    ...     f"the {p} village of Lac, Chieng Chau commune, Mai Chau valley" for p in ("Muong", "Thai")}
    True
    >>> valley_for_the_district("xóm Lác (Mai Châu)")
    'xóm Lác (Mai Châu)'
    """
    if not _unmarked(text):
        return text
    people = _rng(text, "valley").choice(("Muong", "Thai"))
    text = _VALLEY_VILLAGE_RE.sub(lambda m: f"the {people} village of {m.group(1)}", text, count=1)
    return _VALLEY_DISTRICT_RE.sub(lambda m: f"{m.group(1)} valley", text)


_VALLEY_VILLAGE_RE: Final = re.compile(
    r"^((?:[A-Z][a-z]+ ){0,2}[A-Z][a-z]+) (?:hamlet|village|Hamlet|Village)"
)
_VALLEY_DISTRICT_RE: Final = re.compile(
    rf"(?<![A-Za-z])((?:{'|'.join(strip_marks(d) for d in _REFERENCE_DISTRICTS)}))"
    r"(?: [Dd]istrict(?![a-z'\u2019])|(?=\)))"
)


VARIANTS: Final[dict[str, Callable[[str], str]]] = {
    "as written": lambda text: text,
    "no marks": strip_marks,
    "lower case": lower_case,
    "other tone placement": other_tone_placement,
    "no commas": drop_commas,
    "abbreviated": abbreviate,
    "new province": new_province,
    "new province, no district": new_province_without_district,
    "no province": drop_province,
    "no district": drop_district,
    "Việt Nam appended": add_country,
    "upper case": upper_case,
    "decomposed (NFD)": decompose,
    "dashes": separated_by(" - "),
    "semicolons": separated_by("; "),
    "full stops": separated_by(". "),
    "label in front": add_label,
    "phone after": add_phone,
    "one slip": one_slip,
    "unit words in English": english_unit_words,
    "English short forms": english_short_forms,
    "reversed order": reverse_order,
    "y/i swapped": swap_y_i,
    "slashes": separated_by(" / "),
    "unit words dropped": drop_admin_words,
    "other village word": other_village_word,
    "shop in front": shop_in_front,
    "distance after": distance_after,
    "house number in front": house_number_in_front,
    "wrong tone": wrong_tone,
    "slip in a unit word": unit_word_slip,
    "English word first": english_word_first,
    "joined by thuộc/of": joined_by_thuoc,
    "tại/ở in front": preposition_in_front,
    "no space after commas": no_space_after_commas,
    "extra spaces": extra_spaces,
    "Tp. for thành phố": city_short,
    "HB for Hòa Bình": hoa_binh_short,
    "VN and other country forms": country_short,
    "Phú Thọ appended": new_province_appended,
    "photo caption after": caption_after,
    "title case": title_case,
    "typed fast": typed_fast,
    "postcode after": postcode_after,
    "dashes without spaces": tight_dashes,
    "(cũ) after the commune": old_unit_marked,
    "Mường unit words": muong_unit_words,
    "Telex tone key left": telex_slip,
    "line breaks": line_breaks,
    "web spaces": web_spaces,
    "bullet in front": bullet_in_front,
    "hyphenated names": hyphenated_names,
    "D for Đ": d_for_dj,
    "abbreviated, no marks": abbreviated_without_marks,
    "no marks, no district": no_marks_no_district,
    "UTF-8 read as Windows-1252": utf8_read_as_cp1252,
    "HTML entities": html_entities,
    "UBND before the commune": peoples_committee,
    "in a news sentence": in_a_sentence,
    "a feature in front": feature_in_front,
    "unit word glued to the name": unit_word_glued,
    "names run together": names_run_together,
    "upper case, no marks": upper_case_without_marks,
    "commune called a village": commune_called_village,
    "2025 commune written": new_commune_written,
    "tone on the diphthong's first vowel": tone_on_first_vowel,
    "other commune type word": other_type_word,
    "a person named": a_person_named,
    "web slug": web_slug,
    "unit described": unit_described,
    "2025 name in brackets": now_named,
    "a landmark of the place": landmark_of_the_village,
    "old and new commune together": old_and_new,
    "from another place": from_another_place,
    "plus code in front": plus_code_in_front,
    "business listing": business_listing,
    "quotes, emoji, map links": quotes_emoji_links,
    "valley and ethnic village": valley_for_the_district,
    "commune's hamlet": commune_possessive,
    "compass point in the district": compass_point_in_the_district,
    "near another place": near_another_place,
    "district by its town": district_by_its_town,
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
