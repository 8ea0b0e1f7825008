"""The Vietnamese address vocabulary, as data: unit words, abbreviations, spellings, dates.

One table that every consumer derives from: the geocoder's parser, unit-word reader,
scorer and abbreviation rules, the importers (unit types of GSO names), the API's
English labels and the fold used by SQL look-ups.

* :data:`UNIT_TERMS` - Vietnamese unit words (xã, thôn, tổ dân phố, quốc lộ, ngõ, số
  nhà...) with their level, English name and where they count in a text;
* :data:`ENGLISH_TERMS` - English unit words, written after the name ("Tân Mai
  commune", "Hạ Bì village");
* :data:`ENGLISH_ABBREVIATIONS` - short forms of English unit words ("Dist.", "Prov.", "Com.");
* :data:`ABBREVIATIONS` - short forms (X., P., TT, TX, TP, H., T., TK, KDC, TDP, KP,
  QL, ĐT, TL, HL, SN...) with what they expand to, before a word or before a number;
* :data:`ENGLISH_FILLERS`, :data:`VIETNAMESE_FILLERS`, :data:`FILLER_PHRASES` - words that join
  the parts of an address ("in", "of", "thuộc", "tại", "địa phận") and name nothing;
* :func:`canonical_i` - the y/i spelling variant (Mỵ/Mị, Kỳ/Kì, Lý/Lí);
* :data:`MUONG_TONES`, :data:`MUONG_SPELLINGS` - how the Mường script of Hòa Bình writes
  what Vietnamese writes otherwise ("xa̭ Pa̒ Ko̒" is "xã Pà Cò");
  :func:`addresses.text.canonical_tones` handles the tone placement (Hoà/Hòa);
* :data:`FOLD_TABLE` - the fold (marks removed, đ -> d);
* :class:`UnitLevel` - the levels of units and of address parts.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Final


class UnitLevel(IntEnum):
    """Level of an address component, coarsest first (the geocoder compares them as integers)."""

    PROVINCE = 1
    DISTRICT = 2
    COMMUNE = 3
    VILLAGE = 4
    STREET = 5
    ALLEY = 6
    HOUSE = 7

    @property
    def key(self) -> str:
        """The level's name in parsed addresses and API answers.

        >>> UnitLevel.HOUSE.key, UnitLevel.COMMUNE.key
        ('house_number', 'commune')
        """
        return "house_number" if self is UnitLevel.HOUSE else self.name.lower()


class Reach(Enum):
    """Where a unit word counts as one."""

    ANYWHERE = 1
    """With or without marks, anywhere in a part."""
    MARKED = 2
    """Anywhere when written with its marks; unmarked only at a boundary ("ban" may be a name)."""
    BOUNDARY = 3
    """Only at a boundary: the start of a part or after a number."""


@dataclass(frozen=True, slots=True)
class UnitTerm:
    """A Vietnamese unit word: canonical spelling (lower case, NFC), level and how it is read.

    ``numbered``: a unit word only before a number ("tổ 3", "quốc lộ 6", "số 5");
    ``open_name``: a number does not end its name ("đường 3 tháng 2"); ``city``: "thành
    phố", a district or a centrally-run city; ``admin``: a type of administrative unit
    (official names start with it: "Xã Mai Hạ"); ``typo_prone``: one slip accepted.
    """

    word: str
    level: UnitLevel
    english: str
    reach: Reach = Reach.ANYWHERE
    numbered: bool = False
    open_name: bool = False
    city: bool = False
    admin: bool = False
    typo_prone: bool = False


@dataclass(frozen=True, slots=True)
class EnglishTerm:
    """An English unit word, written after the name it qualifies ("Mai Hạ commune").

    ``types``: the Vietnamese unit words it translates ("commune" is xã, "ward" phường,
    "township" thị trấn); empty when it translates any unit word of its level ("village").
    ``typo_prone``: one slip accepted ("villafe", "comune"), after a name.
    """

    word: str
    level: UnitLevel
    types: tuple[str, ...] = ()
    typo_prone: bool = False


@dataclass(frozen=True, slots=True)
class Abbreviation:
    """A short form (lower case, without its dot) and its expansions.

    ``word``: what it stands for before a name ("x. tân mai"); ``number``: before a
    number ("p5", "ql6"); either may be empty.
    """

    short: str
    word: str = ""
    number: str = ""


_P, _D, _C, _V = UnitLevel.PROVINCE, UnitLevel.DISTRICT, UnitLevel.COMMUNE, UnitLevel.VILLAGE
_S, _A, _H = UnitLevel.STREET, UnitLevel.ALLEY, UnitLevel.HOUSE
_MARKED, _EDGE = Reach.MARKED, Reach.BOUNDARY

UNIT_TERMS: Final[tuple[UnitTerm, ...]] = (
    UnitTerm("tỉnh", _P, "Province", admin=True),
    UnitTerm("thành phố", _D, "City", city=True, admin=True, typo_prone=True),
    UnitTerm("huyện", _D, "District", admin=True, typo_prone=True),
    UnitTerm("thị xã", _D, "Town", admin=True),
    UnitTerm("quận", _D, "District", _MARKED, admin=True),
    UnitTerm("đặc khu", _D, "Special Zone", admin=True),
    UnitTerm("xã", _C, "Commune", admin=True),
    UnitTerm("phường", _C, "Ward", admin=True, typo_prone=True),
    UnitTerm("thị trấn", _C, "Township", admin=True),
    UnitTerm("tổ dân phố", _V, "Residential Group"),
    UnitTerm("khu dân cư", _V, "Residential Area"),
    UnitTerm("khu phố", _V, "Quarter"),
    UnitTerm("tiểu khu", _V, "Zone"),
    UnitTerm("xóm", _V, "Hamlet"),
    UnitTerm("thôn", _V, "Village", _MARKED),
    UnitTerm("bản", _V, "Village", _MARKED),
    UnitTerm("làng", _V, "Village", _MARKED),
    UnitTerm("khu", _V, "Zone", _MARKED),
    UnitTerm("ấp", _V, "Hamlet", _MARKED),
    UnitTerm("khóm", _V, "Hamlet", _MARKED),
    UnitTerm("buôn", _V, "Village", _MARKED),
    UnitTerm("tổ", _V, "Group", numbered=True),
    UnitTerm("quốc lộ", _S, "National Road", numbered=True),
    UnitTerm("tỉnh lộ", _S, "Provincial Road", numbered=True),
    UnitTerm("huyện lộ", _S, "District Road", numbered=True),
    UnitTerm("đường tỉnh", _S, "Provincial Road", numbered=True),
    UnitTerm("đại lộ", _S, "Avenue", _MARKED, open_name=True),
    UnitTerm("đường", _S, "Street", _MARKED, open_name=True),
    UnitTerm("phố", _S, "Street", _MARKED, open_name=True),
    UnitTerm("ngõ", _A, "Lane", _MARKED),
    UnitTerm("ngách", _A, "Alley", _MARKED),
    UnitTerm("hẻm", _A, "Alley", _MARKED),
    UnitTerm("kiệt", _A, "Alley", _MARKED),
    UnitTerm("số nhà", _H, "House Number", _EDGE, numbered=True),
    UnitTerm("số", _H, "Number", _EDGE, numbered=True),
    UnitTerm("nhà", _H, "House", _EDGE, numbered=True),
)
"""Every Vietnamese unit word, coarsest level first."""

ENGLISH_TERMS: Final[tuple[EnglishTerm, ...]] = (
    EnglishTerm("province", _P, ("tỉnh",), typo_prone=True),
    EnglishTerm("district", _D, ("huyện", "quận", "thị xã"), typo_prone=True),
    EnglishTerm("city", _D, ("thành phố",)),
    EnglishTerm("commune", _C, ("xã",), typo_prone=True),
    EnglishTerm("ward", _C, ("phường",)),
    EnglishTerm("town", _C, ("thị trấn",)),
    EnglishTerm("township", _C, ("thị trấn",), typo_prone=True),
    EnglishTerm("village", _V, typo_prone=True),
    EnglishTerm("hamlet", _V, typo_prone=True),
    EnglishTerm("residential group", _V),
    EnglishTerm("residential area", _V),
    EnglishTerm("street", _S),
    EnglishTerm("road", _S),
)
"""English unit words; they follow the name ("Tân Mai commune, Mai Châu district")."""

ENGLISH_ABBREVIATIONS: Final[tuple[Abbreviation, ...]] = (
    Abbreviation("dist", word="district"),
    Abbreviation("prov", word="province"),
    Abbreviation("comm", word="commune"),
    Abbreviation("com.", word="commune"),
)
"""Short forms of English unit words, after a name ("Mai Chau Dist., Hoa Binh Prov.", "Tan Mai Com.").
A short form ending in a dot is one only with it ("Com Hamlet" is the hamlet Cóm)."""

ABBREVIATIONS: Final[tuple[Abbreviation, ...]] = (
    Abbreviation("t", word="tỉnh"),
    Abbreviation("tp", word="thành phố"),
    Abbreviation("tx", word="thị xã"),
    Abbreviation("h", word="huyện", number="hẻm"),
    Abbreviation("q", word="quận", number="quận"),
    Abbreviation("x", word="xã"),
    Abbreviation("p", word="phường", number="phường"),
    Abbreviation("tt", word="thị trấn"),
    Abbreviation("tdp", word="tổ dân phố", number="tổ dân phố"),
    Abbreviation("kdc", word="khu dân cư"),
    Abbreviation("kp", word="khu phố", number="khu phố"),
    Abbreviation("tk", word="tiểu khu", number="tiểu khu"),
    Abbreviation("đ", word="đường", number="đường"),
    Abbreviation("đg", word="đường", number="đường"),
    Abbreviation("ql", number="quốc lộ"),
    Abbreviation("tl", number="tỉnh lộ"),
    Abbreviation("hl", number="huyện lộ"),
    Abbreviation("đt", number="đường tỉnh"),
    Abbreviation("dt", number="đường tỉnh"),
    Abbreviation("k", number="kiệt"),
    Abbreviation("ng", number="ngõ"),
    Abbreviation("ngh", number="ngách"),
    Abbreviation("sn", number="số nhà"),
)
"""Abbreviations of unit words (written with or without a dot: "X.", "TT", "QL6")."""

ROAD_ABBREVIATIONS: Final = frozenset({"ql", "tl", "hl", "đt", "dt"})
"""The abbreviations of numbered roads: expanded before a number even when glued to it ("QL6")."""

ENGLISH_FILLERS: Final = frozenset(
    {
        "of",
        "in",
        "the",
        "to",
        "and",
        "at",
        "near",
        "now",
        "is",
        "on",
        "by",
        "from",
        "located",
        "belongs",
        "part",
    }
)
"""English words that join the parts of an address and name nothing ("X hamlet of Y commune").

"to" before a number is the unit word tổ ("to 5"); only elsewhere is it a filler."""

VIETNAMESE_FILLERS: Final = frozenset({"thuộc", "tại", "ở", "là", "cũ", "gần", "trên", "và", "đã"})
"""Vietnamese words that join the parts of an address ("xóm Rằng thuộc xã Cao Sơn"), with their
marks (unmarked, "tai", "o", "la" may be names)."""

FILLER_PHRASES: Final = (("dia", "phan"), ("dia", "ban"), ("doan", "qua"))
"""Folded phrases that join the parts of an address and name nothing: "địa phận", "địa bàn" (the
territory of: "thuộc địa phận xã Mai Châu", "nằm trên địa bàn Mai Châu commune"), "đoạn qua" (the
stretch through). Read with or without marks: no name of a place holds one."""

LANDMARK_NOUNS: Final = (
    ("hồ",),
    ("hồ", "chứa"),
    ("đập",),
    ("thủy", "điện"),
    ("nhà", "máy", "thủy", "điện"),
    ("suối",),
    ("suối", "khoáng"),
    ("suối", "khoáng", "nóng"),
    ("suối", "nước", "nóng"),
    ("thác",),
    ("hang",),
    ("động",),
    ("đèo",),
    ("núi",),
    ("chợ",),
    ("cầu",),
    ("bến",),
    ("nhà", "máy"),
    ("trường",),
    ("chùa",),
    ("đền",),
    ("khu", "du", "lịch"),
)
"""Common nouns of a landmark, with their marks ("hồ", the lake; "suối khoáng", the mineral spring):
before a place name ("hồ Hòa Bình", "suối khoáng Kim Bôi") they name a feature and the name after them
is where it is. Many are also the first word of village names ("Suối Nội", "Chợ Bến"), so they stay
names; only read with other marks ("Hố" for "hồ", "Khoang" for "khoáng") they are no name."""

CONFUSED_INITIALS: Final = (frozenset("sx"), frozenset("dgrv"), frozenset("ln"), frozenset("ckq"))
"""First letters Vietnamese writers mix up (s/x, d/gi/r/v, l/n, c/k/q: regional speech and the
Mường spelling, "Lạc Xơn" for Lạc Sơn). Another first letter makes another word, not a slip:
"Rằng" is not "Hang"."""


def initials_confusable(first: str, other: str) -> bool:
    """Whether two first letters (folded, lower case) may stand for one another in a misspelt word.

    >>> initials_confusable("x", "s"), initials_confusable("r", "d"), initials_confusable("r", "h")
    (True, True, False)
    """
    return first == other or any(first in group and other in group for group in CONFUSED_INITIALS)


ADDRESS_LABELS: Final = ("địa chỉ", "đ/c", "đc", "dia chi", "d/c", "address", "addr", "add")
"""Labels written before an address ("Địa chỉ: xóm Lác", "Đ/c: ...", "Address: ..."): they name
nothing. Lower case, NFC; each reads as a label only at the start of the text and before a colon
("địa chỉ" and "address" also without it)."""

PHONE_LABELS: Final = (
    "điện thoại", "dien thoai", "đt", "dt", "sđt", "sdt", "đtdđ", "dđ", "di động", "tel", "phone",
    "mobile", "hotline", "fax",
)  # fmt: skip
"""Labels written before a telephone number after an address ("- ĐT: 0218 3xx xxxx", ", Tel: +84 ...");
"ĐT"/"DT" is also the đường tỉnh of "ĐT 433", which a telephone number's nine digits or more tell apart."""

CAPTION_LABELS: Final = ("ảnh", "photo", "nguồn", "source", "ảnh minh họa", "ảnh tư liệu")
"""Labels of a photo caption or a source left after an address copied from a news page ("(Ảnh: TL)",
". Ảnh: Minh Anh", "(Photo: VNA)", "Nguồn: ..."): the label, a colon and what follows name nothing
(to the closing bracket or the end). Lower case, NFC; "ảnh" only with its mark ("Anh" is a name)."""

UNIT_DESCRIPTORS: Final = (
    "vùng cao",
    "vùng sâu",
    "vùng xa",
    "vùng sâu vùng xa",
    "vùng sâu, vùng xa",
    "vùng cao biên giới",
    "vùng thấp",
    "vùng khó khăn",
    "miền núi",
    "đặc biệt khó khăn",
    "khó khăn",
    "nghèo",
    "nông thôn mới",
    "nông thôn mới kiểu mẫu",
    "nông thôn mới nâng cao",
    "đạt chuẩn nông thôn mới",
    "ven đô",
    "ngoại thành",
    "nội thành",
    "thuần nông",
    "trung du",
    "anh hùng",
)
"""Words news text writes between a unit word and the unit's name ("xã vùng cao Pà Cò", "huyện miền núi
Lạc Sơn", "xã đặc biệt khó khăn Tân Pheo"), lower case, NFC: they describe the unit and name nothing."""

PERSON_TITLES: Final = (
    "ông",
    "bà",
    "anh",
    "chị",
    "em",
    "cháu",
    "cụ",
    "cô",
    "thầy",
    "đồng chí",
    "bí thư",
    "chủ tịch",
    "phó chủ tịch",
    "trưởng thôn",
    "trưởng xóm",
    "trưởng bản",
    "gia đình",
    "hộ",
    "nghệ nhân",
    "già làng",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mr.",
    "mrs.",
    "ms.",
)
"""Words written before a person's name in news text ("gia đình ông Bùi Văn Hòa", "Mr. Bui Van Hoa"), lower
case, NFC: a capitalised name of a :data:`SURNAMES` surname after one of them is a person, not a place."""

SURNAMES: Final = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Quách",
    "Hà",
    "Xa",
    "Sa",
    "Lò",
    "Lường",
    "Vì",
    "Cầm",
    "Mùa",
    "Giàng",
    "Thào",
    "Sùng",
    "Lưu",
    "Trương",
    "Tạ",
    "Đoàn",
    "Kiều",
)
"""Common Vietnamese surnames, and those of the Mường, Thái and H'Mông of Hòa Bình (Bùi, Đinh, Quách, Xa,
Sa, Lò, Vì, Cầm, Giàng...), as written with marks. After a title (:data:`PERSON_TITLES`) they start a
person's name: "ông Bùi Văn Hòa" names no commune Hòa Bình. Not Mai nor Cao, the first words of Mai
Châu, Cao Phong and Cao Sơn."""

CAPTION_NOTES: Final = (
    "ảnh minh họa",
    "ảnh tư liệu",
    "illustrative photo",
    "illustrative image",
    "file photo",
)
"""Captions written alone in brackets after an address ("(Ảnh minh họa)"): they name nothing."""

COMPASS_POINTS: Final = ("đông", "tây", "nam", "bắc", "dong", "tay", "bac")
"""The compass points in Vietnamese, with their marks and without ("phía tây", "tây bắc"; "nam" is both)."""
COMPASS_POINTS_ENGLISH: Final = ("north", "south", "east", "west")
"""The compass points in English ("northwest", "north-west", "south east" are read from them)."""
ABOUT_WORDS: Final = (
    "khoảng",
    "chừng",
    "hơn",
    "gần",
    "tầm",
    "độ",
    "trên",
    "ước",
    "khoang",
    "chung",
    "hon",
    "gan",
)
"""Words before a distance in Vietnamese ("khoảng 20 km", about 20 km), with their marks and without."""
ABOUT_WORDS_ENGLISH: Final = (
    "about",
    "around",
    "some",
    "nearly",
    "approximately",
    "roughly",
    "over",
    "almost",
)
"""Words before a distance in English ("about 15 km")."""
REFERENCE_UNIT_WORDS: Final = (
    "thành phố",
    "thị xã",
    "thị trấn",
    "trung tâm huyện",
    "trung tâm thành phố",
    "trung tâm tỉnh",
    "tỉnh",
    "thanh pho",
)
"""The words that open a place of reference after a compass point ("phía tây thành phố Hòa Bình", west of the
city): the places news measures from, lower case. Not the centre of a commune ("trung tâm xã"): a village
placed from it is in that commune."""
OWN_CENTRES: Final = (
    "trung tâm xã",
    "trung tâm phường",
    "trung tâm thị trấn",
    "ubnd xã",
    "ủy ban nhân dân xã",
)
"""The places of reference that are the address's own commune: "bản Lác, cách trung tâm xã Chiềng Châu 3 km"
is in Chiềng Châu, so that reference stays (lower case, with marks and without)."""

NEAR_WORDS: Final = ("gần", "giáp", "giáp ranh", "cạnh", "bên cạnh", "sát", "đối diện", "kề", "liền kề")
"""Vietnamese words placing an address near or beside another unit ("giáp huyện Lương Sơn"), with their marks
(without them, "gan", "giap", "canh" may be names)."""
NEAR_WORDS_ENGLISH: Final = (
    "near",
    "next to",
    "close to",
    "beside",
    "bordering",
    "adjacent to",
    "not far from",
)
"""English words placing an address near another unit ("near Mai Chau town")."""
NEAR_UNIT_WORDS: Final = (
    "huyện",
    "xã",
    "phường",
    "thị trấn",
    "thành phố",
    "thị xã",
    "tỉnh",
    "trung tâm huyện",
    "trung tâm thành phố",
    "trung tâm tỉnh",
)
"""The unit words opening the place named after a near word ("gần thị trấn Mai Châu"); a landmark ("gần chợ
Mai Châu") stays: it is where the address is."""
NEAR_UNIT_WORDS_ENGLISH: Final = ("town", "city", "district", "province", "commune", "township", "ward")
"""The English unit words closing the place named after a near word ("near Mai Chau town")."""

PROVINCE_CODES: Final = {"hb": "hòa bình"}
"""Province abbreviations expanded where they cannot be a name ("TP.HB", "tỉnh HB")."""

REORGANISATION_2025: Final = dt.date(2025, 7, 1)


# --- derived tables -----------------------------------------------------------------


ADMIN_UNIT_WORDS: Final = tuple(term.word for term in UNIT_TERMS if term.admin)
"""Types of administrative units, as official names start with them ("thị trấn", "xã")."""

ENGLISH_UNIT_NAMES: Final = {term.word: term.english for term in UNIT_TERMS if term.admin}
"""English names of the administrative unit types ("xã" -> "Commune")."""


def _build_fold_table() -> dict[int, str | None]:
    """Translate table: accented Latin letter -> ASCII base (case kept), combining mark -> deleted."""
    table: dict[int, str | None] = {}
    for code in (*range(0xC0, 0x250), *range(0x1EA0, 0x1F00)):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii():
            table[code] = base
    table[ord("đ")] = "d"
    table[ord("Đ")] = "D"
    for code in range(0x300, 0x370):
        table[code] = None
    return table


FOLD_TABLE: Final = _build_fold_table()
"""The fold for ``str.translate``: "Đồng Bảng" -> "Dong Bang"."""


def _lower_fold_pairs() -> tuple[str, str]:
    """Every accented letter (and đ) with its plain lower-case letter, as two aligned strings."""
    sources, targets = ["đĐ"], ["dd"]
    for point in range(0xC0, 0x1EFA):
        char = chr(point)
        base = unicodedata.normalize("NFD", char)[0]
        if base != char and base.isascii() and base.isalpha():
            sources.append(char)
            targets.append(base.lower())
    return "".join(sources), "".join(targets)


FOLD_FROM, FOLD_TO = _lower_fold_pairs()
"""The fold as two aligned strings (for SQL ``translate``), targets lower case."""

_Y_AS_I_RE: Final = re.compile(
    r"(?<![^\W\d_])((?:[bcdđghklmnprstvx]|ch|kh|nh|ph|th|tr))([yýỳỷỹỵ])(?![^\W\d_])",
    re.IGNORECASE,
)
_Y_TO_I: Final = str.maketrans("yýỳỷỹỵYÝỲỶỸỴ", "iíìỉĩịIÍÌỈĨỊ")


def canonical_i(text: str) -> str:
    """Write a syllable-final "y" after a consonant as "i" (the two spellings are the same word).

    "Mỵ Hòa" is "Mị Hòa", "Kỳ Sơn" is "Kì Sơn", "Lý" is "Lí"; "uy", "ay" are other vowels.

    >>> canonical_i("xã Mỵ Hòa, Kỳ Sơn, Thủy, Quý, Hy")
    'xã Mị Hòa, Kì Sơn, Thủy, Quý, Hi'
    """
    if "y" not in text and "Y" not in text and not any(c in text for c in "ýỳỷỹỵÝỲỶỸỴ"):
        return text
    return _Y_AS_I_RE.sub(lambda m: m.group(1) + m.group(2).translate(_Y_TO_I), text)


# --- the Mường script ---------------------------------------------------------------

MUONG_MARKS: Final = frozenset({"\u0312", "\u032d"})
"""The tone marks only the Mường script of Hòa Bình uses (QĐ 2295/QĐ-UBND, 8 September 2016):
a turned comma above (U+0312) and a circumflex below (U+032D). A text with either is Mường."""

MUONG_TONES: Final = {
    "\u0312": "\u0300",  # turned comma above: the tone Vietnamese writes with a grave (Pa̒ = Pà)
    "\u032d": "",  # circumflex below: Vietnamese writes a tilde or a dot below (xa̭ = xã, La̭c = Lạc)
    "\u0309": "\u0301",  # hook above: Vietnamese writes an acute (xỏm = xóm, lởn = lớn)
    "\u0301": "\u0309",  # acute: Vietnamese writes a hook above (Vṷ Bán = Vụ Bản)
}
"""Mường tone marks (NFD combining characters) -> the Vietnamese mark of the same word ("" when
the Mường mark stands for two Vietnamese tones: the letter is left unmarked, which matches both)."""

MUONG_SPELLINGS: Final[tuple[tuple[str, str], ...]] = (
    (r"(?<![^\W\d_])tl", "tr"),  # tlẩn = trấn
    (r"(?<![^\W\d_])f", "ph"),  # Fo̒n = Phòn
    (r"(?<![^\W\d_])k(?=[aou])", "c"),  # Ko̒ = Cò: Vietnamese writes c before a, o, u
    (r"(?<=[aeiouy\u0300-\u036f])w(?![^\W\d_])", "u"),  # Châw = Châu
)
"""Mường spellings (patterns on NFD text: base letters, then their marks) -> the Vietnamese
spelling of the same sound."""

UNMARKED_MUONG_SPELLINGS: Final[tuple[tuple[str, str], ...]] = (
    (r"(?<![^\W\d_])tl(?=[aeiouy])", "tr"),  # thi tlan = thị trấn: no name of Hòa Bình starts "tl"
)
"""The Mường spellings read even in text without any mark (typed so, or its marks removed):
only those no name of Hòa Bình nor English word of an address has ("tl" before a vowel; not
"tl 433", the tỉnh lộ, nor "f", which English words have)."""
