"""One validation of address text and coordinates, shared by the importers and the API edits.

The rules, whichever path a value comes by:

* text fits its field: a house number at most ``MAX_LENGTHS["house_number"]`` characters,
  every other part (alley, street, village, names) at most ``MAX_TEXT``;
* text holds no control character (C0 other than tab, line feed and carriage return,
  DEL, C1) and no unpaired surrogate: NUL cannot even be stored;
* text holds no invisible formatting: bidi controls (U+200E/F, U+202A-U+202E,
  U+2066-U+2069) make "12" + U+202E + "34" read "1243" on a label, and zero-width
  characters, the BOM and the soft hyphen (U+200B-U+200D, U+2060, U+FEFF, U+00AD) make
  equal-looking texts differ. An edit refuses them (the editor retypes); an import
  strips them and says so, row by row, in its report (a file is fixed at its source);
* a coordinate is a real, finite number (JSON ``true`` is not 1.0; NaN and infinity
  are refused alike).
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Final

import numpy as np
import shapely
from numpy.typing import NDArray

from addresses.errors import InvalidParameterError
from addresses.limits import MAX_TEXT

"""The longest address part or name (alley, street, village, place or unit name)."""
MAX_LENGTHS: Final[dict[str, int]] = {"house_number": 32}
"""Fields with a limit other than MAX_TEXT (house numbers are short: 12A, 40bis, 1806/127/2)."""

BIDI_CONTROLS: Final = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""Marks and embeddings that reorder text when it is displayed."""
INVISIBLE: Final = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
"""Zero-width characters, the byte-order mark and the soft hyphen."""
_FORMATTING: Final = re.compile(f"[{BIDI_CONTROLS}{INVISIBLE}]")
_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
FORMATTING_PATTERN: Final = _FORMATTING.pattern
"""A regular expression matching one invisible formatting character (for vectorised search)."""
CONTROL_PATTERN: Final = _CONTROL.pattern
"""A regular expression matching one forbidden control character or unpaired surrogate."""


def max_length(field: str) -> int:
    """Return the most characters ``field`` may hold.

    >>> max_length("house_number"), max_length("street")
    (32, 200)
    """
    return MAX_LENGTHS.get(field, MAX_TEXT)


def describe(char: str) -> str:
    """Name a character by code point and Unicode name.

    >>> describe("\\u202e"), describe("\\x00")
    ('U+202E (RIGHT-TO-LEFT OVERRIDE)', 'U+0000 (NUL)')
    """
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "control")
    return f"U+{ord(char):04X} ({name})"


_CONTROL_NAMES: Final = {"\x00": "NUL", "\x7f": "DELETE"}


def formatting_characters(text: str) -> list[str]:
    """Return the invisible formatting characters of ``text``, each once, in order.

    >>> formatting_characters("12\\u202e34\\u200b\\u202e")
    ['\\u202e', '\\u200b']
    """
    return list(dict.fromkeys(_FORMATTING.findall(text)))


def strip_formatting(text: str) -> str:
    """Return ``text`` without its invisible formatting characters.

    >>> strip_formatting("12\\u202e34\\ufeff")
    '1234'
    """
    return _FORMATTING.sub("", text)


def text_problem(field: str, text: str) -> str | None:
    """Say what is wrong with ``text`` as a value of ``field`` (formatting aside), or None.

    >>> text_problem("house_number", "12A") is None
    True
    >>> text_problem("house_number", "9" * 40)
    '40 characters, at most 32'
    >>> text_problem("street", "a\\x00b")
    'contains the control character U+0000 (NUL)'
    """
    control = _CONTROL.search(text)
    if control is not None:
        return f"contains the control character {describe(control.group())}"
    limit = max_length(field)
    if len(text) > limit:
        return f"{len(text)} characters, at most {limit}"
    return None


def check_text(field: str, text: str) -> str:
    """Return ``text`` if it may be stored in ``field``; raise InvalidParameterError naming it.

    Invisible formatting is refused here (an edit); importers strip it with a note.

    >>> check_text("street", "Trần Hưng Đạo")
    'Trần Hưng Đạo'
    >>> check_text("house_number", "12\\u202e34")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidParameterError: house_number: contains invisible formatting U+202E (RIGHT...
    """
    problem = text_problem(field, text)
    if problem is None and (found := formatting_characters(text)):
        problem = "contains invisible formatting " + ", ".join(describe(char) for char in found)
    if problem is not None:
        raise InvalidParameterError(field, problem)
    return text


def finite_number(field: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite number; raise InvalidParameterError naming ``field``.

    Booleans are not numbers; NaN and infinity are refused alike. (Ranges are the
    caller's: a code grid, a schema.)

    >>> finite_number("lon", 105), finite_number("lat", 20.8)
    (105.0, 20.8)
    >>> finite_number("lon", True)
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidParameterError: lon: must be a number, not bool
    >>> finite_number("lat", float("inf"))
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidParameterError: lat: must be a finite number, got inf
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(field, f"must be a number, not {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidParameterError(field, f"must be a finite number, got {number}")
    return number


def non_finite(geoms: NDArray[np.object_]) -> NDArray[np.bool_]:
    """Return, per geometry, whether any of its coordinates is NaN or infinite (vectorised).

    >>> non_finite(np.array([shapely.Point(1, 2), shapely.Point(np.inf, 0), None], dtype=object))
    array([False,  True, False])
    """
    coordinates, rows = shapely.get_coordinates(geoms, include_z=True, return_index=True)
    bad = np.zeros(len(geoms), dtype=bool)
    finite = np.isfinite(coordinates[:, :2]).all(axis=1)  # a 2D geometry's z is NaN
    bad[rows[~finite]] = True
    return bad
