"""Check and build the rows of a first import chunk by chunk, while the database stores them.

An import of rows its source never imported (every large first load) needs only a
few cheap things from the whole file before its COPY can start: the geometry checks
(which rows are kept, vectorised), how many registry codes to draw and, only when
its source has rows stored already, its source ids (that none is stored yet). A
source id repeating an earlier one is found chunk by chunk. The text checks (NFC, invisible
formatting, lengths, required fields, statuses, unstorable original fields) and the
building of the rows (commune, codes, ``raw`` JSON, EWKB), most of the client's work,
then run on one chunk while the database stores the one before
(:func:`addresses.bulk.copy_frames`), so the import takes about as long as the COPY.

A problem found in a chunk stops the writing; the remaining chunks are still checked,
so the error lists every problem of the file, as when the whole file is checked
first, and raising it inside the COPY aborts it (the caller rolls the rows back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from addresses import changes
from addresses.datasets import DatasetSpec
from addresses.errors import ImportValidationError
from importers import arrowtext, prepare
from importers.mapping import FieldMapping, all_none, apply_mapping
from importers.points import Geoms, PlainPoints, as_geoms
from importers.readers import FEATURE
from importers.validate import (
    Rejection,
    canonical_column,
    coordinate_problems,
    duplicate_problems,
    duplicate_warnings,
    geometry_rejections,
    holds_no_formatting,
    normalise_text,
    point_duplicate_warnings,
    point_territory_rejections,
    repair_geometries,
    required_problems,
    status_problems,
    strip_formatting,
    territory_rejections,
    text_problems,
    unstorable_problems,
)

FIRST_CHUNK_ROWS = 2_000
"""Rows checked and built before the COPY starts: few, so that it starts almost at once."""
CHUNK_ROWS = prepare.BATCH_ROWS
"""Rows checked and built at a time once the chunks have grown."""
CHUNK_GROWTH = 3
"""How many times larger each chunk is than the one before, up to ``CHUNK_ROWS``.

The client builds rows about three times as fast as the server stores them into a
large table: the next chunk is ready before the server has stored the one before.
"""


def chunk_bounds(count: int, *, first: int = FIRST_CHUNK_ROWS, size: int = CHUNK_ROWS) -> list[slice]:
    """The row ranges of the chunks: a small first one, each next one larger, up to ``size`` rows.

    >>> [(c.start, c.stop) for c in chunk_bounds(30, first=2, size=10)]
    [(0, 2), (2, 8), (8, 18), (18, 28), (28, 30)]
    >>> chunk_bounds(0)
    []
    """
    bounds: list[slice] = []
    start, length = 0, first
    while start < count:
        bounds.append(slice(start, min(start + length, count)))
        start, length = start + length, min(length * CHUNK_GROWTH, size)
    return bounds


@dataclass(frozen=True)
class Shapes:
    """The geometry verdict of a whole file: repaired geometries, the rows kept, and why others are not."""

    geoms: Geoms
    keep: NDArray[np.bool_]
    unfit: list[Rejection]
    """The rows with no geometry, or one of a kind the dataset cannot hold."""
    outside: list[Rejection]
    """The other rows whose geometry is outside the province."""
    problems: list[Rejection]
    repaired: int

    @property
    def rejections(self) -> list[Rejection]:
        """Every row not kept: those unfit, then those outside."""
        return self.unfit + self.outside


def check_shapes(
    geoms: Geoms,
    features: NDArray[np.int64],
    spec: DatasetSpec,
    province: shapely.Geometry | None,
) -> Shapes:
    """Check and repair every geometry; reject those missing, of a wrong kind or outside the province.

    Plain points (finite, 2D) where the dataset takes points need only the province check.
    """
    if isinstance(geoms, PlainPoints) and "Point" in spec.source_geometry_types:
        outside = point_territory_rejections(geoms, features, province)
        return Shapes(geoms, ~np.isin(features, [r.feature for r in outside]), [], outside, [], 0)
    geoms = as_geoms(geoms)
    problems = coordinate_problems(geoms, features)  # before a repair makes such a geometry empty
    geoms, repaired = repair_geometries(geoms)
    unfit = geometry_rejections(geoms, features, spec)
    candidates = ~np.isin(features, [r.feature for r in unfit])
    outside = territory_rejections(geoms[candidates], features[candidates], province)
    keep = ~np.isin(features, [r.feature for r in unfit + outside])
    return Shapes(geoms, keep, unfit, outside, problems, repaired)


@dataclass(frozen=True)
class TextChecks:
    """A chunk's rows with their text normalised, and what checking them found."""

    rows: pd.DataFrame
    problems: list[Rejection]
    stripped: dict[str, list[str]]
    """The invisible-formatting warnings, by field."""


def check_text(rows: pd.DataFrame, features: NDArray[np.int64], spec: DatasetSpec) -> TextChecks:
    """The row-by-row text checks: NFC and tone marks, formatting stripped, required, length, status.

    Everything :func:`importers.pipeline.validate_rows` checks that one row decides
    alone (repeated ids are checked over the whole file).
    """
    rows, stripped = strip_by_field(normalise_text(_gaps_as_none(rows)), features)
    problems = required_problems(rows, features, spec) + text_problems(rows, features)
    return TextChecks(rows, problems + status_problems(rows, features), stripped)


def _gaps_as_none(rows: pd.DataFrame) -> pd.DataFrame:
    """The columns holding no value as None objects, as mapping gives a file's empty columns.

    A chunk of a text column may hold only its gaps (NaN), which pandas would then
    take for a float column.
    """
    nothing = np.full(len(rows), None, dtype=object)
    empty = {str(name): pd.Series(nothing, index=rows.index) for name in rows if _holds_nothing(rows[name])}
    return rows.assign(**empty) if empty else rows


def _holds_nothing(values: pd.Series) -> bool:
    """Whether every cell of a column is missing, not all as None objects already (mapping gives those).

    For Arrow text, told by its null count.
    """
    text = arrowtext.arrow_text(values)
    if text is not None:
        return bool(text.null_count == len(text))
    if values.dtype == object and len(values) and all_none(values.to_numpy()):
        return False  # already as wanted
    return bool(values.isna().all())


def strip_by_field(
    rows: pd.DataFrame, features: NDArray[np.int64]
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """:func:`importers.validate.strip_formatting`, with its warnings kept by field."""
    notes: dict[str, list[str]] = {}
    changed: dict[str, pd.Series] = {}
    for name in rows.columns:
        if holds_no_formatting(rows[name]):
            continue
        column, found = strip_formatting(rows[[name]], features)
        if found:
            notes[str(name)], changed[str(name)] = found, column[name]
    return (rows.assign(**changed) if changed else rows), notes


def field_order(notes: dict[str, list[str]], fields: pd.Index) -> list[str]:
    """The warnings of every field, field after field in the order of ``fields``."""
    return [note for name in fields for note in notes.get(str(name), [])]


def checked_ids(rows: pd.DataFrame, features: NDArray[np.int64]) -> pd.Series:
    """The source id column of every row as the text checks leave it (NFC, formatting stripped)."""
    column = canonical_column(rows["source_id"])
    stripped, _ = strip_formatting(column.to_frame(), features)
    ids: pd.Series = stripped["source_id"]
    return ids


def raise_on(file_name: str, problems: list[Rejection]) -> None:
    """Fail the whole file (ImportValidationError) when there are problems, listed by row and field."""
    if problems:
        ordered = sorted(problems, key=lambda r: (r.feature, r.field))
        raise ImportValidationError(file_name, [str(p) for p in ordered])


def original_fields(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each row's original fields (geometry and row number left out), kept as ``raw``."""
    return pd.DataFrame(frame.drop(columns=[frame.geometry.name, FEATURE]))


Geometries = Callable[[slice], NDArray[np.object_]]
"""The geometries (in WGS 84) of a range of a file's rows, decoded when asked for."""
Points = Callable[[slice], PlainPoints | None]
"""The coordinates (in WGS 84) of a range of a file's rows when all are plain points; else None."""


@dataclass(frozen=True)
class Chunked:
    """A file whose rows are all new to their source, ready to be read, checked and built chunk by chunk."""

    frame: gpd.GeoDataFrame
    """The rows as read (their original fields are kept as ``raw``)."""
    geometries: Geometries
    points: Points
    mapping: FieldMapping
    columns: pd.Index
    """The fields the mapping gives, in order."""
    features: NDArray[np.int64]
    province: shapely.Geometry | None
    source: str
    strict: bool = False
    """Whether a rejected row fails the file (``ImportOptions.strict``)."""

    @property
    def spec(self) -> DatasetSpec:
        """The dataset the rows become."""
        return self.mapping.spec


@dataclass
class Findings:
    """What checking the chunks found so far."""

    problems: list[Rejection] = field(default_factory=list)
    unfit: list[Rejection] = field(default_factory=list)
    """The rows not kept for their geometry's absence or kind."""
    outside: list[Rejection] = field(default_factory=list)
    """The rows not kept for being outside the province."""
    repaired: int = 0
    stripped: dict[str, list[str]] = field(default_factory=dict)
    labels: list[pd.Series] = field(default_factory=list)
    """The checked name (else house number) of each kept row, for the repeated-row warnings."""
    geoms: list[Geoms] = field(default_factory=list)
    """The (repaired) geometry of each kept row, chunk after chunk."""
    kept_features: list[NDArray[np.int64]] = field(default_factory=list)
    boxes: list[NDArray[np.float64]] = field(default_factory=list)
    """The tile-invalidation boxes around the kept rows as written, chunk by chunk (changes.grid_boxes)."""
    ids: list[pd.Series] = field(default_factory=list)
    """The checked source id of every row, chunk after chunk."""
    seen: set[object] = field(default_factory=set)
    """The source ids of the chunks so far."""
    repeated: bool = False
    """Whether a source id repeats one of an earlier row (listed once all chunks are checked)."""
    warnings: list[str] = field(default_factory=list)
    """Every warning of the text checks, once all chunks are checked."""

    def add_shapes(self, shapes: Shapes, features: NDArray[np.int64], *, strict: bool) -> None:
        """Add one chunk's geometry verdict (its rejections are problems when ``strict``)."""
        self.problems += shapes.problems + (shapes.rejections if strict else [])
        self.unfit += shapes.unfit
        self.outside += shapes.outside
        self.repaired += shapes.repaired
        self.geoms.append(shapes.geoms[shapes.keep])
        self.kept_features.append(features[shapes.keep])

    def add(self, text: TextChecks, unstorable: list[Rejection], keep: NDArray[np.bool_]) -> None:
        """Add one chunk's text findings."""
        self.problems += text.problems + unstorable
        for name, notes in text.stripped.items():
            self.stripped.setdefault(name, []).extend(notes)
        label = text.rows.get("name", text.rows.get("house_number"))
        if label is not None:
            self.labels.append(label[keep])
        self._add_ids(text.rows["source_id"])

    def _add_ids(self, ids: pd.Series) -> None:
        """Note a chunk's source ids, and whether one repeats an id of this or an earlier chunk."""
        present = ids[ids.notna()].tolist()
        self.repeated = self.repeated or len(set(present)) < len(present) or not self.seen.isdisjoint(present)
        self.seen.update(present)
        self.ids.append(ids)

    @property
    def failed(self) -> bool:
        """Whether the file cannot be imported (nothing more is written)."""
        return self.repeated or bool(self.problems)

    @property
    def rejections(self) -> list[Rejection]:
        """Every row not kept so far, as a check of the whole file lists them: unfit, then outside."""
        return self.unfit + self.outside

    @property
    def kept(self) -> int:
        """How many rows the chunks so far keep."""
        return sum(len(g) for g in self.geoms)

    def all_boxes(self) -> NDArray[np.float64]:
        """The tile-invalidation boxes around every kept row so far (the chunks' boxes grouped again)."""
        return changes.grid_boxes(np.concatenate(self.boxes)) if self.boxes else np.empty((0, 4))

    def kept_geoms(self) -> Geoms:
        """The geometry of every kept row so far, in file order (as plain points when every chunk's are)."""
        if self.geoms and all(isinstance(g, PlainPoints) for g in self.geoms):
            return PlainPoints(np.concatenate([g.xy for g in self.geoms if isinstance(g, PlainPoints)]))
        return np.concatenate([as_geoms(g) for g in self.geoms]) if self.geoms else np.empty(0, dtype=object)

    def source_ids(self) -> pd.DataFrame:
        """The checked source id of every row checked so far (the column ``source_id``)."""
        return pd.DataFrame({"source_id": pd.concat(self.ids)})


def row_chunks(
    chunked: Chunked, placement: prepare.Placement, findings: Findings, *, file_name: str
) -> Iterator[pd.DataFrame]:
    """Read, check and build each chunk, yielding its kept rows while no problem is found; then finish.

    ``placement`` holds at least one registry code per kept row, in file order (the
    caller gives back those left over: ``findings.kept``). Each chunk's geometries are
    decoded and checked with it. After the last chunk, the repeated-row warnings go to
    ``findings``; any problem (repeated source ids among them, found chunk by chunk)
    raises ImportValidationError (inside the COPY consuming the chunks, which aborts it).
    """
    spec = chunked.spec
    for rows in chunk_bounds(len(chunked.frame), first=FIRST_CHUNK_ROWS, size=CHUNK_ROWS):
        features, frame = chunked.features[rows], chunked.frame.iloc[rows]
        kept_before = findings.kept
        shapes = check_shapes(chunk_geoms(chunked, rows), features, spec, chunked.province)
        findings.add_shapes(shapes, features, strict=chunked.strict)
        written = prepare.written_bounds(shapes.geoms[shapes.keep], spec)
        findings.boxes.append(changes.grid_boxes(written))  # while the server stores rows
        text = check_text(apply_mapping(frame, chunked.mapping, file_name), features, spec)
        fields = original_fields(frame)
        keep = shapes.keep
        findings.add(text, unstorable_problems(fields, features), keep)
        kept = int(keep.sum())
        if kept and not findings.failed:
            where = placement.take(np.arange(kept_before, kept_before + kept))
            yield prepare.located_rows(
                text.rows[keep],
                shapes.geoms[keep],
                fields[keep],
                source=chunked.source,
                spec=spec,
                placement=where,
            )
    if findings.repeated:
        findings.problems += duplicate_problems(findings.source_ids(), chunked.features)
    raise_on(file_name, findings.problems)
    findings.warnings = field_order(findings.stripped, chunked.columns) + _repeated(findings)


def chunk_geoms(chunked: Chunked, rows: slice) -> Geoms:
    """The geometries of a chunk: as plain points when they all are, else decoded."""
    points = chunked.points(rows)
    return chunked.geometries(rows) if points is None else points


def _repeated(findings: Findings) -> list[str]:
    """The warnings for kept rows repeating the name and geometry of an earlier row."""
    if not findings.labels:
        return []
    labels = pd.DataFrame({"name": pd.concat(findings.labels)})
    geoms, features = findings.kept_geoms(), np.concatenate(findings.kept_features)
    if isinstance(geoms, PlainPoints):
        return point_duplicate_warnings(labels, geoms, features)
    return duplicate_warnings(labels, geoms, features)


def id_problems(rows: pd.DataFrame, features: NDArray[np.int64]) -> tuple[pd.Series, list[Rejection]]:
    """The checked source id of every row, and the rows repeating the id of an earlier row."""
    ids = checked_ids(rows, features)
    return ids, duplicate_problems(ids.to_frame(), features)
