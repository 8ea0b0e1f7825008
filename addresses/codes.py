"""Digital address codes: location codes (mã vị trí) and registry codes (mã địa chỉ số).

Pure functions, no database. The full specification is ``docs/codes.md``; in short:

* A **location code** names a cell of a fixed grid over the box
  102°E-118°E x 5.5°N-23.5°N (WGS84), which holds the mainland, Hoàng Sa and
  Trường Sa. Each axis is split 4 times into 31 parts (31**4 = 923,521 columns
  and rows); the 8 data characters alternate longitude and latitude digits,
  most significant first, so dropping trailing characters gives the enclosing
  cell. A full code is 8 data characters + 1 check character = 9 characters, for a
  cell of at most 1.92 m x 2.16 m. The alphabet has 31 symbols without look-alikes
  (no 0/O, 1/I/L); the check is ``sum(i * value_i) mod 31`` over data positions
  i = 1..k, which catches every single substitution and every transposition of
  two characters (adjacent or not). Codes are printed in groups of three:
  ``"8VG-DHS-6HB"``.
* A **registry code** is a 9-digit serial + a Damm check digit (10 digits),
  printed ``"1234-567-894"``.

Scalar functions work on ``str``; the ``*_array`` functions take numpy arrays and
return fixed-width bytes arrays (dtype ``S9`` / ``S10``); both paths give
identical results.

>>> code = encode(105.338, 20.817)
>>> code, format_location_code(code)
('8VGDHS6HB', '8VG-DHS-6HB')
>>> decode("8vg dhs-6hb").contains(105.338, 20.817)
True
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Final, Literal, NamedTuple

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from addresses.errors import InvalidCodeError, OutOfTerritoryError, Slip

__all__ = [
    "ALPHABET",
    "DAMM_TABLE",
    "MAX_LENGTH",
    "MAX_SERIAL",
    "REGISTRY_LENGTH",
    "TERRITORY",
    "BoundingBox",
    "Cell",
    "CellArrays",
    "CodeKind",
    "CoverMode",
    "Direction",
    "OnError",
    "ParsedCode",
    "cover_polygon",
    "damm_check_digit",
    "decode",
    "decode_array",
    "encode",
    "encode_array",
    "format_location_code",
    "format_registry_code",
    "is_valid_location_code",
    "is_valid_registry_code",
    "neighbours",
    "normalise_location_code",
    "normalise_registry_code",
    "parse_any_code",
    "registry_code",
    "registry_codes_array",
    "registry_serial",
    "truncate",
]

CodeArray = NDArray[np.bytes_]
FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.int32]
OnError = Literal["raise", "mask"]
CoverMode = Literal["intersects", "centre"]
CodeKind = Literal["location", "registry"]
Direction = Literal["N", "NE", "E", "SE", "S", "SW", "W", "NW"]


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """A lon/lat box in WGS84 degrees, west/south edges inclusive, east/north exclusive."""

    west: float
    south: float
    east: float
    north: float


# --------------------------------------------------------------------------- grid

TERRITORY: Final = BoundingBox(west=102.0, south=5.5, east=118.0, north=23.5)
"""The box covered by location codes: Vietnam's mainland, Hoàng Sa and Trường Sa."""

ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""The 31 symbols of location codes, value 0..30 in this order (no 0/O, 1/I/L)."""

BASE: Final = len(ALPHABET)
MAX_LENGTH: Final = 8
"""Data characters of a full code (the printed code has one more: the check)."""

DIVISIONS: Final = BASE**4
"""Columns (and rows) of the finest grid: 923,521."""

_LON_SPAN: Final = TERRITORY.east - TERRITORY.west
_LAT_SPAN: Final = TERRITORY.north - TERRITORY.south
_PLACE: Final = (BASE**3, BASE**2, BASE, 1)
_UNIT: Final = (BASE**4, BASE**3, BASE**2, BASE, 1)
_VALUE: Final = {char: value for value, char in enumerate(ALPHABET)}
_SEPARATORS: Final = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_UPPER: Final = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_LOOK_ALIKES: Final = {
    "0": "0 and O are not used",
    "O": "0 and O are not used",
    "1": "1, I and L are not used",
    "I": "1, I and L are not used",
    "L": "1, I and L are not used",
}
_TERRITORY_TEXT: Final = f"{TERRITORY.west}..{TERRITORY.east}°E x {TERRITORY.south}..{TERRITORY.north}°N"

# vector lookup tables
_ALPHABET_BYTES: Final = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
_PAIR_HIGH: Final = (np.arange(BASE * BASE) // BASE).astype(np.uint8)
_PAIR_LOW: Final = (np.arange(BASE * BASE) % BASE).astype(np.uint8)
_PAD: Final = 254
_BAD: Final = 255
_CHUNK: Final = 1 << 16


def _decode_table() -> NDArray[np.uint8]:
    """Map every byte to its symbol value, 254 for NUL padding, 255 for invalid."""
    table = np.full(256, _BAD, dtype=np.uint8)
    for value, char in enumerate(ALPHABET):
        table[ord(char)] = table[ord(char.lower())] = value
    table[0] = _PAD
    return table


_DECODE: Final = _decode_table()


@dataclass(frozen=True, slots=True)
class Cell:
    """One grid cell: canonical code, data length, centre and bounds in degrees."""

    code: str
    length: int
    lon: float
    lat: float
    west: float
    south: float
    east: float
    north: float

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Return ``(west, south, east, north)``, like shapely's ``bounds``."""
        return (self.west, self.south, self.east, self.north)

    def contains(self, lon: float, lat: float) -> bool:
        """Tell whether the point lies in the cell (west/south inclusive, east/north not)."""
        return self.west <= lon < self.east and self.south <= lat < self.north


@dataclass(frozen=True, slots=True)
class CellArrays:
    """Decoded cells as parallel arrays; masked rows hold NaN and length 0."""

    lon: FloatArray
    lat: FloatArray
    west: FloatArray
    south: FloatArray
    east: FloatArray
    north: FloatArray
    length: NDArray[np.int8]


# ------------------------------------------------------------- shared helpers


def _compact(text: str) -> str:
    """Drop spaces and dashes and upper-case ASCII letters of typed text.

    >>> _compact(" 8vg-dhs 6hb ")
    '8VGDHS6HB'
    """
    return _SEPARATORS.sub("", text).translate(_UPPER)


def _axis_digits(length: int) -> tuple[int, int]:
    """Return how many longitude and latitude digits a code of ``length`` data chars has."""
    return (length + 1) // 2, length // 2


def _units(length: int) -> tuple[int, int]:
    """Return the cell width and height of a ``length`` code, in finest-grid units."""
    lon_digits, lat_digits = _axis_digits(length)
    return _UNIT[lon_digits], _UNIT[lat_digits]


def _check_length(length: int) -> None:
    """Reject a data length outside 1..8 (a programming error, not a typo)."""
    if not 1 <= length <= MAX_LENGTH:
        raise ValueError(f"length must be 1..{MAX_LENGTH} data characters, got {length}")


def _check_on_error(on_error: str) -> None:
    """Reject an unknown ``on_error`` option."""
    if on_error not in ("raise", "mask"):
        raise ValueError(f"on_error must be 'raise' or 'mask', got {on_error!r}")


def _edge(index: int, low: float, span: float) -> float:
    """Return the west (south) edge of finest column (row) ``index``: the grid's definition."""
    return low + index * span / DIVISIONS


def _centre(index: int, unit: int, low: float, span: float) -> float:
    """Return the centre of the cell starting at finest ``index`` and ``unit`` wide."""
    return low + (2 * index + unit) * span / (2 * DIVISIONS)


def _axis_index(value: float, low: float, span: float) -> int:
    """Return the finest column (row) ``i`` with ``_edge(i) <= value < _edge(i + 1)``."""
    index = min(int((value - low) * (DIVISIONS / span)), DIVISIONS - 1)
    if _edge(index, low, span) > value:
        index -= 1
    elif _edge(index + 1, low, span) <= value:
        index += 1
    return index


def _is_inside(lon: float, lat: float) -> bool:
    """Tell whether a point lies in the territory box (NaN never does)."""
    box = TERRITORY
    return box.west <= lon < box.east and box.south <= lat < box.north


# ---------------------------------------------------------- scalar location codes


def _check_value(values: Iterable[int]) -> int:
    """Return the check value ``sum(i * v_i) mod 31`` over data values, i from 1.

    >>> _check_value([0, 0, 1])
    3
    """
    return sum(weight * value for weight, value in enumerate(values, start=1)) % BASE


def _spell(values: list[int]) -> str:
    """Write data values as a canonical code with its check character."""
    return "".join(ALPHABET[value] for value in values) + ALPHABET[_check_value(values)]


def _digits(x: int, y: int, length: int) -> list[int]:
    """Interleave the base-31 digits of finest column ``x`` and row ``y`` (lon first)."""
    return [(x if i % 2 == 0 else y) // _PLACE[i // 2] % BASE for i in range(length)]


def _full_index(values: list[int]) -> tuple[int, int]:
    """Return the finest column and row of the south-west corner of a code's cell."""
    x = sum(value * _PLACE[i] for i, value in enumerate(values[0::2]))
    y = sum(value * _PLACE[i] for i, value in enumerate(values[1::2]))
    return x, y


def _require_inside(lon: float, lat: float) -> None:
    """Raise OutOfTerritoryError for a point outside the box, hinting at swapped axes."""
    if _is_inside(lon, lat):
        return
    hint = "; longitude and latitude swapped?" if _is_inside(lat, lon) else ""
    raise OutOfTerritoryError(
        f"point (lon={lon}, lat={lat}) is outside the code grid {_TERRITORY_TEXT}{hint}",
        lon=lon,
        lat=lat,
    )


def encode(lon: float, lat: float, *, length: int = MAX_LENGTH) -> str:
    """Return the canonical location code of a WGS84 point (``length`` data chars + check).

    >>> encode(105.338, 20.817)
    '8VGDHS6HB'
    >>> encode(105.338, 20.817, length=4)
    '8VGDP'
    >>> encode(20.817, 105.338)
    Traceback (most recent call last):
    ...
    addresses.errors.OutOfTerritoryError: point (lon=20.817, lat=105.338) is outside \
the code grid 102.0..118.0°E x 5.5..23.5°N; longitude and latitude swapped?
    """
    _check_length(length)
    _require_inside(lon, lat)
    x = _axis_index(lon, TERRITORY.west, _LON_SPAN)
    y = _axis_index(lat, TERRITORY.south, _LAT_SPAN)
    return _spell(_digits(x, y, length))


def _check_location_length(code: str) -> None:
    """Reject an empty, too short or too long location code."""
    if not code:
        raise InvalidCodeError(code, "empty")
    if not 2 <= len(code) <= MAX_LENGTH + 1:
        detail = f"{len(code)} characters; location codes have 2 to 9, registry codes 10 digits"
        raise InvalidCodeError(code, "wrong_length", detail=detail)


def _symbol_values(code: str) -> list[int]:
    """Return the value of each character, naming the first one not in the alphabet."""
    values = []
    for position, char in enumerate(code, start=1):
        value = _VALUE.get(char)
        if value is None:
            detail = _LOOK_ALIKES.get(char, f"{char!r} is not in the code alphabet")
            raise InvalidCodeError(code, "invalid_character", slip=Slip(position, char), detail=detail)
        values.append(value)
    return values


def _validated_values(code: str) -> list[int]:
    """Validate an upper-case code without separators; return its data values."""
    _check_location_length(code)
    values = _symbol_values(code)
    if _check_value(values[:-1]) != values[-1]:
        detail = "a character is mistyped or two characters are swapped"
        raise InvalidCodeError(code, "check_mismatch", detail=detail)
    return values[:-1]


def _data_values(text: str) -> list[int]:
    """Parse typed text into the data values of a valid location code."""
    return _validated_values(_compact(text))


def normalise_location_code(text: str) -> str:
    """Return the canonical form of a typed location code, or raise InvalidCodeError.

    Case, spaces and dashes are ignored.

    >>> normalise_location_code("8vg-dhs 6hb")
    '8VGDHS6HB'
    >>> normalise_location_code("8VG-DHS-6HC")
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidCodeError: mistyped code '8VGDHS6HC': check mismatch \
(a character is mistyped or two characters are swapped)
    >>> normalise_location_code("8VG-DHS-0HB")
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidCodeError: mistyped code '8VGDHS0HB': invalid character \
at position 7 (0 and O are not used)
    """
    return _spell(_data_values(text))


def is_valid_location_code(text: str) -> bool:
    """Tell whether typed text is a valid location code (any length).

    >>> is_valid_location_code("8VG-DHS-6HB"), is_valid_location_code("8VG-DHS-H6B")
    (True, False)
    """
    try:
        _data_values(text)
    except InvalidCodeError:
        return False
    return True


def format_location_code(text: str) -> str:
    """Return a location code in groups of three for display and reading aloud.

    >>> format_location_code("8vgdhs6hb"), format_location_code("8VGDP")
    ('8VG-DHS-6HB', '8VG-DP')
    """
    return group_location_code(normalise_location_code(text))


def group_location_code(code: str) -> str:
    """Return a canonical location code (as :func:`encode` gives it) in groups of three, unchecked.

    >>> group_location_code("8VGDHS6HB")
    '8VG-DHS-6HB'
    """
    return "-".join(code[start : start + 3] for start in range(0, len(code), 3))


def _cell(values: list[int]) -> Cell:
    """Build the Cell of valid data values."""
    x, y = _full_index(values)
    width, height = _units(len(values))
    box = TERRITORY
    return Cell(
        code=_spell(values),
        length=len(values),
        lon=_centre(x, width, box.west, _LON_SPAN),
        lat=_centre(y, height, box.south, _LAT_SPAN),
        west=_edge(x, box.west, _LON_SPAN),
        south=_edge(y, box.south, _LAT_SPAN),
        east=_edge(x + width, box.west, _LON_SPAN),
        north=_edge(y + height, box.south, _LAT_SPAN),
    )


def decode(text: str) -> Cell:
    """Return the cell of a typed location code (centre and bounds in degrees).

    >>> cell = decode("8VG-DHS-6HB")
    >>> cell.length, round(cell.lon, 6), round(cell.lat, 6)
    (8, 105.337999, 20.817008)
    >>> [round(edge, 4) for edge in decode("8VGDP").bounds]
    [105.3299, 20.8028, 105.3465, 20.8215]
    """
    return _cell(_data_values(text))


def truncate(text: str, *, length: int) -> str:
    """Return the code of the enclosing cell with ``length`` data characters.

    >>> truncate("8VG-DHS-6HB", length=4)
    '8VGDP'
    """
    _check_length(length)
    values = _data_values(text)
    if length > len(values):
        raise ValueError(f"cannot lengthen a {len(values)}-character code to {length}")
    return _spell(values[:length])


_OFFSETS: Final[dict[Direction, tuple[int, int]]] = {
    "N": (0, 1),
    "NE": (1, 1),
    "E": (1, 0),
    "SE": (1, -1),
    "S": (0, -1),
    "SW": (-1, -1),
    "W": (-1, 0),
    "NW": (-1, 1),
}


def neighbours(text: str) -> dict[Direction, str]:
    """Return the codes of the up to 8 cells around a code, at the same length.

    Cells beyond the territory box are left out (the grid does not wrap).

    >>> neighbours("8VGDP")["N"], neighbours("8VGDP")["SW"]
    ('8VGET', '8VFCF')
    >>> sorted(neighbours("22"))
    ['E']
    """
    values = _data_values(text)
    length = len(values)
    width, height = _units(length)
    x, y = _full_index(values)
    columns, rows = DIVISIONS // width, DIVISIONS // height
    found: dict[Direction, str] = {}
    for direction, (dx, dy) in _OFFSETS.items():
        column, row = x // width + dx, y // height + dy
        if 0 <= column < columns and 0 <= row < rows:
            found[direction] = _spell(_digits(column * width, row * height, length))
    return found


# ---------------------------------------------------------- vector location codes


def _edge_array(index: IndexArray, low: float, span: float) -> FloatArray:
    """Vector ``_edge``: the same IEEE operations in the same order."""
    return low + index * span / DIVISIONS


def _centre_array(index: IndexArray, unit: IndexArray, low: float, span: float) -> FloatArray:
    """Vector ``_centre``."""
    return low + (2 * index + unit) * span / (2 * DIVISIONS)


def _axis_index_array(values: FloatArray, low: float, span: float) -> IndexArray:
    """Vector ``_axis_index`` for values known to lie in the box."""
    index = ((values - low) * (DIVISIONS / span)).astype(np.int32)
    np.minimum(index, DIVISIONS - 1, out=index)
    index -= _edge_array(index, low, span) > values
    index += _edge_array(index + 1, low, span) <= values
    return index


def _digit_rows(x: IndexArray, y: IndexArray) -> NDArray[np.uint8]:
    """Return the 8 interleaved digit values of finest columns/rows, shape (8, n)."""
    rows = np.empty((MAX_LENGTH, x.size), dtype=np.uint8)
    for first, axis in ((0, x), (1, y)):
        high, low = np.divmod(axis, BASE * BASE)
        np.take(_PAIR_HIGH, high, out=rows[first])
        np.take(_PAIR_LOW, high, out=rows[first + 2])
        np.take(_PAIR_HIGH, low, out=rows[first + 4])
        np.take(_PAIR_LOW, low, out=rows[first + 6])
    return rows


def _spell_rows(rows: NDArray[np.uint8], length: int) -> CodeArray:
    """Vector ``_spell``: digit rows (8, n) to an ``S{length + 1}`` array of codes."""
    check = np.zeros(rows.shape[1], dtype=np.int16)
    for weight in range(1, length + 1):
        check += rows[weight - 1] * np.int16(weight)
    chars = np.empty((rows.shape[1], length + 1), dtype=np.uint8)
    chars[:, :length] = _ALPHABET_BYTES[rows[:length].T]
    chars[:, length] = _ALPHABET_BYTES[check % BASE]
    return chars.view(f"S{length + 1}").reshape(-1)


def _codes_of_index(x: IndexArray, y: IndexArray, length: int) -> CodeArray:
    """Return the codes of the cells holding finest columns ``x`` and rows ``y``."""
    return _spell_rows(_digit_rows(x, y), length)


def _outside_rows(lon: FloatArray, lat: FloatArray) -> NDArray[np.bool_] | None:
    """Return the mask of points outside the box, or None when all are inside."""
    box = TERRITORY
    if lon.size == 0:
        return None
    lon_inside = lon.min() >= box.west and lon.max() < box.east  # NaN fails both tests
    if lon_inside and lat.min() >= box.south and lat.max() < box.north:
        return None
    inside = (lon >= box.west) & (lon < box.east) & (lat >= box.south) & (lat < box.north)
    return ~inside


def _raise_outside(lon: FloatArray, lat: FloatArray, outside: NDArray[np.bool_]) -> None:
    """Raise OutOfTerritoryError naming how many points are outside and the first one."""
    first = int(np.argmax(outside))
    count = int(outside.sum())
    point_lon, point_lat = float(lon[first]), float(lat[first])
    raise OutOfTerritoryError(
        f"{count} of {lon.size} points are outside the code grid {_TERRITORY_TEXT}; "
        f"first at index {first}: (lon={point_lon}, lat={point_lat})",
        lon=point_lon,
        lat=point_lat,
        index=first,
        count=count,
    )


def _encode_in_chunks(lon: FloatArray, lat: FloatArray, length: int) -> CodeArray:
    """Encode points known to be inside the box, a cache-sized chunk at a time."""
    codes = np.empty(lon.size, dtype=f"S{length + 1}")
    box = TERRITORY
    for start in range(0, lon.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        x = _axis_index_array(lon[part], box.west, _LON_SPAN)
        y = _axis_index_array(lat[part], box.south, _LAT_SPAN)
        codes[part] = _codes_of_index(x, y, length)
    return codes


def encode_array(
    lons: ArrayLike,
    lats: ArrayLike,
    *,
    length: int = MAX_LENGTH,
    on_error: OnError = "raise",
) -> CodeArray:
    """Vector ``encode``: return an ``S{length + 1}`` bytes array of canonical codes.

    Points outside the box raise OutOfTerritoryError (naming how many and the first
    index), or with ``on_error="mask"`` get the empty code ``b""``.

    >>> encode_array([105.338, 106.0], [20.817, 21.0])
    array([b'8VGDHS6HB', b'9VSQ9JSD5'], dtype='|S9')
    >>> encode_array([105.338, 0.0], [20.817, 0.0], length=4, on_error="mask")
    array([b'8VGDP', b''], dtype='|S5')
    """
    _check_length(length)
    _check_on_error(on_error)
    lon, lat = np.broadcast_arrays(np.asarray(lons, np.float64), np.asarray(lats, np.float64))
    shape = lon.shape
    lon, lat = lon.reshape(-1), lat.reshape(-1)
    outside = _outside_rows(lon, lat)
    if outside is not None:
        if on_error == "raise":
            _raise_outside(lon, lat, outside)
        lon = np.where(outside, TERRITORY.west, lon)
        lat = np.where(outside, TERRITORY.south, lat)
    codes = _encode_in_chunks(lon, lat, length)
    if outside is not None:
        codes[outside] = b""
    return codes.reshape(shape)


def _text_array(codes: ArrayLike) -> NDArray[Any]:
    """Return codes as a flat ``S`` or ``U`` array (objects: bytes decoded, others str)."""
    array = np.asarray(codes)
    if array.dtype.kind in "SU":
        return np.ascontiguousarray(array).reshape(-1)
    items = array.reshape(-1).tolist()
    texts = [item.decode("latin-1") if isinstance(item, bytes) else str(item) for item in items]
    return np.array(texts, dtype=str).reshape(-1)


def _char_matrix(flat: NDArray[Any]) -> NDArray[np.uint8]:
    """Return flat codes as an (n, 9) byte matrix, NUL-padded.

    Characters beyond ASCII and codes longer than 9 become invalid bytes.
    """
    wide = flat.dtype.kind == "U"
    width = flat.dtype.itemsize // (4 if wide else 1)
    raw = flat.view(np.uint32 if wide else np.uint8).reshape(flat.size, width)
    chars = np.zeros((flat.size, MAX_LENGTH + 1), dtype=np.uint8)
    keep = min(width, MAX_LENGTH + 1)
    chars[:, :keep] = np.where(np.less(raw[:, :keep], 128), raw[:, :keep], _BAD)
    if width > keep:
        chars[raw[:, keep:].any(axis=1), MAX_LENGTH] = _BAD
    return chars


def _row_validity(values: NDArray[np.uint8], length: NDArray[np.intp]) -> NDArray[np.bool_]:
    """Tell which rows are well formed: 2..9 valid symbols followed by padding only."""
    used = np.arange(MAX_LENGTH + 1) <= length[:, None]
    symbols = np.where(used, values < BASE, values == _PAD).all(axis=1)
    return symbols & (length >= 1) & (length <= MAX_LENGTH)


def _data_matrix(values: NDArray[np.uint8], length: NDArray[np.intp]) -> NDArray[np.int32]:
    """Return the data values, zero beyond each row's length, shape (n, 8)."""
    used = np.arange(MAX_LENGTH) < length[:, None]
    return np.where(used, values[:, :MAX_LENGTH], 0).astype(np.int32)


def _checks_match(
    data: NDArray[np.int32], values: NDArray[np.uint8], length: NDArray[np.intp]
) -> NDArray[np.bool_]:
    """Tell which rows carry the right check character."""
    weights = np.arange(1, MAX_LENGTH + 1, dtype=np.int32)
    expected = (data * weights).sum(axis=1) % BASE
    found = values[np.arange(values.shape[0]), np.clip(length, 0, MAX_LENGTH)]
    return np.asarray(expected == found, dtype=np.bool_)


def _raise_invalid_row(flat: NDArray[Any], bad: NDArray[np.bool_]) -> None:
    """Raise InvalidCodeError for the first bad row, explained like the scalar path."""
    first = int(np.argmax(bad))
    count = int(bad.sum())
    item = flat[first]
    text = (item.decode("latin-1") if isinstance(item, bytes) else str(item)).upper()
    where = f"index {first}, first of {count} invalid rows; arrays take codes without separators"
    try:
        _validated_values(text)
    except InvalidCodeError as error:
        raise InvalidCodeError(
            error.code,
            error.reason,
            slip=error.slip,
            detail=f"{error.detail}; {where}" if error.detail else where,
            index=first,
        ) from None
    raise InvalidCodeError(text, "wrong_length", detail=where, index=first)


def _cell_arrays(data: NDArray[np.int32], length: NDArray[np.intp]) -> CellArrays:
    """Return centres and bounds of cells given their data matrix and lengths."""
    places = np.array(_PLACE, dtype=np.int32)
    x = data[:, 0::2] @ places
    y = data[:, 1::2] @ places
    units = np.array(_UNIT, dtype=np.int32)
    width, height = units[(length + 1) // 2], units[length // 2]
    box = TERRITORY
    return CellArrays(
        lon=_centre_array(x, width, box.west, _LON_SPAN),
        lat=_centre_array(y, height, box.south, _LAT_SPAN),
        west=_edge_array(x, box.west, _LON_SPAN),
        south=_edge_array(y, box.south, _LAT_SPAN),
        east=_edge_array(x + width, box.west, _LON_SPAN),
        north=_edge_array(y + height, box.south, _LAT_SPAN),
        length=length.astype(np.int8),
    )


def _map_cells(cells: CellArrays, change: Callable[[NDArray[Any]], NDArray[Any]]) -> CellArrays:
    """Return cells with ``change`` applied to every array."""
    return CellArrays(
        lon=change(cells.lon),
        lat=change(cells.lat),
        west=change(cells.west),
        south=change(cells.south),
        east=change(cells.east),
        north=change(cells.north),
        length=change(cells.length),
    )


def _mask_cells(cells: CellArrays, bad: NDArray[np.bool_]) -> CellArrays:
    """Return cells with bad rows set to NaN and length 0."""
    masked = _map_cells(cells, lambda array: np.where(bad, np.nan, array))
    return replace(masked, length=np.where(bad, 0, cells.length).astype(np.int8))


def decode_array(codes: ArrayLike, *, on_error: OnError = "raise") -> CellArrays:
    """Vector ``decode`` of canonical codes (any case, no separators, lengths may mix).

    Invalid codes raise InvalidCodeError (``index`` = first bad row), or with
    ``on_error="mask"`` decode to NaN with length 0.

    >>> cells = decode_array(np.array([b"8VGDHS6HB", b"8vgdp"]))
    >>> cells.length.tolist(), cells.lon.round(6).tolist()
    ([8, 4], [105.337999, 105.338189])
    >>> decode_array(["8VGDHS6HB", "8VGDHS6HC"], on_error="mask").lat.tolist()[1]
    nan
    """
    _check_on_error(on_error)
    shape = np.shape(codes)
    flat = _text_array(codes)
    chars = _char_matrix(flat)
    values = _DECODE[chars]
    length = np.count_nonzero(chars, axis=1) - 1
    data = _data_matrix(values, length)
    bad = ~(_row_validity(values, length) & _checks_match(data, values, length))
    if bad.any():
        if on_error == "raise":
            _raise_invalid_row(flat, bad)
        data[bad], length[bad] = 0, MAX_LENGTH
    cells = _cell_arrays(data, length)
    if bad.any():
        cells = _mask_cells(cells, bad)
    return _map_cells(cells, lambda array: array.reshape(shape))


# ---------------------------------------------------------------- polygon cover


class _Block(NamedTuple):
    """Cells of one length given by their column and row at that length."""

    length: int
    columns: IndexArray
    rows: IndexArray


def _check_cover_options(length: int, mode: str) -> None:
    """Reject bad ``cover_polygon`` options."""
    _check_length(length)
    if mode not in ("intersects", "centre"):
        raise ValueError(f"mode must be 'intersects' or 'centre', got {mode!r}")


def _require_bounds_inside(bounds: tuple[float, float, float, float]) -> None:
    """Raise OutOfTerritoryError unless a geometry's bounds lie in the (closed) box."""
    west, south, east, north = bounds
    box = TERRITORY
    if not (box.west <= west and east <= box.east and box.south <= south and north <= box.north):
        raise OutOfTerritoryError(f"geometry bounds {bounds} are not inside the code grid {_TERRITORY_TEXT}")


def _index_range(low: float, high: float, length: int, axis: int) -> tuple[int, int]:
    """Return the first and last column (axis 0) or row (axis 1) at ``length`` of a span."""
    origin, span = (TERRITORY.west, _LON_SPAN) if axis == 0 else (TERRITORY.south, _LAT_SPAN)
    unit = _units(length)[axis]
    first = _axis_index(low, origin, span) // unit
    last = min(_axis_index(high, origin, span), DIVISIONS - 1) // unit
    return first, last


def _block_bounds(block: _Block) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Return west, south, east, north arrays of a block's cells."""
    width, height = _units(block.length)
    x, y = block.columns * width, block.rows * height
    box = TERRITORY
    return (
        _edge_array(x, box.west, _LON_SPAN),
        _edge_array(y, box.south, _LAT_SPAN),
        _edge_array(x + width, box.west, _LON_SPAN),
        _edge_array(y + height, box.south, _LAT_SPAN),
    )


def _first_block(bounds: tuple[float, float, float, float]) -> _Block:
    """Return the length-1 cells overlapping ``bounds`` (a single row: latitude is whole)."""
    first, last = _index_range(bounds[0], bounds[2], 1, 0)
    columns = np.arange(first, last + 1, dtype=np.int32)
    return _Block(1, columns, np.zeros_like(columns))


def _children(block: _Block, bounds: tuple[float, float, float, float]) -> _Block:
    """Return the children (one more character) of a block's cells within ``bounds``."""
    length = block.length + 1
    axis = 0 if length % 2 == 1 else 1
    first, last = _index_range(bounds[axis], bounds[axis + 2], length, axis)
    parents = block.columns if axis == 0 else block.rows
    split = (parents[:, None] * BASE + np.arange(BASE, dtype=np.int32)).reshape(-1)
    keep = (split >= first) & (split <= last)
    other = np.repeat(block.rows if axis == 0 else block.columns, BASE)[keep]
    pair = (split[keep], other) if axis == 0 else (other, split[keep])
    return _Block(length, *pair)


def _subset(block: _Block, mask: NDArray[np.bool_]) -> _Block:
    """Return the cells of a block selected by ``mask``."""
    return _Block(block.length, block.columns[mask], block.rows[mask])


def _join(first: _Block, second: _Block) -> _Block:
    """Return the cells of two blocks of the same length."""
    return _Block(
        first.length,
        np.concatenate([first.columns, second.columns]),
        np.concatenate([first.rows, second.rows]),
    )


def _cell_keys(columns: NDArray[np.integer[Any]], rows: NDArray[np.integer[Any]]) -> Any:
    """Return one int64 per (column, row) pair, for set operations."""
    return columns.astype(np.int64) * (1 << 21) + rows


def _near_boundary(polygon: shapely.Geometry, block: _Block) -> NDArray[np.bool_]:
    """Flag the cells the polygon's boundary may cross; the others are wholly in or out.

    The boundary is densified to steps under half a cell, so every cell it crosses is
    one of the 3 x 3 cells around a cell holding one of its vertices.
    """
    width, height = _units(block.length)
    step = 0.5 * min(width * _LON_SPAN, height * _LAT_SPAN) / DIVISIONS
    points = shapely.get_coordinates(shapely.segmentize(polygon.boundary, step))
    box = TERRITORY
    columns = _axis_index_array(points[:, 0], box.west, _LON_SPAN) // width
    rows = _axis_index_array(points[:, 1], box.south, _LAT_SPAN) // height
    keys = _cell_keys(columns, rows)
    keys = keys[np.flatnonzero(np.diff(keys, prepend=-1))]  # consecutive points share cells
    near = [keys + dx * (1 << 21) + dy for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    return np.isin(_cell_keys(block.columns, block.rows), np.concatenate(near))


def _centres_inside(polygon: shapely.Geometry, block: _Block) -> NDArray[np.bool_]:
    """Tell which cells have their centre strictly inside the polygon."""
    west, south, east, north = _block_bounds(block)
    inside = shapely.contains_xy(polygon, (west + east) / 2, (south + north) / 2)
    return np.asarray(inside, dtype=np.bool_)


def _classify(polygon: shapely.Geometry, block: _Block) -> tuple[_Block, _Block]:
    """Split a block into cells inside the polygon and cells crossing its boundary."""
    near_mask = _near_boundary(polygon, block)
    far, near = _subset(block, ~near_mask), _subset(block, near_mask)
    boxes = shapely.box(*_block_bounds(near))
    inside = np.asarray(shapely.contains(polygon, boxes), dtype=np.bool_)
    touching = np.asarray(shapely.intersects(polygon, boxes), dtype=np.bool_)
    far_inside = _subset(far, _centres_inside(polygon, far))
    return _join(far_inside, _subset(near, inside)), _subset(near, touching & ~inside)


def _final_cells(polygon: shapely.Geometry, block: _Block, mode: CoverMode) -> _Block:
    """Keep the last-level cells whose centre (or some interior) is in the polygon."""
    near_mask = _near_boundary(polygon, block)
    far, near = _subset(block, ~near_mask), _subset(block, near_mask)
    if mode == "centre":
        keep = _centres_inside(polygon, near)
    else:
        boxes = shapely.box(*_block_bounds(near))
        keep = shapely.intersects(polygon, boxes) & ~shapely.touches(polygon, boxes)
    kept = _subset(near, np.asarray(keep, dtype=np.bool_))
    return _join(_subset(far, _centres_inside(polygon, far)), kept)


def _refine(polygon: shapely.Geometry, length: int, mode: CoverMode) -> list[_Block]:
    """Walk the hierarchy: keep cells fully inside, split boundary cells, test the last level."""
    bounds = polygon.bounds
    block = _first_block(bounds)
    kept: list[_Block] = []
    while block.length < length:
        inside, boundary = _classify(polygon, block)
        kept.append(inside)
        block = _children(boundary, bounds)
    kept.append(_final_cells(polygon, block, mode))
    return kept


def _expand(block: _Block, length: int) -> _Block:
    """Return all descendants at ``length`` of a block's cells."""
    (width, height), (unit_x, unit_y) = _units(block.length), _units(length)
    per_x, per_y = width // unit_x, height // unit_y
    columns = block.columns[:, None, None] * per_x + np.arange(per_x)[None, :, None]
    rows = block.rows[:, None, None] * per_y + np.arange(per_y)[None, None, :]
    columns, rows = np.broadcast_arrays(columns, rows)
    return _Block(length, columns.reshape(-1).astype(np.int32), rows.reshape(-1).astype(np.int32))


def _block_codes(block: _Block) -> CodeArray:
    """Return the codes of a block's cells."""
    width, height = _units(block.length)
    return _codes_of_index(block.columns * width, block.rows * height, block.length)


def cover_polygon(
    polygon: shapely.Geometry,
    *,
    length: int = MAX_LENGTH,
    mode: CoverMode = "intersects",
    compact: bool = False,
) -> CodeArray:
    """Return the codes of the cells at ``length`` covering a lon/lat (multi)polygon.

    ``mode="intersects"`` keeps cells sharing area with the polygon (a cover);
    ``mode="centre"`` keeps cells whose centre lies inside (a partition of cells
    among neighbouring communes). The hierarchy is walked from length 1: cells fully
    inside are taken whole, only boundary cells are split. With ``compact=True``
    those inner cells are returned at their own, shorter length (mixed lengths,
    far fewer codes). Order is unspecified. Beware of sizes: at length 8 a
    100 km² commune has about 25 million cells. The polygon gets prepared
    (``shapely.prepare``) in place.

    >>> square = shapely.box(105.3300, 20.8100, 105.3301, 20.8101)
    >>> sorted(cover_polygon(square, length=6).tolist())
    [b'8VGD2DT', b'8VGD2EZ']
    >>> len(cover_polygon(square, length=8)), len(cover_polygon(square, length=8, mode="centre"))
    (49, 30)
    """
    _check_cover_options(length, mode)
    if polygon.is_empty:
        return np.empty(0, dtype=f"S{length + 1}")
    _require_bounds_inside(polygon.bounds)
    shapely.prepare(polygon)
    blocks = _refine(polygon, length, mode)
    if not compact:
        blocks = [_expand(block, length) for block in blocks]
    return np.concatenate([_block_codes(block) for block in blocks])


# ------------------------------------------------------------------ registry codes

REGISTRY_LENGTH: Final = 10
MAX_SERIAL: Final = 999_999_999

DAMM_TABLE: Final = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
"""Damm's weakly totally anti-symmetric quasigroup of order 10 (row = interim, column = digit)."""

_DAMM_FLAT: Final = np.array(DAMM_TABLE, dtype=np.uint8).reshape(-1)
_DIGITS: Final = "0123456789"


def damm_check_digit(digits: str) -> int:
    """Return the Damm check digit of a string of decimal digits.

    >>> damm_check_digit("572"), damm_check_digit("5724")
    (4, 0)
    """
    interim = 0
    for digit in digits:
        interim = DAMM_TABLE[interim][int(digit)]
    return interim


def _check_serial(serial: int) -> None:
    """Reject a serial outside 0..999,999,999 (a programming error)."""
    if not 0 <= serial <= MAX_SERIAL:
        raise ValueError(f"serial must be 0..{MAX_SERIAL}, got {serial}")


def registry_code(serial: int) -> str:
    """Return the 10-digit registry code of a serial: 9 digits + Damm check digit.

    >>> registry_code(123456789), registry_code(1)
    ('1234567894', '0000000013')
    """
    _check_serial(serial)
    body = f"{serial:09d}"
    return body + str(damm_check_digit(body))


def registry_codes_array(serials: ArrayLike) -> CodeArray:
    """Vector ``registry_code``: return an ``S10`` bytes array.

    >>> registry_codes_array([123456789, 1])
    array([b'1234567894', b'0000000013'], dtype='|S10')
    """
    serial = np.asarray(serials, dtype=np.int64)
    if serial.size and (serial.min() < 0 or serial.max() > MAX_SERIAL):
        raise ValueError(f"serials must be 0..{MAX_SERIAL}")
    flat = serial.reshape(-1)
    chars = np.empty((flat.size, REGISTRY_LENGTH), dtype=np.uint8)
    interim = np.zeros(flat.size, dtype=np.uint8)
    for position in range(REGISTRY_LENGTH - 1):
        digit = (flat // 10 ** (REGISTRY_LENGTH - 2 - position) % 10).astype(np.uint8)
        chars[:, position] = digit + ord("0")
        interim = _DAMM_FLAT[interim * np.uint8(10) + digit]
    chars[:, REGISTRY_LENGTH - 1] = interim + ord("0")
    return chars.view(f"S{REGISTRY_LENGTH}").reshape(serial.shape)


def _validated_registry(code: str) -> str:
    """Validate an upper-case registry code without separators and return it."""
    if not code:
        raise InvalidCodeError(code, "empty")
    if len(code) != REGISTRY_LENGTH:
        detail = f"{len(code)} characters; registry codes have 10 digits"
        raise InvalidCodeError(code, "wrong_length", detail=detail)
    for position, char in enumerate(code, start=1):
        if char not in _DIGITS:
            detail = f"{char!r} is not a digit"
            raise InvalidCodeError(code, "invalid_character", slip=Slip(position, char), detail=detail)
    if damm_check_digit(code) != 0:
        detail = "a digit is mistyped or two adjacent digits are swapped"
        raise InvalidCodeError(code, "check_mismatch", detail=detail)
    return code


def normalise_registry_code(text: str) -> str:
    """Return the canonical 10 digits of a typed registry code, or raise InvalidCodeError.

    >>> normalise_registry_code(" 1234-567-894 ")
    '1234567894'
    >>> normalise_registry_code("1234-576-894")
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidCodeError: mistyped code '1234576894': check mismatch \
(a digit is mistyped or two adjacent digits are swapped)
    """
    return _validated_registry(_compact(text))


def is_valid_registry_code(text: str) -> bool:
    """Tell whether typed text is a valid registry code.

    >>> is_valid_registry_code("1234567894"), is_valid_registry_code("1234567849")
    (True, False)
    """
    try:
        normalise_registry_code(text)
    except InvalidCodeError:
        return False
    return True


def registry_serial(text: str) -> int:
    """Return the serial number of a typed registry code.

    >>> registry_serial("0000-000-013")
    1
    """
    return int(normalise_registry_code(text)[:-1])


def format_registry_code(text: str) -> str:
    """Return a registry code grouped 4-3-3 like a Vietnamese phone number.

    >>> format_registry_code("1234567894")
    '1234-567-894'
    """
    code = normalise_registry_code(text)
    return f"{code[:4]}-{code[4:7]}-{code[7:]}"


# ------------------------------------------------------------------- either kind


@dataclass(frozen=True, slots=True)
class ParsedCode:
    """A typed code recognised as a location or registry code, in canonical form."""

    kind: CodeKind
    code: str

    @property
    def display(self) -> str:
        """Return the grouped form for display."""
        if self.kind == "registry":
            return format_registry_code(self.code)
        return format_location_code(self.code)


def parse_any_code(text: str) -> ParsedCode:
    """Recognise and normalise a typed code: 10 characters = registry, else location.

    >>> parse_any_code("1234 567 894")
    ParsedCode(kind='registry', code='1234567894')
    >>> parse_any_code("8vg-dhs-6hb").display
    '8VG-DHS-6HB'
    """
    code = _compact(text)
    if len(code) == REGISTRY_LENGTH:
        return ParsedCode("registry", _validated_registry(code))
    return ParsedCode("location", _spell(_validated_values(code)))
