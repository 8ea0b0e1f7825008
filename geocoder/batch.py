"""Batch geocoding of CSV files: same rows, same order, geocoding columns added.

Streaming: rows are read, geocoded and written one at a time (memory stays flat for
a million rows). Agency files repeat themselves - the same village, the same street
with another house number - so bounded caches make most rows cheap:

1. the answer by text (lower case, spaces collapsed), then by normalised text (marks
   style, abbreviations, punctuation: :func:`geocoder.normalize.normalize`);
2. by *skeleton*: the text with its leading house number cut out. The first row of a
   street or village is searched in full; later rows with another house number only
   look the number up in that street's address arrays (:mod:`geocoder.houses`).

On 200,000 rows built from agency-style addresses (115,000 distinct texts) about 1,300
full searches were needed; the rest came from the caches (see benchmarks/bench_batch.py).
The caches hold at most :data:`CACHE_SIZE` entries each (oldest dropped first). Bad rows
- an empty address, a row with the wrong number of fields, text that matches nothing, a
mistyped code - get an ``error`` and count in the report; they never stop the run. A
wrong column name stops it before anything is written (InvalidParameterError).
Multiprocessing is not used: with the caches one process does more than 20,000 rows/s on
two cores, and workers would each need their own caches.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final, TextIO, TypeVar

from sqlalchemy import Connection

from addresses.codes import encode
from addresses.errors import DiachisoError, InvalidParameterError
from geocoder.build import label
from geocoder.entries import Entry
from geocoder.houses import house_key
from geocoder.index import GeocoderIndex, IndexState
from geocoder.normalize import normalize
from geocoder.parse import Component
from geocoder.results import EXACT, BatchReport, GeocodeResult, OldUnit
from geocoder.search import HOUSE_NOT_FOUND, Best, best

OUTPUT_COLUMNS: Final = (
    "lon",
    "lat",
    "score",
    "match_level",
    "kind",
    "label",
    "commune_code",
    "commune",
    "old_commune_code",
    "old_commune",
    "old_district",
    "location_code",
    "registry_code",
    "house_number",
    "street",
    "village",
    "parsed_commune",
    "parsed_district",
    "parsed_province",
    "point_precision",
    "old_units_precision",
    "note",
    "error",
)
"""Columns added to every row (suffixed ``_geocoded`` when the input already has one of them).

``match_level`` says what was found (address, street, village, place, commune, district,
province); ``point_precision`` how good the point is ("exact", or why it is approximate);
``old_units_precision`` how sure the pre-2025 commune and district are ("exact": the
text named them or the answer lies in them by lineage; else how they were guessed)."""

MIN_SCORE: Final = 0.5
"""Below this score a row counts as unmatched: no point is written, the error names the best guess."""
CACHE_SIZE: Final = 100_000
MAX_PROBLEMS: Final = 100
PROGRESS_EVERY: Final = 2_000

_HOUSE_RE: Final = re.compile(
    r"^\s*(?:(?:số\s*nhà|số|nhà|sn|so\s*nha|so|nha)\.?\s*)?(\d+[a-zA-Z]{0,3}(?:/\d+[a-zA-Z]{0,3})*)(?=[\s,;])",
    re.IGNORECASE,
)

Progress = Callable[[int], None]
V = TypeVar("V")


def cache_key(text: str) -> str:
    """The text a cache knows a query by: lower case, single spaces.

    >>> cache_key("  Xóm  Lác,   Mai Châu ")
    'xóm lác, mai châu'
    """
    return " ".join(text.lower().split())


def skeleton(key: str) -> tuple[str, str] | None:
    """(text with the leading house number replaced by "#", the number), or None without one.

    >>> skeleton("số 12a trần hưng đạo, phường hòa bình")
    ('# trần hưng đạo, phường hòa bình', '12a')
    >>> skeleton("xóm lác, mai châu") is None
    True
    """
    found = _HOUSE_RE.match(key)
    if found is None:
        return None
    return "#" + key[found.end() :], found.group(1)


class _Bounded(dict[str, V]):
    """A dict that forgets its oldest entries beyond a size."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: str, value: V) -> None:
        """Store a value, dropping the oldest entry when full."""
        if len(self) >= self.size:
            del self[next(iter(self))]
        self[key] = value


@dataclass(frozen=True, slots=True)
class _Answer:
    """What a row gets: its output cells, whether it matched, the error (if any)."""

    cells: tuple[str, ...]
    matched: bool
    error: str | None


def _name(component: Component | None) -> str:
    return component.name if component is not None else ""


def _cells(result: GeocodeResult | None, error: str | None) -> tuple[str, ...]:
    """The output cells of one row (only the error when there is no result)."""
    if result is None:
        return ("",) * (len(OUTPUT_COLUMNS) - 1) + (error or "",)
    parsed = result.parsed
    old_commune = next((u for u in result.old_units if u.level == "commune"), None)
    old_district = next((u for u in result.old_units if u.level == "district"), None)
    unit = result.current_unit
    return (
        f"{result.lon:.7f}",
        f"{result.lat:.7f}",
        f"{result.score:.3f}",
        result.match_level,
        result.kind,
        result.label,
        unit.code if unit else "",
        unit.full_name if unit else "",
        old_commune.code if old_commune else "",
        old_commune.full_name if old_commune else "",
        old_district.full_name if old_district else "",
        result.codes.location_code,
        result.codes.registry_code or "",
        _name(parsed.house_number),
        _name(parsed.street),
        _name(parsed.village),
        _name(parsed.commune),
        _name(parsed.district),
        _name(parsed.province),
        result.point_precision,
        _formed_from(result) or _old_units_precision(old_commune, old_district),
        result.note or "",
        error or "",
    )


FORMED_FROM: Final = "one of {count} pre-2025 communes the answer was formed from: {names}"
"""``old_units_precision`` of a 2025 commune answered as a whole, formed from several old communes."""


def _formed_from(result: GeocodeResult) -> str | None:
    """For a 2025 commune formed from several old communes: the old-unit columns show only one of them.

    The text names the 2025 commune, not a place in it, so which predecessor is meant is not
    known; None when the answer is something else, or had one predecessor.
    """
    if result.kind != "commune":
        return None
    names = [unit.full_name for unit in result.old_units if unit.level == "commune"]
    if len(names) < 2:
        return None
    return FORMED_FROM.format(count=len(names), names=", ".join(names))


def _old_units_precision(*units: OldUnit | None) -> str:
    """How sure the old-unit columns are: the least sure of them ("" when there are none).

    >>> _old_units_precision(None, None), _old_units_precision(OldUnit("04921", "X", "Xã X", "commune"))
    ('', 'exact')
    """
    known = [unit.precision for unit in units if unit is not None]
    return next((p for p in known if p != EXACT), EXACT) if known else ""


def _answer(found: Best) -> _Answer:
    """The row answer to a full search."""
    result = found.result
    if result is None:
        return _Answer(_cells(None, "no match"), False, "no match")
    if result.score < MIN_SCORE:
        error = f"no confident match (best guess {result.label!r}, score {result.score:.2f})"
        return _Answer(_cells(None, error), False, error)
    return _Answer(_cells(result, None), True, None)


_LON, _LAT, _KIND, _MATCH_LEVEL, _LABEL = (
    OUTPUT_COLUMNS.index(n) for n in ("lon", "lat", "kind", "match_level", "label")
)
_LOCATION_CODE, _REGISTRY_CODE = OUTPUT_COLUMNS.index("location_code"), OUTPUT_COLUMNS.index("registry_code")
_HOUSE_NUMBER, _NOTE = OUTPUT_COLUMNS.index("house_number"), OUTPUT_COLUMNS.index("note")
_POINT_PRECISION = OUTPUT_COLUMNS.index("point_precision")


@dataclass(frozen=True, slots=True)
class _Street:
    """A street or village answer that rows with other house numbers reuse.

    ``cells`` are the first row's cells (units, parsed components); ``where`` holds the
    commune and province full names for labels.
    """

    group: int
    name: str
    lon: float
    lat: float
    kind: str
    match_level: str
    cells: tuple[str, ...]
    where: str
    precision: str = EXACT

    @classmethod
    def of(cls, entry: Entry, result: GeocodeResult, cells: tuple[str, ...]) -> _Street:
        """The reusable part of a full search answer."""
        units = (result.current_unit, result.current_province)
        where = label(*(unit.full_name for unit in units if unit))
        return cls(
            entry.group,
            entry.name,
            entry.lon,
            entry.lat,
            entry.kind,
            entry.match_level,
            cells,
            where,
            entry.point_precision,
        )

    def cells_for(self, state: IndexState, house: str) -> tuple[str, ...] | None:
        """The cells of this street with another house number (None: not a house number)."""
        key = house_key(house)
        if key is None:
            return None
        found = _house_point(state, self.group, key)
        cells = list(self.cells)
        cells[_HOUSE_NUMBER] = house
        if found is None:
            lon, lat, registry = self.lon, self.lat, ""
            cells[_KIND], cells[_MATCH_LEVEL] = self.kind, self.match_level
            cells[_POINT_PRECISION] = self.precision
            cells[_LABEL] = label(self.name, self.where)
            cells[_NOTE] = HOUSE_NOT_FOUND.format(house=house)
        else:
            lon, lat, _ref, code = found
            registry = code or ""
            cells[_KIND] = cells[_MATCH_LEVEL] = "address"
            cells[_POINT_PRECISION] = EXACT
            cells[_LABEL] = label(f"Số {house}", self.name, self.where)
            cells[_NOTE] = ""
        cells[_LON], cells[_LAT] = f"{lon:.7f}", f"{lat:.7f}"
        cells[_LOCATION_CODE], cells[_REGISTRY_CODE] = encode(lon, lat), registry
        return tuple(cells)


def _house_point(state: IndexState, group: int, key: str) -> tuple[float, float, str, str | None] | None:
    """Point, reference and registry code of a house number in a group (addresses, then places)."""
    hit = state.houses.find(group, key) if group < len(state.addresses.groups) else None
    if hit is not None:
        return hit.lon, hit.lat, hit.ref, hit.registry_code
    place = state.streets.place_houses.get((group, key))
    return None if place is None else (place[0], place[1], place[2], None)


def _output_names(header: Sequence[str]) -> list[str]:
    """The added column names, suffixed where the input already uses one."""
    taken = set(header)
    return [f"{name}_geocoded" if name in taken else name for name in OUTPUT_COLUMNS]


def address_columns(header: Sequence[str], column: str | Sequence[str]) -> tuple[int, ...]:
    """Where the address column(s) are; a name not in the header is an InvalidParameterError."""
    names = [column] if isinstance(column, str) else list(column)
    if not names:
        raise InvalidParameterError("column", "name at least one address column")
    missing = [name for name in names if name not in header]
    if missing:
        raise InvalidParameterError(
            "column", f"{', '.join(map(repr, missing))} not in the CSV header ({', '.join(header)})"
        )
    return tuple(header.index(name) for name in names)


@dataclass(slots=True)
class _Counts:
    rows: int = 0
    matched: int = 0
    unmatched: int = 0
    bad: int = 0
    cache_hits: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, number: int, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"row {number}: {text}")


class _Geocoder:
    """Answers rows, with the two caches."""

    def __init__(self, state: IndexState, positions: tuple[int, ...], width: int) -> None:
        self.state = state
        self.positions = positions
        self.width = width
        self.exact: _Bounded[_Answer] = _Bounded(CACHE_SIZE)
        self.normal: _Bounded[_Answer] = _Bounded(CACHE_SIZE)
        self.streets: _Bounded[_Street] = _Bounded(CACHE_SIZE)
        self.counts = _Counts()

    def row(self, number: int, row: list[str]) -> list[str]:
        """The output row: the input row and the added cells.

        A row with too few fields is padded, one with too many is cut to the header (the
        rest is quoted in its error), so the added columns always line up.
        """
        counts = self.counts
        counts.rows += 1
        if len(row) != self.width:
            extra = f" (extra: {row[self.width :]!r})" if len(row) > self.width else ""
            return self._bad(
                number, row[: self.width], f"{len(row)} fields, the header has {self.width}{extra}"
            )
        text = ", ".join(part for part in (row[i].strip() for i in self.positions) if part)
        if not text:
            return self._bad(number, row, "empty address")
        try:
            answer = self._answer(text)
        except DiachisoError as error:
            return self._bad(number, row, str(error))
        if answer.matched:
            counts.matched += 1
        else:
            counts.unmatched += 1
            counts.problem(number, answer.error or "no match")
        return [*row, *answer.cells]

    def _bad(self, number: int, row: list[str], error: str) -> list[str]:
        self.counts.bad += 1
        self.counts.problem(number, error)
        return [*row, *([""] * (self.width - len(row))), *_cells(None, error)]

    def _answer(self, text: str) -> _Answer:
        """The answer for a text: the same text seen before, another house number in a street
        seen before (by its text, then by its normalised text), else a full search."""
        key = cache_key(text)
        answer = self.exact.get(key)
        if answer is None:
            shape = skeleton(key)
            street = self.streets.get(shape[0]) if shape else None
            cells = street.cells_for(self.state, shape[1]) if street and shape else None
            answer = _Answer(cells, True, None) if cells else self._normalised(text, shape)
            self.exact.put(key, answer)
            if cells:
                self.counts.cache_hits += 1
        else:
            self.counts.cache_hits += 1
        return answer

    def _normalised(self, text: str, shape: tuple[str, str] | None) -> _Answer:
        """The same, keyed by the normalised text (case, marks style, abbreviations, commas)."""
        normal = normalize(text)
        answer = self.normal.get(normal)
        if answer is not None:
            self.counts.cache_hits += 1
            return answer
        normal_shape = skeleton(normal)
        street = self.streets.get(normal_shape[0]) if normal_shape else None
        cells = street.cells_for(self.state, normal_shape[1]) if street and normal_shape else None
        if cells is not None and street is not None:
            self.counts.cache_hits += 1
            answer = _Answer(cells, True, None)
        else:
            answer, street = self._search(text)
        if street is not None:
            for found in (shape, normal_shape):
                if found is not None:
                    self.streets.put(found[0], street)
        self.normal.put(normal, answer)
        return answer

    def _search(self, text: str) -> tuple[_Answer, _Street | None]:
        """A full search, and the street or village it found (to reuse for other house numbers)."""
        found = best(self.state, text)
        answer = _answer(found)
        entry, result = found.entry, found.result
        if answer.matched and entry is not None and result is not None and entry.group >= 0:
            return answer, _Street.of(entry, result, answer.cells)
        return answer, None


def _rows(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """Data rows numbered from 1."""
    return enumerate(reader, start=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchOptions:
    """How to geocode a CSV file: its address column(s), its field separator, who hears of progress.

    ``column`` names the address column, or several joined with ", " in the given order
    (house number, street, commune...). ``progress`` is called with the number of rows
    done, every :data:`PROGRESS_EVERY` rows and at the end.

    >>> BatchOptions(column=("thon", "xa"), delimiter=";")
    BatchOptions(column=('thon', 'xa'), delimiter=';', progress=None)
    """

    column: str | tuple[str, ...]
    delimiter: str = ","
    progress: Progress | None = None


def geocode_csv(
    index: GeocoderIndex, conn: Connection | None, src: TextIO, dst: TextIO, *, options: BatchOptions
) -> BatchReport:
    """Geocode the address column(s) of a CSV stream into another CSV stream.

    With ``conn`` the index first refreshes itself if the data changed.
    """
    started = time.perf_counter()
    if conn is not None:
        index.refresh_if_stale(conn)
    reader = csv.reader(src, delimiter=options.delimiter)
    header = next(reader, None)
    if header is None:
        raise InvalidParameterError("src", "the CSV file is empty: no header row")
    geocoder = _Geocoder(index.state, address_columns(header, options.column), len(header))
    writer = csv.writer(dst, delimiter=options.delimiter, lineterminator="\n")
    writer.writerow([*header, *_output_names(header)])
    progress = options.progress
    for number, row in _rows(reader):
        writer.writerow(geocoder.row(number, row))
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number)
    counts = geocoder.counts
    if progress is not None:
        progress(counts.rows)
    return BatchReport(
        rows=counts.rows,
        matched=counts.matched,
        unmatched=counts.unmatched,
        bad=counts.bad,
        seconds=time.perf_counter() - started,
        cache_hits=counts.cache_hits,
        problems=tuple(counts.problems),
    )
