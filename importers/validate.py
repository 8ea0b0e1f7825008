"""Validate mapped rows before loading: text, geometry, territory, required fields, duplicates.

Two kinds of findings:
- *problems* make the whole file fail (nothing is written): a required field empty, a
  duplicate id, a value that cannot be read;
- *rejections* drop one feature and are reported (no geometry, outside the province,
  a geometry of the wrong kind); ``strict`` turns them into problems.
Invalid geometries are repaired (``shapely.make_valid``) and counted. Text and
coordinates follow the rules of :mod:`addresses.validation`, the ones API edits follow:
a control character, an over-long value or a non-finite coordinate is a problem;
invisible formatting (bidi controls, zero-width characters) is stripped with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from numpy.typing import NDArray

from addresses import validation
from addresses.datasets import DatasetSpec
from addresses.text import canonical_text
from addresses.types import STATUSES
from importers import arrowtext
from importers.mapping import all_none, is_text
from importers.points import PlainPoints


@dataclass(frozen=True)
class Rejection:
    """One feature left out, with where and why."""

    feature: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.feature}, field {self.field!r}: {self.reason}"


@dataclass
class Validated:
    """Rows that passed, and what was found on the way."""

    rows: pd.DataFrame
    geoms: NDArray[np.object_]
    rejections: list[Rejection] = field(default_factory=list)
    problems: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repaired: int = 0


def canonical_value(value: object) -> object:
    """Text in NFC with one canonical tone-mark placement ("Hoà" -> "Hòa"); non-text unchanged."""
    return canonical_text(value) if isinstance(value, str) else value


def normalise_text(rows: pd.DataFrame) -> pd.DataFrame:
    """All text fields in NFC with canonical tone marks (the originals stay in ``raw``)."""
    return pd.DataFrame({name: canonical_column(rows[name]) for name in rows.columns}, index=rows.index)


def canonical_column(values: pd.Series) -> pd.Series:
    """``values.map(canonical_value)``, canonicalising each distinct non-ASCII text once.

    ASCII text is already canonical (NFC and the tone rule only touch non-ASCII letters).
    """
    text = arrowtext.arrow_text(values)
    if text is not None and text.null_count < len(text):
        return pd.Series(arrowtext.as_text(_canonical_arrow(text)), index=values.index, name=values.name)
    if is_text(values) and values.notna().any() and _plain_gaps(values):
        return pd.Series(_canonical_cells(values), index=values.index, dtype="str", name=values.name)
    if len(values) and values.dtype == object and all_none(values.to_numpy()):
        return values.copy()
    return values.map(canonical_value)


def _plain_gaps(values: pd.Series) -> bool:
    """Whether the missing cells are only None or float NaN (which text dtype stores as NaN)."""
    if values.dtype != object:
        return True
    gaps = values.to_numpy()[values.isna().to_numpy()]
    return set(map(type, gaps.tolist())) <= {type(None), float}


def _canonical_cells(values: pd.Series) -> NDArray[np.object_]:
    """The cells as objects, non-ASCII text replaced by its canonical form (computed once per value)."""
    cells = values.to_numpy(dtype=object)
    present = values.notna().to_numpy(copy=True)
    texts = cells[present].tolist()
    present[present] = ~np.fromiter(map(str.isascii, texts), dtype=bool, count=len(texts))  # in C
    if present.any():
        cells = cells.copy()
        codes, uniques = pd.factorize(cells[present])
        canonical = np.array([canonical_text(text) for text in uniques.tolist()], dtype=object)
        cells[present] = canonical[codes]
    return cells


def _canonical_arrow(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Arrow text, its non-ASCII cells in canonical form (each distinct one canonicalised once, in Python)."""
    wide = pc.invert(pc.fill_null(pc.string_is_ascii(text), True))
    if not pc.any(wide).as_py():
        return text
    uniques = pc.unique(pc.filter(text, wide))
    originals: list[str] = uniques.to_pylist()
    canonical = [canonical_text(value) for value in originals]
    if canonical == originals:
        return text
    replaced = pc.take(pa.array(canonical, type=text.type), pc.index_in(text, value_set=uniques))
    changed: pa.ChunkedArray = pc.if_else(wide, replaced, text)
    return changed


def repair_geometries(geoms: NDArray[np.object_]) -> tuple[NDArray[np.object_], int]:
    """Make invalid geometries valid, keeping polygons polygonal; return them and the count."""
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    invalid = present & ~shapely.is_valid(geoms)
    fixed = geoms.copy()
    if invalid.any():
        repaired = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        fixed[invalid] = repaired
    return fixed, int(invalid.sum())


def geometry_rejections(
    geoms: NDArray[np.object_], features: NDArray[np.int64], spec: DatasetSpec
) -> list[Rejection]:
    """Features with no geometry (where the dataset needs one) or a geometry type it cannot hold."""
    found: list[Rejection] = []
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if spec.geometry_required:
        found += [Rejection(int(f), "geometry", "no geometry") for f in features[missing]]
    allowed = spec.source_geometry_types
    type_ids = shapely.get_type_id(geoms)
    allowed_ids = [shapely.GeometryType[name.upper()].value for name in allowed]
    wrong = ~missing & ~np.isin(type_ids, allowed_ids)
    expected = "/".join(sorted(allowed))
    found += [
        Rejection(int(f), "geometry", f"{g.geom_type} is not allowed here (expected {expected})")
        for f, g in zip(features[wrong], geoms[wrong], strict=True)
    ]
    return found


def territory_rejections(
    geoms: NDArray[np.object_], features: NDArray[np.int64], territory: shapely.Geometry | None
) -> list[Rejection]:
    """Features whose geometry does not touch the territory (the province plus a margin)."""
    if territory is None:
        return []
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    shapely.prepare(territory)
    points = present & (shapely.get_type_id(geoms) == shapely.GeometryType.POINT)
    others = present & ~points
    inside = np.zeros(len(geoms), dtype=bool)
    xs, ys = shapely.get_x(geoms[points]), shapely.get_y(geoms[points])
    inside[points] = shapely.contains_xy(territory, xs, ys)
    inside[others] = shapely.intersects(territory, geoms[others])
    outside = present & ~inside
    return _outside(territory, geoms[outside], features[outside])


def point_territory_rejections(
    points: PlainPoints, features: NDArray[np.int64], territory: shapely.Geometry | None
) -> list[Rejection]:
    """:func:`territory_rejections` of plain points, from their coordinates."""
    if territory is None:
        return []
    shapely.prepare(territory)
    outside = ~shapely.contains_xy(territory, points.xs, points.ys)
    return _outside(territory, points[outside].geoms(), features[outside])


def _outside(
    territory: shapely.Geometry, geoms: NDArray[np.object_], features: NDArray[np.int64]
) -> list[Rejection]:
    """The rejections of geometries outside the territory, with how far they are."""
    distances = shapely.distance(territory, geoms) * 111.0 if len(geoms) else []
    return [
        Rejection(int(f), "geometry", f"outside the province (about {d:.1f} km away)")
        for f, d in zip(features, distances, strict=True)
    ]


def required_problems(rows: pd.DataFrame, features: NDArray[np.int64], spec: DatasetSpec) -> list[Rejection]:
    """Rows whose required fields are empty."""
    found: list[Rejection] = []
    for name in spec.required_fields:
        empty = rows[name].isna().to_numpy()
        found += [Rejection(int(f), name, "required but empty") for f in features[empty]]
    return found


def duplicate_problems(rows: pd.DataFrame, features: NDArray[np.int64]) -> list[Rejection]:
    """Rows that repeat another row's source id (the key of idempotent re-import)."""
    ids = rows["source_id"]
    repeated = ids.duplicated(keep="first").to_numpy()
    dup = repeated & ids.notna().to_numpy()
    if not dup.any():
        return []
    first = dict(zip(ids[~repeated], features[~repeated], strict=True))
    return [
        Rejection(int(f), "source_id", f"duplicate id {i!r} (first at row {first[i]})")
        for f, i in zip(features[dup], ids[dup], strict=True)
    ]


def status_problems(rows: pd.DataFrame, features: NDArray[np.int64]) -> list[Rejection]:
    """Rows with a status other than proposed, active or retired (none when there is no status field)."""
    if "status" not in rows:
        return []
    status = rows["status"]
    bad = (status.notna() & ~status.isin(STATUSES)).to_numpy()
    return [
        Rejection(int(f), "status", f"{s!r} is not one of {STATUSES}")
        for f, s in zip(features[bad], status[bad], strict=True)
    ]


def duplicate_warnings(
    rows: pd.DataFrame, geoms: NDArray[np.object_], features: NDArray[np.int64]
) -> list[str]:
    """Rows with the same name/house number and the same geometry as an earlier row."""
    return _repeats(rows, _geometry_key(geoms), ~shapely.is_missing(geoms), features)


def point_duplicate_warnings(
    rows: pd.DataFrame, points: PlainPoints, features: NDArray[np.int64]
) -> list[str]:
    """:func:`duplicate_warnings` of plain points, keyed by the bits of their coordinates."""
    key = {"missing": np.zeros(len(points), dtype=bool), **_xy_bits(points.xy)}
    return _repeats(rows, key, np.ones(len(points), dtype=bool), features)


def _repeats(
    rows: pd.DataFrame,
    key: dict[str, NDArray[np.generic]],
    present: NDArray[np.bool_],
    features: NDArray[np.int64],
) -> list[str]:
    """The warnings for rows (with a geometry) repeating the label and geometry ``key`` of an earlier row."""
    label = rows.get("name", rows.get("house_number"))
    if label is None:
        return []
    frame = pd.DataFrame({"label": label, **key}, index=rows.index)
    dup = frame.duplicated(keep="first").to_numpy() & present
    return [f"row {int(f)} repeats the name and geometry of an earlier row" for f in features[dup]]


def _geometry_key(geoms: NDArray[np.object_]) -> dict[str, NDArray[np.generic]]:
    """Columns that are equal exactly when the WKB of two geometries is equal (None: no WKB).

    When every geometry is a finite 2D point or missing, x and y bits replace the WKB.
    """
    missing = shapely.is_missing(geoms)
    present = geoms[~missing]
    points = shapely.get_type_id(present) == shapely.GeometryType.POINT
    simple = points & ~shapely.is_empty(present) & ~shapely.has_z(present) & ~shapely.has_m(present)
    if not simple.all():
        return {"wkb": shapely.to_wkb(geoms)}
    xy = np.zeros((len(geoms), 2))
    xy[~missing] = shapely.get_coordinates(present)
    if not np.isfinite(xy).all():
        return {"wkb": shapely.to_wkb(geoms)}
    return {"missing": missing, **_xy_bits(xy)}


def _xy_bits(xy: NDArray[np.float64]) -> dict[str, NDArray[np.generic]]:
    """The bits of x and y as integers: equal exactly when the coordinates' WKB is equal."""
    return {"x": xy[:, 0].view(np.int64), "y": xy[:, 1].view(np.int64)}


def strip_formatting(rows: pd.DataFrame, features: NDArray[np.int64]) -> tuple[pd.DataFrame, list[str]]:
    """Remove invisible formatting (bidi controls, zero-width characters) from text; say where."""
    notes: list[str] = []
    stripped = {}
    for name in rows.columns:
        if _none_in_arrow(rows[name], _FORMATTING_CHARACTERS):
            continue
        texts, present = _texts(rows[name])
        if texts is None:
            continue
        if not any_match(_FORMATTING, texts):
            continue
        hit = texts.str.contains(validation.FORMATTING_PATTERN, regex=True).to_numpy()
        cells = rows[name].to_numpy(dtype=object).copy()
        where = np.flatnonzero(present)[hit]
        for position, text in zip(where.tolist(), texts[hit].tolist(), strict=True):
            found = ", ".join(validation.describe(c) for c in validation.formatting_characters(text))
            notes.append(
                f"row {int(features[position])}, field {name!r}: removed invisible formatting {found}"
            )
            cells[position] = validation.strip_formatting(text) or None
        stripped[name] = pd.Series(cells, index=rows.index, dtype=object)
    return (rows.assign(**stripped) if stripped else rows), notes


def holds_no_formatting(values: pd.Series) -> bool:
    """Whether :func:`strip_formatting` surely finds nothing in ``values`` (Arrow text without any, no value).

    Known without a Python string per cell: the caller skips the column.
    """
    if values.dtype == object:
        return all_none(values.to_numpy())
    return _none_in_arrow(values, _FORMATTING_CHARACTERS)


def text_problems(rows: pd.DataFrame, features: NDArray[np.int64]) -> list[Rejection]:
    """Text with a control character or longer than its field allows (addresses.validation)."""
    found: list[Rejection] = []
    for name in rows.columns:
        limit = validation.max_length(str(name))
        if _none_in_arrow(rows[name], _CONTROL_CHARACTERS, longer_than=limit):
            continue
        texts, present = _texts(rows[name])
        if texts is None:
            continue
        suspect = _lengths(texts) > limit
        if any_match(_CONTROL, texts):
            suspect |= texts.str.contains(validation.CONTROL_PATTERN, regex=True).to_numpy(dtype=bool)
        positions = np.flatnonzero(present)[suspect]
        for position, text in zip(positions.tolist(), texts[suspect].tolist(), strict=True):
            reason = validation.text_problem(str(name), text)
            if reason is not None:
                found.append(Rejection(int(features[position]), str(name), reason))
    return found


_UNSTORABLE = "[\x00\ud800-\udfff]"
"""NUL and unpaired surrogates: no text column or JSON value of PostgreSQL can hold them."""
_UNSTORABLE_RE: Final = re.compile(_UNSTORABLE)
_FORMATTING: Final = re.compile(validation.FORMATTING_PATTERN)
_CONTROL: Final = re.compile(validation.CONTROL_PATTERN)
_FORMATTING_CHARACTERS: Final = validation.BIDI_CONTROLS + validation.INVISIBLE
"""The characters ``validation.FORMATTING_PATTERN`` matches."""
_CONTROL_CHARACTERS: Final = "".join(
    map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])
)
"""The characters ``validation.CONTROL_PATTERN`` matches, but the surrogates Arrow's UTF-8 cannot hold."""


def _none_in_arrow(values: pd.Series, characters: str, *, longer_than: int | None = None) -> bool:
    """Whether ``values`` are Arrow text, no cell holding one of ``characters`` nor over ``longer_than`` long.

    Then a check has nothing to find in the column, known without a Python string per cell.
    """
    text = arrowtext.arrow_text(values)
    if text is None or arrowtext.holds_any(text, characters):
        return False
    return longer_than is None or not arrowtext.any_longer(text, longer_than)


def any_match(pattern: re.Pattern[str], texts: pd.Series) -> bool:
    """Whether one character of one of the texts matches ``pattern`` (one character class).

    One search over the texts joined by spaces, in C: most files hold no such character,
    and testing each cell in Python cost seconds per 200,000 rows. Cells that are not
    text are left to the cell-by-cell check (True).

    >>> nul = re.compile("[\\x00]")
    >>> any_match(nul, pd.Series(["ab", "c\\x00d"])), any_match(nul, pd.Series(["ab", "cd"]))
    (True, False)
    """
    try:
        joined = " ".join(texts.tolist())
    except TypeError:  # a cell that is not a str
        return True
    return pattern.search(joined) is not None


def _lengths(texts: pd.Series) -> NDArray[np.int64]:
    """The length of each text (0 for a cell that is not text, as ``str.len`` leaves it out)."""
    cells = texts.tolist()
    if pd.api.types.infer_dtype(texts, skipna=False) == "string":  # only str: len in C, no Python loop
        return np.fromiter(map(len, cells), np.int64, len(cells))
    return np.fromiter((len(t) if isinstance(t, str) else 0 for t in cells), np.int64, len(cells))


def unstorable_problems(fields: pd.DataFrame, features: NDArray[np.int64]) -> list[Rejection]:
    """Original fields (kept as ``raw``) holding a NUL byte or an unpaired surrogate."""
    found: list[Rejection] = []
    for name in fields.columns:
        if _none_in_arrow(fields[name], "\x00"):
            continue
        texts, present = _texts(fields[name])
        if texts is None:
            continue
        if not any_match(_UNSTORABLE_RE, texts):
            continue
        hit = texts.str.contains(_UNSTORABLE, regex=True).to_numpy()
        found += [
            Rejection(int(features[p]), str(name), "contains a NUL byte or an unpaired surrogate")
            for p in np.flatnonzero(present)[hit].tolist()
        ]
    return found


def _texts(values: pd.Series) -> tuple[pd.Series | None, NDArray[np.bool_]]:
    """The present cells of a text column as an object Series (None when the column is not text)."""
    present = values.notna().to_numpy()
    if not present.any() or not is_text(values):
        return None, present
    return pd.Series(values.to_numpy(dtype=object)[present], dtype=object), present


def coordinate_problems(geoms: NDArray[np.object_], features: NDArray[np.int64]) -> list[Rejection]:
    """Geometries with a NaN or infinite coordinate (the same rule as API edits)."""
    bad = validation.non_finite(geoms)
    return [Rejection(int(f), "geometry", "coordinates must be finite numbers") for f in features[bad]]
