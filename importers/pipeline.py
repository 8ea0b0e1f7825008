"""Import one file: read -> map fields -> transform CRS -> validate -> COPY + upsert, in one transaction."""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection, Table, func, insert, select, union_all

from addresses import bulk, changes, feed, swap
from addresses.datasets import DatasetSpec
from addresses.errors import ImportValidationError
from addresses.schema import admin_unit, import_run
from importers import chunked, load, locate, prepare
from importers.crs import ResolvedCrs, array_to_wgs84, is_wgs84_lonlat, resolve_crs
from importers.mapping import FieldMapping, apply_mapping, only_field, unmapped_fields
from importers.points import PlainPoints, as_geoms
from importers.readers import FEATURE, CsvOptions, SourceFrame, read_source
from importers.validate import Validated, duplicate_problems, duplicate_warnings, unstorable_problems

#: Old Hoa Binh province with a margin: the territory before any polygon is loaded.
HOA_BINH_BOX = (104.75, 20.25, 105.95, 21.20)
TERRITORY_MARGIN_DEG = 0.02


ImportProgress = Callable[[str, int, int], None]
"""Told how an import advances: a stage ("read", "checked", "written"), rows done, rows in all."""


def no_progress(stage: str, done: int, total: int) -> None:
    """The default progress callback: tells no one."""


@dataclass(frozen=True)
class ImportOptions:
    """What to import and how (the CLI builds one from its options)."""

    mapping: FieldMapping
    source: str | None = None
    crs: str | None = None
    layer: str | None = None
    csv: CsvOptions = field(default_factory=CsvOptions)
    dry_run: bool = False
    strict: bool = False
    assume_official_vn2000: bool = False
    fill_only: bool = False
    rebuild_indexes: bool | None = None
    """Load new rows into a fresh copy of the table, indexed once and swapped in (None: when it pays)."""
    allow_blank_fields: bool = False
    """Let a re-import blank stored values of fields its file has no column for (else it is refused)."""
    progress: ImportProgress = field(default=no_progress, compare=False)


@dataclass
class ImportReport:
    """What an import read, wrote, repaired and rejected."""

    file_name: str
    dataset: str
    source: str
    crs: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    repaired: int = 0
    rejected: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    indexes_rebuilt: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """The report as plain data (stored in import_run.report, printed by the CLI)."""
        return asdict(self)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def territory(conn: Connection) -> shapely.Geometry:
    """The province as loaded (old province and current wards), with a margin; else a box.

    Computed once per state of the units table (their count and latest change).
    """
    version = conn.execute(select(func.count(), func.max(admin_unit.c.updated_at))).one()
    key = (str(conn.engine.url), int(version[0]), version[1])
    if key not in _TERRITORIES:
        _TERRITORIES.clear()
        _TERRITORIES[key] = _territory(conn)
    return _TERRITORIES[key]


_TERRITORIES: dict[tuple[object, ...], shapely.Geometry] = {}


def _territory(conn: Connection) -> shapely.Geometry:
    """Union the province and current ward polygons in PostGIS and add the margin."""
    polygons = union_all(
        select(admin_unit.c.geom).where(admin_unit.c.level == 1, admin_unit.c.code == "17"),
        select(admin_unit.c.geom).where(admin_unit.c.level == 3, admin_unit.c.valid_to.is_(None)),
    ).subquery()
    wkb = conn.execute(select(func.ST_AsBinary(func.ST_Union(polygons.c.geom)))).scalar()
    if wkb is None:
        return shapely.box(*HOA_BINH_BOX)
    return shapely.from_wkb(bytes(wkb)).buffer(TERRITORY_MARGIN_DEG)


def import_file(conn: Connection, path: Path, *, options: ImportOptions) -> ImportReport:
    """Import one file inside the caller's transaction; raise ImportValidationError on problems."""
    source_frame = read_source(path, layer=options.layer, csv_options=options.csv, decode=False)
    default_source = options.source or path.stem
    return import_source(conn, source_frame, options=options, sha256=file_sha256(path), source=default_source)


def import_source(
    conn: Connection, source_frame: SourceFrame, *, options: ImportOptions, sha256: str, source: str
) -> ImportReport:
    """Import rows already read (from a file or a converter) inside the caller's transaction.

    A file whose rows are all new to their source is checked and built chunk by chunk
    while the database stores them (importers.chunked); any other is checked whole first.
    """
    started = time.perf_counter()
    frame = source_frame.frame
    options.progress("read", len(frame), len(frame))
    sample = shapely.get_coordinates(source_frame.geometries(slice(0, 1000)))
    resolved = resolve_crs(
        source_frame.declared_crs,
        override=options.crs,
        xs=sample[:, 0],
        ys=sample[:, 1],
        assume_official_vn2000=options.assume_official_vn2000,
    )
    columns = apply_mapping(frame.iloc[:0], options.mapping, source_frame.file_name).columns  # checks columns
    mapped = Mapped(source_frame, options.mapping, columns, resolved)
    report = ImportReport(
        file_name=source_frame.file_name,
        dataset=options.mapping.dataset,
        source=source,
        crs=f"{resolved.crs.name} ({resolved.source}); {resolved.transformation}",
        rows_read=len(frame),
        dry_run=options.dry_run,
    )
    if not _import_chunked(conn, mapped, options, report):
        _import_checked(conn, mapped, options, report)
    if not options.dry_run:
        _record_run(conn, sha256, report)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


@dataclass
class Mapped:
    """A file as read, how its fields map, and its geometries in WGS 84."""

    read: SourceFrame
    mapping: FieldMapping
    columns: pd.Index
    """The fields the mapping gives, in order."""
    crs: ResolvedCrs
    """The CRS of the file's geometries."""

    @functools.cached_property
    def geoms(self) -> NDArray[np.object_]:
        """Every geometry in WGS 84 (decoded and transformed once, when first asked for)."""
        return self.geoms_of(slice(None))

    def geoms_of(self, rows: slice) -> NDArray[np.object_]:
        """The geometries of ``rows`` in WGS 84 (decoded and transformed now, unless all were)."""
        if "geoms" in self.__dict__:
            kept: NDArray[np.object_] = self.geoms[rows]
            return kept
        return array_to_wgs84(self.read.geometries(rows), self.crs)

    def points_of(self, rows: slice) -> PlainPoints | None:
        """The coordinates of ``rows`` when they are all plain points in WGS 84 still as WKB; else None."""
        if "geoms" in self.__dict__ or not is_wgs84_lonlat(self.crs.crs):
            return None
        return self.read.plain_points(rows)

    @functools.cached_property
    def rows(self) -> pd.DataFrame:
        """The mapped fields of every row (mapped once, when first asked for)."""
        return apply_mapping(self.read.frame, self.mapping, self.read.file_name)

    @functools.cached_property
    def ids(self) -> pd.DataFrame:
        """The mapped source id of every row, the other fields left empty (cheaper than all of them)."""
        if "rows" in self.__dict__:
            return self.rows
        return apply_mapping(self.read.frame, only_field(self.mapping, "source_id"), self.read.file_name)

    @property
    def features(self) -> NDArray[np.int64]:
        """The row number of each row."""
        features: NDArray[np.int64] = self.read.frame[FEATURE].to_numpy()
        return features


def _import_checked(conn: Connection, mapped: Mapped, options: ImportOptions, report: ImportReport) -> None:
    """Check the whole file, then write it (or, for a dry run, say what writing it would do)."""
    frame, rows, features = mapped.read.frame, mapped.rows, mapped.features
    checked = validate_rows(rows, mapped.geoms, features, options, territory(conn))
    checked.problems += unstorable_problems(chunked.original_fields(frame), features)
    _raise_on_problems(report.file_name, checked, options.strict)
    options.progress("checked", len(checked.rows), len(checked.rows))
    report.repaired, report.warnings = checked.repaired, [*_keying_warnings(rows), *checked.warnings]
    report.rejected = [str(r) for r in checked.rejections]
    blanks = Blanks(
        report.file_name, unmapped_fields(frame, options.mapping), allowed=options.allow_blank_fields
    )
    if options.dry_run:
        notes = _dry_run_blanks(conn, checked, report.source, options, blanks)
        report.warnings = [*notes, *report.warnings]
        return
    kept = frame.loc[checked.rows.index]
    written = prepare.SourceRows(checked, chunked.original_fields(kept), report.source)
    counts = write_rows(conn, written, options, blanks=blanks)
    report.inserted, report.updated = counts.inserted, counts.updated
    report.indexes_rebuilt = counts.indexes_rebuilt
    report.warnings = [*counts.warnings, *report.warnings]
    report.unchanged = len(checked.rows) - counts.inserted - counts.updated


def _import_chunked(conn: Connection, mapped: Mapped, options: ImportOptions, report: ImportReport) -> bool:
    """Import a file chunk by chunk when every row it keeps is new to its source; say whether it did.

    When the source has no rows stored (every first load) nothing is checked before
    the COPY starts: each chunk is decoded, checked and built in turn. Not for a dry
    run, a dataset not keyed by source, an empty file; when the source has rows stored,
    only a file whose kept rows are all new, and that fails no check on the whole file
    first (bad coordinates, rejections when strict, repeated ids): others are checked
    whole first.
    """
    spec = options.mapping.spec
    rows_read = len(mapped.read.frame)
    if options.dry_run or not spec.keyed_by_source or rows_read == 0:
        return False
    _lock_for_writing(conn, spec.table, report.source, options, rows=rows_read)
    province = territory(conn)
    known = locate.known_source_ids(conn, spec.table, report.source)
    if len(known) and not _all_new(mapped, options, known, province):
        return False
    rows = chunked.Chunked(
        mapped.read.frame,
        mapped.geoms_of,
        mapped.points_of,
        mapped.mapping,
        mapped.columns,
        mapped.features,
        province,
        report.source,
        strict=options.strict,
    )
    _write_chunked(conn, rows, options, report)
    return True


def _all_new(mapped: Mapped, options: ImportOptions, known: pd.Index, province: shapely.Geometry) -> bool:
    """Whether the file passes its whole-file checks and the rows it keeps are all new to their source.

    Only asked when the source has rows stored: otherwise every row is new, and a
    repeated id is found chunk by chunk, without a pass over the whole file first.
    """
    shapes = chunked.check_shapes(mapped.geoms, mapped.features, options.mapping.spec, province)
    if shapes.problems or not shapes.keep.any() or (options.strict and shapes.rejections):
        return False
    ids, problems = chunked.id_problems(mapped.ids, mapped.features)
    return not problems and bool(locate.is_new(prepare.source_ids(ids[shapes.keep].to_frame()), known).all())


def _write_chunked(
    conn: Connection, rows: chunked.Chunked, options: ImportOptions, report: ImportReport
) -> None:
    """COPY new rows while checking and building them; a problem rolls back to before the first row.

    How many rows the file keeps is known only once its last chunk is checked: a
    registry serial is drawn for every row, and those left over are given back.
    """
    target, most = rows.spec.table, len(rows.frame)
    rebuild = _rebuilds_indexes(conn, target, options, new_rows=most)
    findings = chunked.Findings()
    with conn.begin_nested():  # a problem in a later chunk: the rows of the earlier ones go
        if rebuild:
            swap.hold_writers(conn, target)  # before writing or drawing serials: see addresses.swap
        placed = prepare.placement(conn, spec=rows.spec, is_new=np.ones(most, dtype=bool))
        built = chunked.row_chunks(rows, placed, findings, file_name=report.file_name)
        counted = _counted(built, progress=options.progress, done=0, total=most)
        inserted = _copy_new(conn, target, counted, rebuild=rebuild, progress=options.progress)
        locate.give_back_serials(conn, placed.registry_serials, used=findings.kept)
        changes.insert_boxes(conn, layer=target.name, boxes=findings.all_boxes())
    options.progress("checked", findings.kept, findings.kept)
    options.progress("written", inserted, findings.kept)
    report.inserted, report.unchanged, report.indexes_rebuilt = inserted, findings.kept - inserted, rebuild
    report.repaired, report.rejected = findings.repaired, [str(r) for r in findings.rejections]
    report.warnings = [*_keying_warnings(findings.source_ids()), *findings.warnings]


def validate_rows(
    rows: pd.DataFrame,
    geoms: NDArray[np.object_],
    features: NDArray[np.int64],
    options: ImportOptions,
    province: shapely.Geometry | None,
) -> Validated:
    """Run every check; keep the rows that pass."""
    spec = options.mapping.spec
    text = chunked.check_text(rows, features, spec)
    shapes = chunked.check_shapes(geoms, features, spec, province)
    problems = shapes.problems + text.problems + duplicate_problems(text.rows, features)
    keep, geoms = shapes.keep, as_geoms(shapes.geoms)
    rows = text.rows
    warnings = chunked.field_order(text.stripped, rows.columns)
    warnings += duplicate_warnings(rows[keep], geoms[keep], features[keep])
    return Validated(rows[keep], geoms[keep], shapes.rejections, problems, warnings, shapes.repaired)


def _keying_warnings(rows: pd.DataFrame) -> list[str]:
    """A warning when no row has a source id: rows are then keyed by their row number."""
    if len(rows) == 0 or rows["source_id"].notna().any():
        return []
    return [
        "no source id (no column id, source_id, fid or ma, and no --field source_id=COLUMN): rows are "
        "keyed by their row number, so re-importing this source after rows were added, removed or "
        "reordered updates the wrong features; map a stable id column"
    ]


def _raise_on_problems(file_name: str, checked: Validated, strict: bool) -> None:
    """Fail the whole file on problems (and on rejections when strict)."""
    chunked.raise_on(file_name, [*checked.problems, *(checked.rejections if strict else [])])


@dataclass(frozen=True)
class Blanks:
    """The fields a file lacks that a re-import would overwrite on its stored rows (see write_rows)."""

    file_name: str
    fields: tuple[str, ...] = ()
    allowed: bool = False
    """Whether blanking them is allowed (``ImportOptions.allow_blank_fields``): warned about, not refused."""


def write_rows(
    conn: Connection, rows: prepare.SourceRows, options: ImportOptions, *, blanks: Blanks | None = None
) -> load.UpsertCounts:
    """Write the validated rows of one dataset and record where they are for the tile caches.

    Rows the source imported before are staged and upserted (identical ones are left
    alone; a changed address keeps its old version in address_history, as an edit
    does); rows it never imported are COPYed straight into the table. When the file
    lacks fields (``blanks``) that stored rows hold, the import is refused unless
    ``blanks.allowed``.
    """
    checked, source = rows.checked, rows.source
    spec = options.mapping.spec
    target = spec.table
    if not spec.keyed_by_source:
        before = changes.snapshot(conn, table=target)
        unit_counts = prepare.write_units(conn, checked, rows.fields, source, fill_only=options.fill_only)
        changes.record_written(conn, table=target, previous=before)
        return unit_counts
    _lock_for_writing(conn, target, source, options, rows=len(checked.rows))
    ids = prepare.source_ids(checked.rows)
    is_new = locate.is_new(ids, locate.known_source_ids(conn, target, source))
    notes = _check_blanks(conn, target, source, ids[~is_new], blanks)
    rebuild = _rebuilds_indexes(conn, target, options, new_rows=int(is_new.sum()))
    if rebuild:
        swap.hold_writers(conn, target)  # before writing or drawing serials: see addresses.swap
    placed = prepare.placement(conn, spec=spec, is_new=is_new)
    build = functools.partial(prepare.row_batches, rows, spec=spec, placement=placed)
    counts = load.UpsertCounts(inserted=0, updated=0)
    if not is_new.all():
        stored = np.flatnonzero(~is_new)
        counts = _update_known(conn, spec, build(stored), source)
        options.progress("written", len(stored), len(is_new))
    new = np.flatnonzero(is_new)
    counted = _counted(build(new), progress=options.progress, done=len(is_new) - len(new), total=len(is_new))
    geoms = prepare.written_geoms(checked.geoms[new], spec)
    inserted = _insert_new(conn, target, NewRows(counted, geoms), rebuild=rebuild, progress=options.progress)
    return load.UpsertCounts(
        counts.inserted + inserted, counts.updated, indexes_rebuilt=rebuild, warnings=tuple(notes)
    )


def _lock_for_writing(
    conn: Connection, target: Table, source: str, options: ImportOptions, *, rows: int
) -> None:
    """Take the locks a write of ``rows`` rows of ``source`` needs, before reading what is stored."""
    if options.rebuild_indexes or rows >= load.REBUILD_MIN_ROWS:
        load.lock_large_loads(conn, target)  # before reading the table: see lock_large_loads
    load.lock_source(conn, target, source)


def _dry_run_blanks(
    conn: Connection, checked: Validated, source: str, options: ImportOptions, blanks: Blanks
) -> list[str]:
    """What a dry run says of blanking: the refusal (or the warnings) the import itself would give.

    Reads only: the rows of the source already stored, and which of their fields hold values.
    """
    spec = options.mapping.spec
    if not spec.keyed_by_source:
        return []
    target = spec.table
    ids = prepare.source_ids(checked.rows)
    is_new = locate.is_new(ids, locate.known_source_ids(conn, target, source))
    return _check_blanks(conn, target, source, ids[~is_new], blanks)


def _check_blanks(
    conn: Connection, target: Table, source: str, stored_ids: pd.Series, blanks: Blanks | None
) -> list[str]:
    """Refuse (ImportValidationError) to blank stored values of fields the file lacks, unless allowed.

    Return the warnings to report when allowed.
    """
    if blanks is None or not blanks.fields or stored_ids.empty:
        return []
    held = load.blanking_counts(
        conn, target, source=source, source_ids=stored_ids.astype(str).tolist(), fields=blanks.fields
    )
    if not held:
        return []
    if blanks.allowed:
        return [
            f"field {name!r} is not in the file: blanked on {count} stored row(s) (--allow-blank-fields)"
            for name, count in held.items()
        ]
    raise ImportValidationError(
        blanks.file_name,
        [
            f"field {name!r}: the file has no column for it, but {count} stored row(s) of source {source!r} "
            "hold a value this import would blank; map its column (e.g. --field "
            f"{name}=COLUMN: a Shapefile cuts names to 10 characters) or pass --allow-blank-fields"
            for name, count in held.items()
        ],
    )


def _rebuilds_indexes(conn: Connection, target: Table, options: ImportOptions, *, new_rows: int) -> bool:
    """Whether to rebuild the table's indexes around the new rows: as asked, else when it pays."""
    if new_rows == 0:
        return False
    if options.rebuild_indexes is not None:
        return options.rebuild_indexes
    return load.rebuild_pays(conn, target, new_rows=new_rows)


def _update_known(
    conn: Connection, spec: DatasetSpec, batches: Iterator[pd.DataFrame], source: str
) -> load.UpsertCounts:
    """Upsert rows the source imported before (earlier versions kept); record where they were and are."""
    target = spec.table
    staged = bulk.stage_frames(conn, batches)
    columns = [c.name for c in staged.columns]
    changes.record_replaced(conn, table=target, staged=staged)
    if spec.history_table is not None:
        load.record_address_history(conn, staged, columns, source=source)
    counts = load.upsert_by_source(conn, target, staged, columns)
    changes.record_written(conn, table=target, source=source)
    return counts


def _counted(
    frames: Iterator[pd.DataFrame], *, progress: ImportProgress, done: int, total: int
) -> Iterator[pd.DataFrame]:
    """The frames, telling ``progress`` the rows written once each is handed on."""
    for frame in frames:
        yield frame
        done += len(frame)
        progress("written", done, total)


@dataclass(frozen=True)
class NewRows:
    """Rows a source never imported: built batch by batch, and where they are written."""

    batches: Iterator[pd.DataFrame]
    geoms: NDArray[np.object_]


def _insert_new(
    conn: Connection, target: Table, new: NewRows, *, rebuild: bool, progress: ImportProgress
) -> int:
    """COPY the new rows in file order (each batch is built while the database stores the one before).

    ``geoms`` are where they are written: their boxes are recorded for the tile caches.
    With ``rebuild``, the rows go into a fresh copy of the table without indexes, which
    is then indexed and swapped in: readers are never blocked behind the load (addresses.swap).
    """
    if len(new.geoms) == 0:
        return 0
    inserted = _copy_new(conn, target, new.batches, rebuild=rebuild, progress=progress)
    changes.record_boxes(conn, layer=target.name, bounds=shapely.bounds(new.geoms))
    return inserted


def _copy_new(
    conn: Connection,
    target: Table,
    batches: Iterator[pd.DataFrame],
    *,
    rebuild: bool,
    progress: ImportProgress,
) -> int:
    """COPY the batches into ``target``, or (``rebuild``) into a fresh copy indexed and swapped in."""
    if not rebuild:
        return load.insert_new(conn, target, batches)
    with swap.swapped_in(conn, target) as fresh:
        inserted = load.insert_new(conn, fresh, batches)
        progress("rebuilding indexes", inserted, inserted)
    return inserted


def _record_run(conn: Connection, sha256: str, report: ImportReport) -> None:
    """Remember the committed import with its report."""
    counts = {k: getattr(report, k) for k in ("rows_read", "inserted", "updated", "unchanged", "repaired")}
    counts["rejected"] = len(report.rejected)
    conn.execute(
        insert(import_run).values(
            dataset=report.dataset,
            source=report.source,
            file_name=report.file_name,
            sha256=sha256,
            finished_at=func.clock_timestamp(),
            counts=counts,
            report=report.to_dict(),
        )
    )
    # the run's one change-feed event (dataset level), numbered last: in commit order (addresses.feed)
    feed.record_import(
        conn, dataset=report.dataset, author=f"import:{report.source}", comment=report.file_name
    )


__all__ = ["ImportOptions", "ImportReport", "ResolvedCrs", "import_file"]
