"""Normalise Vietnamese address text into one canonical accented form and an ASCII fold.

The pipeline is a plain tuple of small ``str -> str`` functions (``PIPELINE``), run in
order by :func:`normalize`; every step can be called and tested on its own.

Canonical choices
-----------------
* Unicode NFC; NFD input (base letter + combining marks) is composed first. Text in the
  Mường script of Hòa Bình (its own tone marks) is first written with Vietnamese marks and
  spellings (:func:`read_muong`: "xa̭ Pa̒ Ko̒" -> "xa Pà Cò").
* Lower case throughout.
* Tone marks in the open syllables ``oa``, ``oe`` and ``uy`` sit on the FIRST vowel
  (the "old style" used by most GSO names): ``oà→òa, oá→óa, oả→ỏa, oã→õa, oạ→ọa``,
  ``oè→òe, oé→óe, oẻ→ỏe, oẽ→õe, oẹ→ọe``, ``uỳ→ùy, uý→úy, uỷ→ủy, uỹ→ũy, uỵ→ụy``, and the
  same for capitals. "Open" means no letter follows the pair, so ``hoàng``, ``toán``,
  ``khuyến``, ``huỳnh`` are left alone; after ``q`` the ``u`` belongs to the consonant,
  so ``quý``, ``quỳ``, ``quà`` are left alone too. ``gi`` sequences never match.
* Folding (for diacritic-insensitive matching) removes every mark and maps ``đ→d``.
* Abbreviations are expanded to the full unit word (see :func:`expand_abbreviations`;
  the expansions are the vocabulary's, :data:`addresses.vocabulary.ABBREVIATIONS`):
  ``x.``→xã, ``p.``→phường, ``tt``→thị trấn, ``tx.``→thị xã, ``tp``/``t.p``→thành phố,
  ``h.``→huyện, ``q.``→quận, ``t.``→tỉnh, ``tdp``→tổ dân phố, ``kdc``→khu dân cư,
  ``kp``→khu phố, ``tk``→tiểu khu, ``sn``→số nhà, ``đ.``/``đg``→đường, ``ql``/``tl``/``hl``/``đt``/``dt``
  + number → quốc lộ / tỉnh lộ / huyện lộ / đường tỉnh, and before a number
  ``h.``→hẻm, ``k.``→kiệt, ``ng.``→ngõ, ``ngh.``→ngách, ``p5``→phường 5, ``q1``→quận 1.
  One-letter forms without a dot (``x tân mai``) are expanded only
  at the start of a comma-separated part (so a lone "t" is tỉnh only there). ``hb``
  becomes "hòa bình" only after thành phố / tỉnh or when it ends a part ("TP.HB",
  "tỉnh HB", "Tổ 6, HB"), never inside a name ("HB Hotel"). Other province codes (HN,
  HCM, PT, ...) are left as they are.
* In the tokens that are matched (not in the parser's names), a syllable-final "y" after a
  consonant is written "i" (:func:`addresses.vocabulary.canonical_i`: "Mỵ"/"Mị", "Kỳ"/"Kì"
  are one word). The English possessive "'s" is dropped.
* "Việt Nam" / "Viet Nam" / "Vietnam" / "VN" is dropped when it is a whole part or ends
  the text; so are a label before the address ("Địa chỉ:", "Đ/c:", "Address:") and a
  telephone number with its label ("- ĐT: 0218 3xx xxxx", ", Tel: +84 ...": nine digits or
  more after 0 or +84; the labels are :data:`addresses.vocabulary.ADDRESS_LABELS` and
  :data:`addresses.vocabulary.PHONE_LABELS`).
* Punctuation becomes spaces, except ``/`` between a number and a digit ("1806/127/2",
  "27b/3"); digits and letters stay together ("12a", "40bis").
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from addresses.text import canonical_tones
from addresses.vocabulary import (
    ABBREVIATIONS,
    ABOUT_WORDS,
    ABOUT_WORDS_ENGLISH,
    ADDRESS_LABELS,
    CAPTION_LABELS,
    CAPTION_NOTES,
    COMPASS_POINTS,
    COMPASS_POINTS_ENGLISH,
    ENGLISH_ABBREVIATIONS,
    ENGLISH_TERMS,
    FOLD_TABLE,
    MUONG_MARKS,
    MUONG_SPELLINGS,
    MUONG_TONES,
    NEAR_UNIT_WORDS,
    NEAR_UNIT_WORDS_ENGLISH,
    NEAR_WORDS,
    NEAR_WORDS_ENGLISH,
    OWN_CENTRES,
    PERSON_TITLES,
    PHONE_LABELS,
    PROVINCE_CODES,
    REFERENCE_UNIT_WORDS,
    ROAD_ABBREVIATIONS,
    SURNAMES,
    UNIT_DESCRIPTORS,
    UNIT_TERMS,
    UNMARKED_MUONG_SPELLINGS,
    Abbreviation,
    UnitLevel,
    canonical_i,
)

Step = Callable[[str], str]

# --- tone marks ----------------------------------------------------------------------

# --- folding -------------------------------------------------------------------------


_FOLD: Final = FOLD_TABLE
_COMBINING_RE: Final = re.compile("[\u0300-\u036f]")

# --- abbreviations -------------------------------------------------------------------

# The expansions come from the vocabulary (addresses.vocabulary.ABBREVIATIONS).
_BEFORE_WORD: Final = {a.short: a.word for a in ABBREVIATIONS if a.word}
"""Expansion when the abbreviation is followed by a letter."""
_BEFORE_NUMBER: Final = {
    a.short: a.number for a in ABBREVIATIONS if a.number and a.short not in ROAD_ABBREVIATIONS
}
"""Expansion when the abbreviation is followed by a digit."""
_ROADS: Final = {a.short: a.number for a in ABBREVIATIONS if a.short in ROAD_ABBREVIATIONS}
"""Numbered roads: "ql6", "tl 433"."""


def _after_first(shorts: list[str]) -> str:
    """An alternation of abbreviations, each as its first letter behind and the rest ahead.

    >>> _after_first(["tdp", "tp", "x"])
    '(?<=t)dp|(?<=t)p|(?<=x)'
    """
    return "|".join(
        f"(?<={re.escape(s[0])}){re.escape(s[1:])}" for s in sorted(shorts, key=lambda s: (-len(s), s))
    )


def _alley_words() -> frozenset[str]:
    """The alley words (ngõ, ngách, hẻm, kiệt): read from an abbreviation only with its dot."""
    return frozenset(term.word for term in UNIT_TERMS if term.level == UnitLevel.ALLEY)


def _dotted(short: str, word: str) -> str | None:
    """The spelling with a dot after each letter ("t.d.p") when each letter starts a word of the expansion."""
    initials = "".join(part[0] for part in word.split())
    return ".".join(short) if len(short) > 1 and initials == short else None


def abbreviation_pattern(abbreviations: Iterable[Abbreviation], roads: frozenset[str]) -> str:
    """The regular expression that finds the abbreviations of a vocabulary table (see :data:`_ABBREV_RE`).

    Each alternative is built from the table: numbered roads before a number ("ql6"); the
    dotted spellings ("t.d.p", "t.p"); any abbreviation with its dot; those of two letters
    or more without it, unless they stand for an alley word only ("ng", "ngh"); one letter
    glued to a number when it stands for a numbered ward or district ("p5", "q1", not "h5");
    and one letter before a name (at the start of a part, checked by the replacement).

    >>> table = [Abbreviation("x", word="xã"), Abbreviation("ql", number="quốc lộ")]
    >>> re.compile(abbreviation_pattern(table, frozenset({"ql"}))).sub("<>", "x. mai, ql6")
    '<>mai, <>6'
    """
    table = list(abbreviations)
    alleys = _alley_words()
    shorts = [a.short for a in table]
    multi = [a.short for a in table if len(a.short) > 1 and a.short not in roads]
    words = {a.short: a.word for a in table}
    dotted = sorted({d for a in table if a.short not in roads and (d := _dotted(a.short, a.word))}, key=len)
    first = "".join(sorted({s[0] for s in shorts}))
    rest = "".join(sorted({c for s in shorts for c in s[1:]})) + "."
    longest = max((len(d) for d in dotted), default=max(len(s) for s in shorts)) - 1
    bare = [s for s in multi if words[s] or all(a.number not in alleys for a in table if a.short == s)]
    admin = {term.word for term in UNIT_TERMS if term.admin}
    glued = [a.short for a in table if len(a.short) == 1 and a.number in admin]
    return (
        rf"[{first}](?<![^\W_].)(?=[{rest}]{{0,{longest}}}(?![^\W\d_]))(?:"
        rf"(?:{_after_first([s for s in shorts if s in roads])})\.?\s*(?=\d{{1,4}}(?!\d))(?P<road>)"
        rf"|(?:{_after_first(dotted)})\.?\s*(?=[^\W_])(?P<multi>)"
        rf"|(?:{_after_first(multi)}|)\.\s*(?=[^\W_])(?P<dot>)"
        rf"|(?:{_after_first(bare)})(?:\s+(?=[^\W\d_])|\s*(?=\d))(?P<bare>)"
        rf"|(?:{_after_first(glued)})(?=\d{{1,2}}(?![^\W_]))(?P<attached>)"
        r"|\s+(?=[^\W\d_])(?P<lead>)"
        r")"
    )


# The pattern starts with one character class (the first letters of the abbreviations, so
# ``re`` can skip ahead fast), checks that it starts a short word made of abbreviation
# letters, then each alternative says by a lookbehind which first letter it needs; an empty
# named group at the end tells the replacement function which kind of abbreviation matched.
_ABBREV_RE: Final = re.compile(abbreviation_pattern(ABBREVIATIONS, ROAD_ABBREVIATIONS))
_HB_RE: Final = re.compile(
    r"hb(?![^\W_])(?:(?<=thành phố hb)|(?<=tỉnh hb)|(?<![^\W_]hb)(?=\s*(?:$|[,;|])))",
)
_COUNTRY: Final = r"(?:vi[eêéèẻẽẹếềểễệ]t\s?nam|vn)"
_COUNTRY_PART_RE: Final = re.compile(rf"[,;|]\s*{_COUNTRY}[\s.]*(?=$|[,;|])")
_COUNTRY_HEAD_RE: Final = re.compile(rf"\s*{_COUNTRY}[\s.]*(?:$|[,;|])")
_COUNTRY_TAIL_RE: Final = re.compile(rf"(?<![^\W_]){_COUNTRY}[\s.]*$")
_UNUSUAL_RE: Final = re.compile(r"[^\w ]|_")
_PUNCT_RE: Final = re.compile(r"[^\w/]+|_+|/(?!\d)|(?<![^\W_])/")


def _at_part_start(text: str, start: int) -> bool:
    """True when ``start`` begins the text or a comma-separated part of it."""
    head = text[:start].rstrip()
    return not head or head[-1] in ",;|"


def _expansion(match: re.Match[str]) -> str:
    """Replacement for one :data:`_ABBREV_RE` match (the word plus one space)."""
    kind = match.lastgroup
    found = match.group()
    abbr = found.rstrip().rstrip(".").replace(".", "")
    if kind == "road":
        return _ROADS[abbr] + " "
    if kind == "lead" and not _at_part_start(match.string, match.start()):
        return found
    end = match.end()
    followed_by_digit = end < len(match.string) and match.string[end].isdigit()
    word = (_BEFORE_NUMBER if followed_by_digit else _BEFORE_WORD).get(abbr)
    return found if word is None else word + " "


# --- the steps -----------------------------------------------------------------------

_MUONG_RE: Final = re.compile(
    "[{}]".format(
        "".join(
            chr(code)
            for code in (0x312, 0x32D, *range(0x1E00, 0x1F00))
            if any(mark in unicodedata.normalize("NFD", chr(code)) for mark in MUONG_MARKS)
        )
    )
)
"""A Mường tone mark, alone or composed with its letter (ṷ)."""
_MUONG_SPELLINGS: Final = tuple((re.compile(p, re.IGNORECASE), v) for p, v in MUONG_SPELLINGS)
_UNMARKED_MUONG: Final = tuple((re.compile(p, re.IGNORECASE), v) for p, v in UNMARKED_MUONG_SPELLINGS)


def _respell(match: re.Match[str], spelling: str) -> str:
    """The Vietnamese spelling, capitalised like the Mường letters it replaces."""
    return spelling.capitalize() if match.group()[:1].isupper() else spelling


def read_muong(text: str) -> str:
    """Write text in the Mường script of Hòa Bình with Vietnamese marks and spellings.

    Only text with a mark of that script (:data:`addresses.vocabulary.MUONG_MARKS`) is
    touched; tones and spellings follow :data:`addresses.vocabulary.MUONG_TONES` and
    :data:`addresses.vocabulary.MUONG_SPELLINGS`.

    >>> read_muong("xa\u032d Kao Fong, thi\u032d tlẩn Mai Châw, Ko\u0312")
    'xa Cao Phong, thi trấn Mai Châu, Cò'
    >>> read_muong("Vu\u032d Bán"), read_muong("xóm Kim, Tân Lạc")
    ('Vu Bản', 'xóm Kim, Tân Lạc')

    Text without any mark (typed so, or its marks removed) is read with the spellings no
    name of Hòa Bình has (:data:`addresses.vocabulary.UNMARKED_MUONG_SPELLINGS`); text with
    Vietnamese marks is left alone ("xã Tlê" may be a name of another province):

    >>> read_muong("Thi tlan Bo, TL433, tl 12"), read_muong("Fong"), read_muong("xã Tlê")
    ('Thi tran Bo, TL433, tl 12', 'Fong', 'xã Tlê')
    """
    if text.isascii():
        return _read_unmarked_muong(text)
    if _MUONG_RE.search(text) is None:
        return text
    decomposed = unicodedata.normalize("NFD", text)
    text = "".join(MUONG_TONES.get(char, char) for char in decomposed)
    for pattern, spelling in _MUONG_SPELLINGS:
        text = pattern.sub(functools.partial(_respell, spelling=spelling), text)
    return unicodedata.normalize("NFC", text)


def _read_unmarked_muong(text: str) -> str:
    """The Mường spellings that read the same without marks ("tlan" -> "tran").

    >>> _read_unmarked_muong("TLAN Vu Ban"), _read_unmarked_muong("Atlantic")
    ('TRAN Vu Ban', 'Atlantic')
    """
    if "tl" not in text and "Tl" not in text and "TL" not in text and "tL" not in text:
        return text
    for pattern, spelling in _UNMARKED_MUONG:
        text = pattern.sub(functools.partial(_respell_case, spelling=spelling), text)
    return text


def _respell_case(match: re.Match[str], spelling: str) -> str:
    """The spelling in the case of the letters it replaces (lower, capitalised or upper)."""
    found = match.group()
    if found.isupper():
        return spelling.upper()
    return _respell(match, spelling)


def to_nfc(text: str) -> str:
    """Compose to Unicode NFC; marks that compose with nothing are dropped.

    >>> to_nfc("Ho\\u00e0 Bi\\u0300nh") == "Hoà Bình"
    True
    >>> to_nfc("Hu\\u1ef5\\u0302n")  # a stray circumflex on "ỵ"
    'Huỵn'
    """
    text = unicodedata.normalize("NFC", text)
    if text.isascii() or not _COMBINING_RE.search(text):
        return text
    return _COMBINING_RE.sub("", text)


def lower_case(text: str) -> str:
    """Lower-case the text (Vietnamese capitals included).

    >>> lower_case("ĐƯỜNG Trần Phú")
    'đường trần phú'
    """
    return text.lower()


def drop_country(text: str) -> str:
    """Drop "Việt Nam"/"Viet Nam"/"Vietnam"/"VN" when it is a whole part or ends the text.

    >>> drop_country("xã mai hạ, phú thọ, việt nam")
    'xã mai hạ, phú thọ'
    >>> drop_country("xa thinh minh phu tho viet nam")
    'xa thinh minh phu tho'
    """
    if "nam" not in text and "vn" not in text:
        return text
    text = _COUNTRY_PART_RE.sub("", text)
    head = _COUNTRY_HEAD_RE.match(text)
    if head:
        text = text[head.end() :].lstrip()
    tail = _COUNTRY_TAIL_RE.search(text, max(0, len(text) - 24))
    if tail:
        text = text[: tail.start()].rstrip(" ,;|")
    return text


_LABEL_RE: Final = re.compile(
    r"\s*(?:(?:{})\s*:|(?:địa chỉ|dia chi|address)(?![^\W_]))\s*".format(
        "|".join(re.escape(label) for label in ADDRESS_LABELS)
    )
)
_PHONE_RE: Final = re.compile(
    r"\s*[-–,;(]?\s*(?:(?<![^\W_])(?:{})\s*[:.]?\s*)?(?<![\d/])(?:\+\s?84|0)(?:[\s.]?\d){{8,10}}(?![\d/])\)?".format(
        "|".join(re.escape(label) for label in PHONE_LABELS)
    )
)


def drop_labels(text: str) -> str:
    """Drop a label before the address ("địa chỉ:", "đ/c:", "address:") and telephone numbers
    (0 or +84 and nine digits or more), with the label before them ("đt:", "sđt", "tel:").

    >>> drop_labels("đ/c: xóm lác, xã mai hạ - đt: 0218 3851 234")
    'xóm lác, xã mai hạ'
    >>> drop_labels("address: lac hamlet, tel: +84 912 345 678, mai ha commune")
    'lac hamlet, mai ha commune'
    >>> drop_labels("đt 433, số 0218")  # a road and a house number stay
    'đt 433, số 0218'
    """
    label = _LABEL_RE.match(text)
    if label:
        text = text[label.end() :]
    return _PHONE_RE.sub("", text) if any(char.isdigit() for char in text) else text


_MOJIBAKE_HINTS: Final = ("Ã", "Ä", "Æ", "Å", "áº", "á»", "Ì")
"""What UTF-8 Vietnamese read as Windows-1252 shows: the lead bytes of its letters as characters
(0xC3 "Ã", 0xC4 "Ä", 0xC5 "Å", 0xC6 "Æ", 0xCC "Ì", 0xE1 0xBA/0xBB "áº"/"á»")."""
_CP1252_BYTES: Final = {
    char: byte
    for byte in range(0x80, 0x100)
    for char in (bytes([byte]).decode("cp1252", errors="ignore") or chr(byte),)
}
"""Each character Windows-1252 (Latin-1 for its five unassigned bytes) reads a high byte as, and the byte."""


def _cp1252_bytes(text: str) -> bytes | None:
    """The bytes a Windows-1252 reading of them shows as ``text`` (None when no bytes do)."""
    out = bytearray()
    for char in text:
        if char.isascii():
            out.append(ord(char))
        elif char in _CP1252_BYTES:
            out.append(_CP1252_BYTES[char])
        else:
            return None
    return bytes(out)


def _utf8_of(chunk: str) -> str:
    """The chunk read back as UTF-8 when it is UTF-8 shown as Windows-1252, else itself."""
    raw = _cp1252_bytes(chunk)
    if raw is None:
        return chunk
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return chunk


def repair_encoding(text: str) -> str:
    """Text that a page or a file showed in the wrong encoding, read back: UTF-8 shown as Windows-1252
    ("HÃ²a BÃ¬nh" -> "Hòa Bình"; the whole text, else each space-separated chunk that reads back),
    and HTML character references left in scraped text ("H&ograve;a&nbsp;B&igrave;nh").

    Text that is not so stays (its bytes are no UTF-8, or it has a character Windows-1252 has not):

    >>> repair_encoding("xÃ£ Chiá»\x81ng ChÃ¢u, HÃ²a BÃ¬nh"), repair_encoding("HÃ²a Bình")
    ('xã Chiềng Châu, Hòa Bình', 'Hòa Bình')
    >>> repair_encoding("x&atilde;&nbsp;H&ograve;a B&#236;nh"), repair_encoding("CHÂU, Ã SƠN, Bus & Tours;")
    ('xã Hòa Bình', 'CHÂU, Ã SƠN, Bus & Tours;')
    """
    if text.isascii() and "&" not in text:
        return text
    if "&" in text and ";" in text:
        text = " ".join(html.unescape(text).split())
    if any(hint in text for hint in _MOJIBAKE_HINTS):
        whole = _utf8_of(text)
        text = whole if whole != text else " ".join(_utf8_of(chunk) for chunk in text.split(" "))
    return text


def _letters(test: Callable[[str], bool]) -> str:
    """The Latin letters (Vietnamese ones among them) that pass ``test``, as a character class body."""
    ranges = (range(0x41, 0x7B), range(0xC0, 0x250), range(0x1E00, 0x1F00))
    return "".join(re.escape(chr(code)) for span in ranges for code in span if test(chr(code)))


_LOWER: Final = _letters(str.islower)
_UPPER: Final = _letters(str.isupper)
_CASE_BREAK_RE: Final = re.compile(
    rf"(?<=[{_LOWER}])(?=[{_UPPER}])|(?<=[{_UPPER}]{{2}})(?=[{_UPPER}][{_LOWER}])"
)


def split_run_together(text: str) -> str:
    """A space where a word's lower-case letter is followed by a capital, or a run of capitals by a
    capitalised word: no Vietnamese word has a capital inside, so two words were run together (typed
    fast, a tag, a web address, text extracted from a PDF: "xãTân Mai", "MaiChâu", "TTLương Sơn").

    >>> split_run_together("xãChiềng Châu, huyệnMai Châu, #MaiChau, TTLươngSơn, TPHòa Bình")
    'xã Chiềng Châu, huyện Mai Châu, #Mai Chau, TT Lương Sơn, TP Hòa Bình'
    >>> split_run_together("UBND xã Tân Mai, QL6, TPHB"), split_run_together("XÃ TÂN MAI")
    ('UBND xã Tân Mai, QL6, TPHB', 'XÃ TÂN MAI')
    """
    if text.islower() or text.isupper():
        return text
    return _CASE_BREAK_RE.sub(" ", text)


_SLUG_RE: Final = re.compile(r"(?<!\S)[^\W_]+(?:[-_][^\W_]+){2,}(?!\S)")


def split_slug(text: str) -> str:
    """Words joined by "-" or "_" with no space, three or more, as a web address or a file name writes an
    address ("xa-chieng-chau-huyen-mai-chau", "phuong_tan_hoa_tp_hoa_binh"), read apart: the
    abbreviations in them ("tp") are then read as elsewhere. One hyphen ("Mai-Châu") stays.

    >>> split_slug("xom-gai-phuong-tan-hoa-tp-hoa-binh"), split_slug("bản Đăm- xã Đức Nhàn, Mai-Châu, Km 3-5")
    ('xom gai phuong tan hoa tp hoa binh', 'bản Đăm- xã Đức Nhàn, Mai-Châu, Km 3-5')
    """
    if "-" not in text and "_" not in text:
        return text
    return _SLUG_RE.sub(lambda match: match.group().replace("-", " ").replace("_", " "), text)


_DESCRIPTOR_RE: Final = re.compile(
    "|".join(sorted({re.escape(words.split()[0]) for words in UNIT_DESCRIPTORS}))
)
"""The first word of a descriptor anywhere: the quick test before :data:`_DESCRIBED_UNIT_RE`."""
_DESCRIBED_UNIT_RE: Final = re.compile(
    r"(?<![^\W_])(xã|phường|thị trấn|thị xã|huyện|thành phố|tỉnh)\s+(?:{})(?=\s+[^\W\d_])".format(
        "|".join(re.escape(words) for words in sorted(UNIT_DESCRIPTORS, key=len, reverse=True))
    )
)


def drop_unit_descriptors(text: str) -> str:
    """Drop the words that describe a unit between its unit word and its name ("xã vùng cao Pà Cò" ->
    "xã Pà Cò", "huyện miền núi Lạc Sơn" -> "huyện Lạc Sơn"): the unit word then labels the name. Lower
    case, with marks (:data:`addresses.vocabulary.UNIT_DESCRIPTORS`).

    >>> drop_unit_descriptors("xã vùng cao pà cò, huyện vùng sâu, vùng xa đà bắc")
    'xã pà cò, huyện đà bắc'
    >>> drop_unit_descriptors("các xã vùng cao, xã nghèo"), drop_unit_descriptors("xã lòng hồ sông đà")
    ('các xã vùng cao, xã nghèo', 'xã lòng hồ sông đà')
    """
    if text.isascii() or _DESCRIPTOR_RE.search(text) is None:
        return text
    return _DESCRIBED_UNIT_RE.sub(r"\1", text)


_CAPTION_RE: Final = re.compile(
    r"\s*(?:[(\[]\s*(?:{labels})\s*:[^)\]]*[)\]]|[(\[]\s*(?:{notes})\s*[)\]]"
    r"|(?:^|(?<=[\s.,;\u2013-]))(?:{labels})\s*:.*$)".format(
        labels="|".join(re.escape(label) for label in sorted(CAPTION_LABELS, key=len, reverse=True)),
        notes="|".join(re.escape(note) for note in CAPTION_NOTES),
    )
)


def drop_captions(text: str) -> str:
    """Drop a photo caption or source left after an address copied from a page: "(ảnh: ...)",
    ". ảnh: ..." to the end, "(photo: ...)", "nguồn: ...", "(ảnh minh họa)"
    (:data:`addresses.vocabulary.CAPTION_LABELS`, :data:`addresses.vocabulary.CAPTION_NOTES`).

    >>> drop_captions("khu 2, xã cao phong. ảnh: thu trang"), drop_captions("xã tân mai (ảnh: tl), mai châu")
    ('khu 2, xã cao phong.', 'xã tân mai, mai châu')
    >>> drop_captions("lac hamlet (photo: vna)"), drop_captions("xóm anh, xã tân mai (ảnh minh họa)")
    ('lac hamlet', 'xóm anh, xã tân mai')
    """
    if ":" not in text and "(" not in text:
        return text
    return _CAPTION_RE.sub("", text)


def _unmarked_word(word: str) -> str:
    """A word without its marks, case kept ("Bùi" -> "Bui", "Đinh" -> "Dinh")."""
    decomposed = unicodedata.normalize("NFD", word.replace("Đ", "D").replace("đ", "d"))
    return _COMBINING_RE.sub("", decomposed)


def _either(words: Iterable[str]) -> str:
    """An alternation of the words as written and without their marks, longest first."""
    found = {form for word in words for form in (word, _unmarked_word(word))}
    return "|".join(re.escape(word) for word in sorted(found, key=len, reverse=True))


_NAME_WORD: Final = rf"[{_UPPER}][{_LOWER}]*"
_TITLES: Final = "|".join(re.escape(title) for title in sorted(PERSON_TITLES, key=len, reverse=True))
"""The titles as written (Vietnamese with marks: unmarked, "chau", "co", "ba" are names of places)."""
_SURNAME_RE: Final = re.compile(_either(SURNAMES))
"""A known surname anywhere: the quick test before :data:`_PERSON_RE` (most texts name nobody)."""
_PERSON_RE: Final = re.compile(
    rf"(?<![^\W_])(?:(?i:{_TITLES})\s+)+(?:{_either(SURNAMES)})(?:\s+{_NAME_WORD}){{1,3}}(?![^\W_])"
)


def drop_person_names(text: str) -> str:
    """Drop a person's name from news text: a title and a capitalised name of a known surname ("gia đình
    ông Bùi Văn Hòa", "Mr. Bui Van Hoa"). Given names are often place words (Hòa, Bình, Sơn, Thanh, Tân,
    Phong...): read as names they would answer for a commune. A comma stands where the name was. A name
    without a title stays: streets bear people's names ("40 Nguyễn Văn Cừ").

    >>> drop_person_names("gia đình ông Bùi Văn Hòa ở xóm Mới, xã Tân Lạc")
    ', ở xóm Mới, xã Tân Lạc'
    >>> drop_person_names("Mr. Dinh Cong Son of Lac"), drop_person_names("40 Nguyễn Văn Cừ, phố Bà Triệu")
    (', of Lac', '40 Nguyễn Văn Cừ, phố Bà Triệu')
    >>> drop_person_names("xóm Cô Nghĩa, xã Cao Sơn, ông Mai"), drop_person_names("Xa Van Mai, Mai Chau")
    ('xóm Cô Nghĩa, xã Cao Sơn, ông Mai', 'Xa Van Mai, Mai Chau')
    """
    if text.islower() or text.isupper() or _SURNAME_RE.search(text) is None:
        return text
    return _PERSON_RE.sub(",", text)


_TELEX_KEYS: Final = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
_TELEX_RE: Final = re.compile(
    r"(?<![^\W\d_])((?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?([aăâeêioôơuưy]{1,3})"
    r"(ch|ng|nh|c|m|n|p|t)?)([sfrxj])(?![^\W_])",
    re.IGNORECASE,
)
_TELEX_KEY_END_RE: Final = re.compile(r"[sfrxj](?![^\W_])")
"""A Telex tone key ending a word: the quick test before :data:`_TELEX_RE` (most texts have none)."""
_QUALITY_VOWELS: Final = "ăâêôơư"


def _tone_vowel(vowels: str, final: str | None) -> int:
    """Where the tone goes in a syllable's vowels (the index in ``vowels``), by the usual rules.

    >>> _tone_vowel("ư", None), _tone_vowel("uyê", "n"), _tone_vowel("ai", None), _tone_vowel("oai", None)
    (0, 2, 0, 1)
    """
    marked = [i for i, char in enumerate(vowels.lower()) if char in _QUALITY_VOWELS]
    if marked:
        return marked[-1]
    if final:
        return len(vowels) - 1
    return 1 if len(vowels) == 3 else 0


def _untelex(match: re.Match[str]) -> str:
    """One name's syllable with its Telex tone key written as the mark (else the match as it is)."""
    syllable, vowels, final, key = match.group(1), match.group(2), match.group(3), match.group(4)
    if not (syllable[0].isupper() and (syllable[1:] + key).islower()):
        return match.group()
    if any(char in _TELEX_KEYS.values() for char in unicodedata.normalize("NFD", syllable)):
        return match.group()
    start = match.start(2) - match.start(1)
    at = start + _tone_vowel(vowels, final)
    return unicodedata.normalize("NFC", syllable[: at + 1] + _TELEX_KEYS[key] + syllable[at + 1 :])


def read_telex_tone(text: str) -> str:
    """A name's syllable (written with a capital) ending in a Telex tone key (s, f, r, x, j: no Vietnamese
    syllable ends so) written with its mark, in NFC text that has Vietnamese marks: the input method
    left the key ("Đaoj" is "Đạo", "Cof" "Cò", "Tưj" "Tự"). Words in lower case ("bus") and text without
    marks (English, or Vietnamese typed without) stay; an English word with a capital that ends so and
    is spelt like a syllable ("Bus") is read as one, the cost of the rule.

    >>> read_telex_tone("Trần Hưng Đaoj, chợ Pà Cof"), read_telex_tone("xã Tưj Do, Ngọc Myx")
    ('Trần Hưng Đạo, chợ Pà Cò', 'xã Tự Do, Ngọc Mỹ')
    >>> read_telex_tone("Hot Springs, xã Tân Mai"), read_telex_tone("Homestay & Tours, bus to Mai Châu")
    ('Hot Springs, xã Tân Mai', 'Homestay & Tours, bus to Mai Châu')
    >>> read_telex_tone("Ha Bif")
    'Ha Bif'
    """
    if text.isascii() or _TELEX_KEY_END_RE.search(text) is None:
        return text
    return _TELEX_RE.sub(_untelex, text)


_ENGLISH_UNIT: Final = "|".join(
    t.word for t in ENGLISH_TERMS if " " not in t.word and t.level <= UnitLevel.VILLAGE
)
_WORD_FIRST_RE: Final = re.compile(
    rf"(?:^|(?<=[,;(|\u2013-])|(?<=[,;(|\u2013-] )|(?<= of )|(?<= in ))({_ENGLISH_UNIT})\s+"
    r"([^\W\d_]{1,7}(?:\s+[^\W\d_]{1,7}){0,3}?)(?=\s*(?:[,;()|\u2013-]|$)|\s+(?:of|in)\s)"
)
_NOT_IN_NAMES: Final = frozenset(
    {t.word for t in ENGLISH_TERMS} | {"of", "in", "the", "and", "to", "road", "street"}
)


def english_unit_word_after(text: str) -> str:
    """An English unit word written before its name ("commune tay phong", "hamlet lac") put after it,
    where English writes it, when it begins a part and a name of Vietnamese syllables (seven letters
    at most each) follows it to the end of the part.

    >>> english_unit_word_after("commune tay phong of district cao phong")
    'tay phong commune of cao phong district'
    >>> english_unit_word_after("hamlet lac, commune chieng chau (district mai chau)")
    'lac hamlet, chieng chau commune (mai chau district)'
    >>> english_unit_word_after("village road to ban lac"), english_unit_word_after("commune committee")
    ('village road to ban lac', 'commune committee')
    """
    if not any(
        word in text
        for word in ("commune", "hamlet", "village", "district", "ward", "town", "province", "city")
    ):
        return text

    def turn(match: re.Match[str]) -> str:
        name = match.group(2)
        if any(word in _NOT_IN_NAMES for word in name.split()):
            return match.group()
        return f"{name} {match.group(1)}"

    return _WORD_FIRST_RE.sub(turn, text)


_VILLAGE_IN_VILLAGE_RE: Final = re.compile(
    r"(?<![^\W_])(hamlet|village)((?:\s*[,(]\s*|\s+(?:of|in)\s+)(?:[^\W\d_]{1,7}\s+){1,3})village(?![^\W_])"
)


def village_after_village(text: str) -> str:
    """ "village" after a hamlet or village part written "commune": a village is in no village, and
    English pages call communes villages ("Luon hamlet, Hop Tien village" is Hợp Tiến commune).

    >>> village_after_village("luon hamlet, hop tien village, kim boi district")
    'luon hamlet, hop tien commune, kim boi district'
    >>> village_after_village("lac village of chieng chau village"), village_after_village("lac village, mai")
    ('lac village of chieng chau commune', 'lac village, mai')
    """
    if "village" not in text:
        return text
    return _VILLAGE_IN_VILLAGE_RE.sub(r"\1\2commune", text)


def expand_abbreviations(text: str) -> str:
    """Expand unit abbreviations of lower-cased text to the full unit words.

    >>> expand_abbreviations("số 9, p.tân hòa, tp.hb")
    'số 9, phường tân hòa, thành phố hb'
    >>> expand_abbreviations("x độc lập, ql6, h.12")
    'xã độc lập, quốc lộ 6, hẻm 12'
    """
    return _ABBREV_RE.sub(_expansion, text)


def english_abbreviation_pattern(abbreviations: Iterable[Abbreviation]) -> str:
    """The regular expression of the English short forms of a table, each after a name word.

    A short form ending in a dot needs it; the others may have one. Longest first:

    >>> table = [Abbreviation("com.", "commune"), Abbreviation("dist", "district")]
    >>> re.compile(english_abbreviation_pattern(table)).sub("<>", "tan mai com. mai dist com dist. ,com.")
    'tan mai <> mai <> com <> ,com.'
    """
    table = sorted(abbreviations, key=lambda a: -len(a.short))
    forms = [re.escape(a.short) if a.short.endswith(".") else re.escape(a.short) + r"\.?" for a in table]
    return r"(?<=[^\W\d_]\s)(?:" + "|".join(forms) + r")(?![^\W_])"


_ENGLISH_SHORT: Final = {a.short.rstrip("."): a.word for a in ENGLISH_ABBREVIATIONS}
_ENGLISH_ABBREV_RE: Final = re.compile(english_abbreviation_pattern(ENGLISH_ABBREVIATIONS))
_ENGLISH_HINT: Final = frozenset(short[:3] for short in _ENGLISH_SHORT)


def expand_english_abbreviations(text: str) -> str:
    """Expand the short forms of English unit words after a name ("Dist.", "Prov.", "Com.").

    The forms are :data:`addresses.vocabulary.ENGLISH_ABBREVIATIONS`; "com" needs its dot.

    >>> expand_english_abbreviations("tan mai com., mai chau dist., hoa binh prov")
    'tan mai commune, mai chau district, hoa binh province'
    >>> expand_english_abbreviations("com hamlet, dong lai commune, dist 5, gmail.com.")
    'com hamlet, dong lai commune, dist 5, gmail.com.'
    """
    if not any(hint in text for hint in _ENGLISH_HINT):
        return text
    return _ENGLISH_ABBREV_RE.sub(lambda m: _ENGLISH_SHORT[m.group().rstrip(".")], text)


def expand_province_code(text: str) -> str:
    """Expand "hb" to "hòa bình" after thành phố/tỉnh or when it ends a part.

    >>> expand_province_code("thành phố hb, hb")
    'thành phố hòa bình, hòa bình'
    >>> expand_province_code("hb hotel")
    'hb hotel'
    """
    if "hb" not in text:
        return text
    return _HB_RE.sub(PROVINCE_CODES["hb"], text)


_LINK_RE: Final = re.compile(r"(?:https?://|www\.)[^\s()<>\[\]\"“”]+", re.IGNORECASE)


def drop_links(text: str) -> str:
    """Drop web addresses (a map link after an address in a message: "https://maps.app.goo.gl/..."): their
    letters name nothing, and read apart by their capitals they would be words.

    >>> drop_links("xã Tân Mai 👉 https://goo.gl/maps/kziDVMrC (www.google.com/maps?q=20.1,105.2)")
    'xã Tân Mai 👉  ()'
    """
    if "http" not in text and "www" not in text and "HTTP" not in text and "WWW" not in text:
        return text
    return _LINK_RE.sub("", text)


def _alternation(words: Iterable[str]) -> str:
    """The words as a regular-expression alternation, longest first."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_POINT: Final = rf"(?:{_alternation(COMPASS_POINTS)})(?:\s*(?:{_alternation(COMPASS_POINTS)}))?"
_POINT_ENGLISH: Final = (
    rf"(?:{_alternation(COMPASS_POINTS_ENGLISH)})(?:[\s-]?(?:{_alternation(COMPASS_POINTS_ENGLISH)}))?"
)
_OWN_CENTRES: Final = rf"(?:{_either(OWN_CENTRES)})(?![^\W_])"
_KM: Final = r"\d+(?:[.,]\d+)?\s*(?:km|kilomet(?:er|re)s?|ki\s?lô\s?mét|cây\s+số)(?![^\W_])"
_PART_END: Final = r"(?=\s*(?:[,;()\u2013-]|$))"
_REFERENCE_RE: Final = re.compile(
    # "cách trung tâm huyện Lạc Sơn khoảng 40 km về phía tây": the place between "cách" and the distance
    rf"(?<![^\W_])(?:cách|cach)\s+(?!{_OWN_CENTRES})(?:[^\W\d_]+\s+){{1,8}}?(?:(?:{_alternation(ABOUT_WORDS)})\s+)?{_KM}"
    rf"(?:\s+(?:về\s+|ve\s+)?(?:phía|phia)\s+{_POINT})?"
    # "phía tây thành phố Hòa Bình": a compass point and a place of reference, to the end of the part
    rf"|(?<![^\W_])(?:(?:về|ve|ở)\s+)?(?:phía|phia)\s+{_POINT}\s+(?:(?:của|cua)\s+)?"
    rf"(?:{_alternation(REFERENCE_UNIT_WORDS)})\s+(?:[^\W\d_]+\s*){{1,5}}?{_PART_END}"
    # "about 15 km from Hoa Binh city", "60 km northwest of Mai Chau town": to the end of the part
    rf"|(?<![^\W_])(?:(?:{_alternation(ABOUT_WORDS_ENGLISH)})\s+)?{_KM}\s+"
    rf"(?:(?:to\s+the\s+)?{_POINT_ENGLISH}\s+(?:of|from)|(?:{_POINT_ENGLISH}\s+)?(?:away\s+)?from)\s+(?:the\s+)?(?:(?:cent(?:er|re)|heart)\s+of\s+)?(?:[^\W\d_]+\s*){{1,5}}?{_PART_END}"
)


_NEAR_RE: Final = re.compile(
    # "giáp huyện Lương Sơn", "gần thị trấn Mai Châu": a unit beside the address, to the end of the part
    rf"(?<![^\W_])(?:{_alternation(NEAR_WORDS)})\s+(?:với\s+)?(?:{_alternation(NEAR_UNIT_WORDS)})\s+"
    rf"(?:[^\W\d_]+\s*){{1,5}}?{_PART_END}"
    # "near Mai Chau town", "next to Lac Son district"
    rf"|(?<![^\W_])(?:{_alternation(NEAR_WORDS_ENGLISH)})\s+(?:the\s+)?(?:[^\W\d_]+\s+){{1,4}}?"
    rf"(?:{_alternation(NEAR_UNIT_WORDS_ENGLISH)}){_PART_END}"
)
_NEAR_HINTS: Final = (*NEAR_WORDS, *NEAR_WORDS_ENGLISH)
"""What a text naming a unit beside it holds (its near words): the quick test before :data:`_NEAR_RE`."""
_REFERENCE_HINTS: Final = ("km", "phía", "phia", "kilo", "cây số")
"""What a text with a place of reference holds: the quick test before :data:`_REFERENCE_RE`."""


_LETTER_RE: Final = re.compile(r"[^\W\d_]")


def drop_distance_references(text: str) -> str:
    """Drop a place of reference measured from: "cách trung tâm huyện Lạc Sơn khoảng 40 km (về phía tây)",
    "phía tây thành phố Hòa Bình", "about 15 km from Hoa Binh city", "60 km northwest of Mai Chau town"; or
    a unit beside the address: "giáp huyện Lương Sơn", "gần thị trấn Mai Châu", "near Mai Chau town".
    The place named there is not where the address is, so its name must answer for nothing. Lower case,
    after the abbreviations are expanded; a comma stands where the words were. A text that is all
    reference stays as it is: its place is the best there is.

    >>> drop_distance_references("xã tân mai, cách trung tâm huyện lạc sơn khoảng 40 km về phía tây")
    'xã tân mai, ,'
    >>> drop_distance_references("cách thị trấn mai châu 20km, xã tân mai (cách trung tâm 12 km)")
    ',, xã tân mai (,)'
    >>> drop_distance_references("xóm lác, phía tây bắc thành phố hòa bình"), drop_distance_references(
    ...     "about 60km northwest of hoa binh city, lac village")
    ('xóm lác, ,', ',, lac village')
    >>> drop_distance_references("km 5 quốc lộ 6, xã cách, 3 km of road in tan mai commune")  # no place after
    'km 5 quốc lộ 6, xã cách, 3 km of road in tan mai commune'
    >>> drop_distance_references("xã tân mai (giáp huyện lương sơn)"), drop_distance_references(
    ...     "tan mai commune, near mai chau town")
    ('xã tân mai (,)', 'tan mai commune, ,')
    >>> drop_distance_references("gần chợ mai châu, xã tân mai"), drop_distance_references("gần thị trấn bo")
    ('gần chợ mai châu, xã tân mai', 'gần thị trấn bo')
    >>> drop_distance_references("bản lác, cách trung tâm xã chiềng châu 3 km")  # its own commune
    'bản lác, cách trung tâm xã chiềng châu 3 km'
    """
    dropped = _REFERENCE_RE.sub(",", text) if any(hint in text for hint in _REFERENCE_HINTS) else text
    if any(hint in dropped for hint in _NEAR_HINTS):
        dropped = _NEAR_RE.sub(",", dropped)
    return dropped if _LETTER_RE.search(dropped) else text


_POSSESSIVE_RE: Final = re.compile(r"(?<=[^\W\d_])['’]s(?![^\W_])")


def drop_possessive(text: str) -> str:
    """Drop the English possessive "'s" ("Lac Son district's Ngoc Lau commune").

    >>> drop_possessive("lac son district's ngoc lau commune")
    'lac son district ngoc lau commune'
    """
    if "'" not in text and "’" not in text:
        return text
    return _POSSESSIVE_RE.sub("", text)


def clean_punctuation(text: str) -> str:
    """Turn punctuation into single spaces, keeping ``/`` inside house numbers.

    >>> clean_punctuation("Số 1806/127/2, ngõ 5 - (Hòa Bình)/Phú Thọ.")
    'Số 1806/127/2 ngõ 5 Hòa Bình Phú Thọ'
    """
    text = text.replace(",", " ").replace(".", " ")  # the common cases, at C speed
    if _UNUSUAL_RE.search(text):
        text = _PUNCT_RE.sub(" ", text)
    return " ".join(text.split())


def strip_marks(text: str) -> str:
    """Remove every diacritic and map đ/Đ to d/D (case is kept).

    >>> strip_marks("Đường Hòa Bình, Thủy")
    'Duong Hoa Binh, Thuy'
    """
    if text.isascii():
        return text
    ascii_text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    encoded = ascii_text.encode("ascii", "ignore")
    if len(encoded) == len(text):  # every character had a plain Latin base
        return encoded.decode("ascii")
    return text.translate(_FOLD)


PREPARE_STEPS: Final[tuple[Step, ...]] = (
    repair_encoding,
    drop_links,
    split_slug,
    split_run_together,
    read_muong,
    to_nfc,
    read_telex_tone,
    drop_person_names,
    lower_case,
    canonical_tones,
    drop_captions,
    drop_labels,
    drop_possessive,
    english_unit_word_after,
    village_after_village,
    drop_country,
    expand_abbreviations,
    expand_english_abbreviations,
    expand_province_code,
    drop_unit_descriptors,
    drop_distance_references,
)
"""Steps that keep part separators (commas) so a parser can still split on them."""

PIPELINE: Final[tuple[Step, ...]] = (*PREPARE_STEPS, clean_punctuation, canonical_i)
"""The whole normalisation, in order."""
PREPARED_KEPT: Final = 64
"""Texts whose :func:`prepare` output is kept: each query is prepared three times, one after another.

Few on purpose: enough for the queries being answered at once, never a cache of answers by
another name (the HTTP benchmark cycles through 1,000 distinct queries; kept for all of them,
a repeated query would skip its preparation and the figure would not be of computed answers).
"""


# --- public API ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """One text in canonical accented and folded forms; token tuples are aligned."""

    accented: str
    folded: str
    tokens: tuple[str, ...]
    folded_tokens: tuple[str, ...]


def run_steps(steps: Iterable[Step], text: str) -> str:
    """Run ``text`` through the steps in order, each given the one before's output.

    >>> run_steps((lower_case, clean_punctuation), "X.Độc Lập")
    'x độc lập'
    """
    for step in steps:
        text = step(text)
    return text


@functools.lru_cache(maxsize=PREPARED_KEPT)
def prepare(text: str) -> str:
    """Run :data:`PREPARE_STEPS`: canonical lower-case text that still has its commas.

    Kept a while: a query is prepared to tokenise it, to find its parts and to parse it.

    >>> prepare("X.Độc Lập, TP.HB, Việt Nam")
    'xã độc lập, thành phố hòa bình'
    """
    return run_steps(PREPARE_STEPS, text)


def normalize(text: str) -> str:
    """Canonical accented, lower-case form of an address text.

    >>> normalize("Xã Độc Lập, TP. Hoà Bình, Viet Nam")
    'xã độc lập thành phố hòa bình'
    >>> normalize("Số 1806/127/2 QL6, P.Tân Hoà")
    'số 1806/127/2 quốc lộ 6 phường tân hòa'
    """
    return run_steps(PIPELINE[len(PREPARE_STEPS) :], prepare(text))


def fold(text: str) -> str:
    """ASCII fold of :func:`normalize`: no marks, đ→d, abbreviations expanded.

    >>> fold("X.Độc Lập, TP.HB")
    'xa doc lap thanh pho hoa binh'
    """
    return strip_marks(normalize(text))


def tokens(text: str) -> list[str]:
    """Whitespace tokens of :func:`normalize`.

    >>> tokens("27B Bản Lác 1, Mai Châu")
    ['27b', 'bản', 'lác', '1', 'mai', 'châu']
    """
    return normalize(text).split()


def analyze(text: str) -> NormalizedText:
    """Normalise once and return both forms with aligned token tuples.

    >>> analyze("Hoà Bình").folded_tokens
    ('hoa', 'binh')
    """
    accented = normalize(text)
    folded = strip_marks(accented)
    return NormalizedText(accented, folded, tuple(accented.split()), tuple(folded.split()))


EXACT_SCORE: Final = 1.0
"""Same token, same marks."""
UNACCENTED_SCORE: Final = 0.9
"""Equal once folded, and one side carries no marks at all (ASCII typing, ASCII source)."""
OTHER_MARKS_SCORE: Final = 0.7
"""Equal once folded, both sides accented but differently (a wrong tone)."""


_STROKE: Final = "\u0335"
"""Stands for the stroke of đ among the marks of a token (NFD does not decompose đ)."""


@functools.lru_cache(maxsize=1 << 16)
def _marks(token: str) -> tuple[str, ...]:
    """The marks of a token, sorted (tone and vowel marks, the stroke of đ), wherever they sit."""
    decomposed = unicodedata.normalize("NFD", token.replace("đ", "d" + _STROKE))
    return tuple(sorted(char for char in decomposed if unicodedata.combining(char)))


def marks_fit(typed: str, name: str) -> bool:
    """Whether every mark typed in a token is a mark of the name's token (letters may differ).

    A misspelt word keeps the marks of the word meant: "Phuường" and "tuhỷ" are slips for
    "phường" and "thủy", but "rằng" is another word than "hang" (a breve and a grave accent
    that "hang" does not have). Each mark counts as often as it is typed.

    >>> marks_fit("phuường", "phường"), marks_fit("tuhỷ", "thủy"), marks_fit("mai", "mãi")
    (True, True, True)
    >>> marks_fit("rằng", "hang"), marks_fit("đồng", "dông"), marks_fit("chău", "châu")
    (False, False, False)
    """
    if typed.isascii():
        return True
    have = list(_marks(name))
    for mark in _marks(typed):
        if mark not in have:
            return False
        have.remove(mark)
    return True


@functools.lru_cache(maxsize=1 << 16)
def _fold_token(token: str) -> str:
    """Fold one token, cached: the same few thousand names are compared again and again."""
    return token.translate(_FOLD)


def accent_score(query_token: str, candidate_token: str) -> float:
    """Score how well a normalised query token matches a candidate token (0.0 to 1.0).

    An exact accented match ranks above a folded one; an unaccented query matches every
    accented reading equally. Both tokens must come from :func:`tokens` (NFC, lower case).

    >>> accent_score("đường", "đường"), accent_score("duong", "đường")
    (1.0, 0.9)
    >>> accent_score("duong", "dương") == accent_score("duong", "đương")
    True
    >>> accent_score("đường", "đương"), accent_score("đường", "hòa")
    (0.7, 0.0)
    """
    if query_token == candidate_token:
        return EXACT_SCORE
    if len(query_token) != len(candidate_token):  # NFC folding keeps the length
        return 0.0
    query_ascii = query_token.isascii()
    candidate_ascii = candidate_token.isascii()
    query_folded = query_token if query_ascii else _fold_token(query_token)
    candidate_folded = candidate_token if candidate_ascii else _fold_token(candidate_token)
    if query_folded != candidate_folded:
        return 0.0
    return UNACCENTED_SCORE if query_ascii or candidate_ascii else OTHER_MARKS_SCORE
