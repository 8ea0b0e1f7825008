"""House numbers and registry codes of millions of addresses in compact numpy arrays.

Street and village names are few; house numbers are many. So the index keeps one
*group* per (commune, street or village) - a few thousand at most, each becoming a
searchable street entry - and the addresses as sorted arrays: group id, a 64-bit hash
of the normalised house number, point, address id, registry code, successor and status,
plus two sort orders. 69 bytes an address: a million addresses take 69 MB, and a look-up
is a dict access and one binary search.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geocoder.normalize import fold, strip_marks

_HOUSE_WORDS_RE: Final = re.compile(r"^(?:so nha|so|nha|sn)\s*")
_SPACES_RE: Final = re.compile(r"\s+")
_ALLEY_WORDS_RE: Final = re.compile(r"^(?:ngo|ngach|hem|kiet)\s*")


def house_key(text: str | None) -> str | None:
    """A house number as a key: folded, house words and spaces dropped; None if it has no digit first.

    >>> house_key("Số 12A"), house_key("nhà 28"), house_key("27 b"), house_key("1806/127/2")
    ('12a', '28', '27b', '1806/127/2')
    >>> house_key("bản") is None, house_key(None) is None
    (True, True)
    """
    if not text:
        return None
    if text.isascii() and text.isalnum():  # the common case: "12", "12A", "40bis"
        key = text.lower()
    else:
        key = _SPACES_RE.sub("", _HOUSE_WORDS_RE.sub("", strip_marks(text.lower()).strip()))
    return key if key[:1].isdigit() else None


def alley_key(text: str | None) -> str | None:
    """An alley as a key: its number, the alley word (ngõ, ngách, hẻm, kiệt) dropped; None if none.

    The same key whether the alley is stored as "ngõ 235" or "235" and asked as "ngõ 235".

    >>> alley_key("ngõ 235"), alley_key("Ngách 298/1"), alley_key("hẻm 12A"), alley_key("235")
    ('235', '298/1', '12a', '235')
    >>> alley_key("ngõ Chợ") is None, alley_key(None) is None
    (True, True)
    """
    if not text:
        return None
    return house_key(_ALLEY_WORDS_RE.sub("", strip_marks(text.lower()).strip()))


def group_name(text: str | None) -> str | None:
    """The folded form of a street or village name as it groups addresses.

    >>> group_name("Đường  Trần Hưng Đạo"), group_name("  ") is None
    ('duong tran hung dao', True)
    """
    if not text or not text.strip():
        return None
    return fold(text) or None


def house_hash(key: str) -> int:
    """A stable 64-bit hash of a house key (BLAKE2b: the same in every process and run).

    >>> house_hash("12a") == house_hash("12a") != house_hash("12b")
    True
    """
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


def _hashes(keys: NDArray[np.object_]) -> NDArray[np.uint64]:
    """:func:`house_hash` of every key (about a second per million)."""
    return np.fromiter((house_hash(str(key)) for key in keys), dtype=np.uint64, count=len(keys))


_EMPTY_INT: Final = np.zeros(0, dtype=np.int64)
_EMPTY_FLOAT: Final = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class HouseHit:
    """One address found by house number or registry code."""

    row: int
    address_id: int
    lon: float
    lat: float
    registry_code: str | None
    ref: str = ""
    house_number: str | None = None
    """The house number as written (for labels), when the store holds it."""
    alley: str | None = None


@dataclass(frozen=True, slots=True)
class WrittenParts:
    """House numbers, alleys and places (street, village) as written, one per row, factorised.

    >>> parts = WrittenParts.of(["12A", None, "12A"], ["3", None, None], ["Đường Lê Lợi", None, None])
    >>> parts.at(0), parts.at(1), parts.take(np.array([2, 0])).at(0)
    (('12A', '3'), (None, None), ('12A', None))
    >>> parts.name(0), parts.name(1)
    ('12A, 3, Đường Lê Lợi', '')
    """

    house_codes: NDArray[np.int32]
    house_texts: NDArray[np.object_]
    alley_codes: NDArray[np.int32]
    alley_texts: NDArray[np.object_]
    place_codes: NDArray[np.int32]
    place_texts: NDArray[np.object_]
    """The street and village of a row joined with ', ' (the end of an address's name)."""

    @classmethod
    def of(
        cls,
        houses: Sequence[str | None],
        alleys: Sequence[str | None],
        places: Sequence[str | None] | None = None,
    ) -> WrittenParts:
        """Factorise the texts (None, NaN or blank: no text)."""
        house_codes, house_texts = _factorised(houses)
        alley_codes, alley_texts = _factorised(alleys)
        place_codes, place_texts = _factorised(places if places is not None else [None] * len(houses))
        return cls(house_codes, house_texts, alley_codes, alley_texts, place_codes, place_texts)

    def take(self, order: NDArray[np.intp] | NDArray[np.int64]) -> WrittenParts:
        """The rows in another order."""
        return WrittenParts(
            self.house_codes[order],
            self.house_texts,
            self.alley_codes[order],
            self.alley_texts,
            self.place_codes[order],
            self.place_texts,
        )

    def at(self, row: int) -> tuple[str | None, str | None]:
        """(house number, alley) of a row."""
        house, alley = int(self.house_codes[row]), int(self.alley_codes[row])
        return (
            None if house < 0 else str(self.house_texts[house]),
            None if alley < 0 else str(self.alley_texts[alley]),
        )

    def name(self, row: int) -> str:
        """House number, alley, street and village of a row joined with ', ' (what /reverse names)."""
        place = int(self.place_codes[row])
        parts = (*self.at(row), None if place < 0 else str(self.place_texts[place]))
        return ", ".join(part for part in parts if part)


def _factorised(texts: Sequence[str | None]) -> tuple[NDArray[np.int32], NDArray[np.object_]]:
    """Codes (-1: none) and the distinct stripped texts."""
    cleaned = pd.Series(list(texts), dtype=object).map(
        lambda v: v.strip() or None if isinstance(v, str) else None
    )
    codes, uniques = pd.factorize(cleaned)
    return codes.astype(np.int32), np.asarray(uniques, dtype=object)


@dataclass(frozen=True)
class HouseRows:
    """The addresses a house store is built from, one array entry per address, in any order.

    ``groups`` is the street or village group of each (-1: no house number), ``houses``
    the folded house key, ``registry`` the registry code as an integer (0: none),
    ``successor`` the address a retired one leads to (-1: none); ``written`` holds each
    row's house number and alley as written (for labels).
    """

    groups: NDArray[np.int32]
    houses: NDArray[np.object_]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    address_id: NDArray[np.int64]
    registry: NDArray[np.int64]
    successor: NDArray[np.int64]
    retired: NDArray[np.bool_]
    written: WrittenParts | None = None


@dataclass(frozen=True, slots=True)
class HouseStore:
    """Addresses as sorted arrays; look up by (group, house number) or by registry code.

    ``address_id`` is -1 for a house number read from a place's address tags; a
    registry code is stored as its integer (0: none).
    """

    groups: NDArray[np.int32]
    hashes: NDArray[np.uint64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    address_id: NDArray[np.int64]
    registry: NDArray[np.int64]
    registry_order: NDArray[np.int64]
    ids_order: NDArray[np.int64]
    successor: NDArray[np.int64]
    retired: NDArray[np.bool_]
    bounds: dict[int, tuple[int, int]]
    written: WrittenParts
    """House number and alley as written, for labels (factorised: a few bytes per row)."""

    @classmethod
    def empty(cls) -> HouseStore:
        """A store without addresses."""
        return cls.build(
            HouseRows(
                groups=np.zeros(0, np.int32),
                houses=np.zeros(0, object),
                lon=_EMPTY_FLOAT,
                lat=_EMPTY_FLOAT,
                address_id=_EMPTY_INT,
                registry=_EMPTY_INT,
                successor=_EMPTY_INT,
                retired=np.zeros(0, bool),
            )
        )

    @classmethod
    def build(cls, rows: HouseRows) -> HouseStore:
        """Sort the rows by (group, house hash) and index registry codes and ids."""
        groups, houses, registry, address_id = rows.groups, rows.houses, rows.registry, rows.address_id
        lon, lat, successor, retired, written = rows.lon, rows.lat, rows.successor, rows.retired, rows.written
        hashes = _hashes(houses) if len(houses) else np.zeros(0, np.uint64)
        order = np.lexsort((hashes, groups))
        sorted_registry = registry[order]
        sorted_ids = address_id[order]
        sorted_groups = groups[order]
        return cls(
            groups=sorted_groups,
            hashes=hashes[order],
            lon=lon[order],
            lat=lat[order],
            address_id=sorted_ids,
            registry=sorted_registry,
            registry_order=np.argsort(sorted_registry, kind="stable"),
            ids_order=np.argsort(sorted_ids, kind="stable"),
            successor=successor[order],
            retired=retired[order],
            bounds=_bounds(sorted_groups),
            written=(written or WrittenParts.of([None] * len(houses), [None] * len(houses))).take(order),
        )

    def __len__(self) -> int:
        """Number of addresses held."""
        return len(self.groups)

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        arrays = (self.groups, self.hashes, self.lon, self.lat, self.address_id, self.registry)
        extra = (self.registry_order, self.ids_order, self.successor, self.retired)
        return sum(array.nbytes for array in (*arrays, *extra))

    def hit(self, row: int) -> HouseHit:
        """The address at a row of the arrays."""
        code, address_id = int(self.registry[row]), int(self.address_id[row])
        lon, lat = float(self.lon[row]), float(self.lat[row])
        house, alley = self.written.at(row)
        return HouseHit(row, address_id, lon, lat, _code(code), f"address:{address_id}", house, alley)

    def registry_code(self, row: int) -> str | None:
        """The registry code of a row (None: none)."""
        return _code(int(self.registry[row]))

    def find(self, group: int, house: str) -> HouseHit | None:
        """The first address in force of a group with this house number key, or None."""
        return self.find_hashed(group, np.uint64(house_hash(house)))

    def find_hashed(self, group: int, wanted: np.uint64) -> HouseHit | None:
        """:meth:`find` with the key's :func:`house_hash` (a query looks one key up in many groups)."""
        bounds = self.bounds.get(group)
        if bounds is None:
            return None
        start, end = bounds
        row = start + int(self.hashes[start:end].searchsorted(wanted))
        while row < end and self.hashes[row] == wanted:
            if not self.retired[row]:
                return self.hit(row)
            row += 1
        return None

    def by_registry(self, code: int) -> HouseHit | None:
        """The address of a registry code; a retired one answers with its successor in force."""
        position = int(np.searchsorted(self.registry, np.int64(code), sorter=self.registry_order))
        if position >= len(self.registry_order) or self.registry[self.registry_order[position]] != code:
            return None
        row = int(self.registry_order[position])
        for _step in range(100):
            if not self.retired[row] or self.successor[row] < 0:
                break
            found = self._row_of_id(int(self.successor[row]))
            if found is None:
                break
            row = found
        return self.hit(row)

    def row_of_id(self, address_id: int) -> int | None:
        """The row of an address id, or None (public: the change feed patches rows in place)."""
        return self._row_of_id(address_id)

    def _row_of_id(self, address_id: int) -> int | None:
        """The row of an address id, or None."""
        position = int(np.searchsorted(self.address_id, np.int64(address_id), sorter=self.ids_order))
        if position >= len(self.ids_order) or self.address_id[self.ids_order[position]] != address_id:
            return None
        return int(self.ids_order[position])

    def in_box(self, west: float, south: float, east: float, north: float) -> NDArray[np.int64]:
        """Rows of addresses in force inside a lon/lat box."""
        inside = (self.lon >= west) & (self.lon < east) & (self.lat >= south) & (self.lat < north)
        rows: NDArray[np.int64] = np.flatnonzero(inside & ~self.retired)
        return rows


def _bounds(groups: NDArray[np.int32]) -> dict[int, tuple[int, int]]:
    """Where each group's rows start and end in the sorted arrays (group -1: no house number)."""
    values, starts, counts = np.unique(groups, return_index=True, return_counts=True)
    return {
        int(group): (int(start), int(start + count))
        for group, start, count in zip(values, starts, counts, strict=True)
        if group >= 0
    }


def _code(value: int) -> str | None:
    """A registry code from its integer, or None for 0."""
    return None if value <= 0 else f"{value:010d}"
