"""A first load checked and built chunk by chunk writes what checking the whole file first wrote.

The chunks are made small here (a few rows) so that a file of a few hundred rows spans
many of them: the rows, codes, warnings and rejections must be those of the whole-file
path, and a problem in a later chunk, found after earlier chunks were sent to the
server, must leave nothing behind.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Connection, Engine, func, select

from addresses.codes import registry_serial
from addresses.errors import ImportValidationError
from addresses.schema import address, import_run, registry_counter, tile_invalidation
from importers import chunked, pipeline, readers
from importers.mapping import default_mapping
from importers.pipeline import ImportOptions, ImportReport, import_file
from tests.importers.builders import write
from tests.synthetic import generate_addresses

ROWS = 300


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 7 rows, then 40 rows at a time."""
    monkeypatch.setattr(chunked, "FIRST_CHUNK_ROWS", 7)
    monkeypatch.setattr(chunked, "CHUNK_ROWS", 40)


def _generated(data_dir: Path, *, seed: int, rows: int = ROWS) -> gpd.GeoDataFrame:
    """Generated addresses (labelled generated) spread over the 2025 wards."""
    wards = gpd.read_file(data_dir / "wards_2025.geojson").geometry
    return generate_addresses(wards, rows, seed=seed)


def _recording(source: str, events: list[Any], *, strict: bool = False) -> ImportOptions:
    """Options importing addresses as ``source`` that append every progress step to ``events``."""
    return ImportOptions(
        mapping=default_mapping("addresses"),
        source=source,
        strict=strict,
        progress=lambda *step: events.append(step),
    )


def _messy_file(data_dir: Path, path: Path) -> Path:
    """Generated addresses with what the checks act on spread over the chunks."""
    frame = _generated(data_dir, seed=21)
    frame["status"] = ["proposed" if i % 50 == 3 else None for i in range(ROWS)]
    frame.loc[[12, 150], "street"] = unicodedata.normalize("NFD", "Đường Hoà Bình")  # NFC on the way in
    frame.loc[[60, 250], "street"] = "Phố\u200b Mới"  # invisible formatting: stripped, with a warning
    frame.loc[[99, 260], "id"] = None  # keyed by row number
    frame.loc[[40, 200], "geometry"] = shapely.Point(106.5, 21.9)  # outside the province: rejected
    frame.loc[[120], "geometry"] = None  # no geometry: rejected
    frame.loc[231, ["house_number", "geometry"]] = frame.loc[230, ["house_number", "geometry"]].to_list()
    return write(frame, path)


def _stored(conn: Connection, source: str) -> list[tuple[Any, ...]]:
    """Every column of the source's rows but its id, source and timestamps, by source id."""
    skipped = {"id", "source", "created_at", "updated_at", "geom"}
    columns = [c for c in address.c if c.name not in skipped]
    query = select(*columns, func.ST_AsEWKB(address.c.geom)).where(address.c.source == source)
    return [tuple(r) for r in conn.execute(query.order_by(address.c.source_id))]


def _whole_file_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every import check its whole file before writing (the path taken before chunks)."""
    monkeypatch.setattr(pipeline, "_import_chunked", lambda *_: False)


def _same_error_as_the_whole_file(
    engine: Engine,
    path: Path,
    options: ImportOptions,
    error: ImportValidationError,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The file imported again, its whole file checked first, fails with the same problems, word for word."""
    _whole_file_first(monkeypatch)
    with engine.begin() as conn, pytest.raises(ImportValidationError) as whole:
        import_file(conn, path, options=options)
    assert str(error) == str(whole.value)  # every problem, by row and field, as before


def _same_report(chunks: ImportReport, whole: ImportReport) -> None:
    """The two reports agree on everything but the source and the time taken."""
    ignored = {"source", "seconds"}
    assert {k: v for k, v in chunks.to_dict().items() if k not in ignored} == {
        k: v for k, v in whole.to_dict().items() if k not in ignored
    }


@pytest.mark.usefixtures("small_chunks")
def test_chunks_write_the_rows_the_whole_file_wrote(
    conn: Connection, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _messy_file(data_dir, tmp_path / "messy.parquet")
    told: list[tuple[str, int, int]] = []
    options = ImportOptions(mapping=default_mapping("addresses"), progress=lambda *step: told.append(step))
    boxes_before = _boxes(conn)
    chunks = import_file(conn, path, options=replace_source(options, "chunks"))
    boxes_chunks = _boxes(conn)[len(boxes_before) :]
    assert [step for step in told if step[0] == "written"][-1] == ("written", ROWS - 3, ROWS - 3)
    assert len([step for step in told if step[0] == "written"]) > 2  # it did go chunk by chunk
    _whole_file_first(monkeypatch)
    whole = import_file(conn, path, options=replace_source(options, "whole"))
    assert _boxes(conn)[len(boxes_before) + len(boxes_chunks) :] == boxes_chunks  # the same tile boxes
    assert len(boxes_chunks) > 1
    _same_report(chunks, whole)
    assert chunks.inserted == ROWS - 3
    assert len(chunks.rejected) == 3
    for row in (61, 251):  # in two chunks: warned in file order
        assert any(w.startswith(f"row {row}, field 'street': removed invisible") for w in chunks.warnings)
    assert "row 232 repeats the name and geometry of an earlier row" in chunks.warnings
    by_chunks, by_whole = _stored(conn, "chunks"), _stored(conn, "whole")
    registry = [
        c.name for c in address.c if c.name not in {"id", "source", "created_at", "updated_at", "geom"}
    ]
    code = registry.index("registry_code")
    # the same rows; registry codes drawn in file order, so the same up to where the counter stood
    assert [r[:code] + r[code + 1 :] for r in by_chunks] == [r[:code] + r[code + 1 :] for r in by_whole]
    shift = {_serial(w[code]) - _serial(c[code]) for c, w in zip(by_chunks, by_whole, strict=True)}
    assert shift == {ROWS - 3}


def _boxes(conn: Connection) -> list[str]:
    """The tile-invalidation boxes of the address layer, in the order recorded."""
    query = select(func.ST_AsText(tile_invalidation.c.bbox)).where(tile_invalidation.c.layer == "address")
    return list(conn.execute(query.order_by(tile_invalidation.c.id)).scalars())


def replace_source(options: ImportOptions, source: str) -> ImportOptions:
    """The options with another source."""
    return ImportOptions(mapping=options.mapping, source=source, progress=options.progress)


def _serial(code: object) -> int:
    """A registry code's serial."""
    return registry_serial(str(code))


@pytest.mark.usefixtures("small_chunks")
def test_a_problem_in_a_later_chunk_leaves_nothing(
    engine: Engine, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _generated(data_dir, seed=22)
    frame.loc[[230, 290], "street"] = "Phố\x01Mới"  # a control character, in the last chunks
    path = write(frame, tmp_path / "bad.parquet")
    told: list[tuple[str, int, int]] = []
    options = _recording("late-problem", told)
    with engine.begin() as conn:
        before = conn.execute(select(func.count()).select_from(address)).scalar_one()
        with pytest.raises(ImportValidationError) as chunks:
            import_file(conn, path, options=options)
        assert any(step[0] == "written" and step[1] > 0 for step in told)  # earlier chunks were sent
        # the transaction is still usable, and holds none of the rows sent
        assert conn.execute(select(func.count()).select_from(address)).scalar_one() == before
        assert (
            conn.execute(select(func.count()).where(import_run.c.source == "late-problem")).scalar_one() == 0
        )
    _same_error_as_the_whole_file(engine, path, options, chunks.value, monkeypatch)
    assert "row 231, field 'street'" in str(chunks.value)
    assert "row 291, field 'street'" in str(chunks.value)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).where(address.c.source == "late-problem")).scalar_one() == 0


def test_chunks_are_a_small_first_one_then_growing_to_full_ones() -> None:
    bounds = chunked.chunk_bounds(100, first=5, size=40)
    assert [(b.start, b.stop) for b in bounds] == [(0, 5), (5, 20), (20, 60), (60, 100)]
    assert chunked.chunk_bounds(3, first=5, size=40) == [slice(0, 3)]


@pytest.mark.usefixtures("small_chunks")
def test_a_source_id_repeated_in_a_later_chunk_fails_as_before(
    engine: Engine, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _generated(data_dir, seed=23)
    frame.loc[[210, 280], "id"] = frame.loc[[3, 150], "id"].to_list()  # first seen in earlier chunks
    path = write(frame, tmp_path / "repeats.parquet")
    told: list[tuple[str, int, int]] = []
    options = _recording("repeated-ids", told)
    with engine.begin() as conn:
        with pytest.raises(ImportValidationError) as chunks:
            import_file(conn, path, options=options)
        written = [step[1] for step in told if step[0] == "written"]
        assert 0 < max(written) <= 210  # earlier chunks were sent; none from the repeat on
        assert conn.execute(select(func.count()).where(address.c.source == "repeated-ids")).scalar_one() == 0
    _same_error_as_the_whole_file(engine, path, options, chunks.value, monkeypatch)
    assert "row 211, field 'source_id'" in str(chunks.value)
    assert "(first at row 4)" in str(chunks.value)


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("strict", [False, True])
def test_a_bad_geometry_in_a_later_chunk_fails_as_before(
    engine: Engine, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, strict: bool
) -> None:
    """Geometries are decoded and checked chunk by chunk: a late bad one still fails the file as before."""
    frame = _generated(data_dir, seed=24)
    frame.loc[[270], "geometry"] = shapely.Point(float("inf"), 21.0)  # a problem: the file fails
    frame.loc[[250], "geometry"] = shapely.Point(106.5, 21.9)  # outside: a problem only when strict
    frame.loc[[280], "street"] = "Phố\x01Mới"  # and a text problem after them
    path = write(frame, tmp_path / "late-geometry.parquet")
    told: list[tuple[str, int, int]] = []
    options = _recording("late-geometry", told, strict=strict)
    with engine.begin() as conn:
        serial = _next_serial(conn)
        with pytest.raises(ImportValidationError) as chunks:
            import_file(conn, path, options=options)
        assert any(step[0] == "written" and step[1] > 0 for step in told)  # earlier chunks were sent
        assert conn.execute(select(func.count()).where(address.c.source == "late-geometry")).scalar_one() == 0
        assert _next_serial(conn) == serial  # the serials drawn are given back with the rows
    _same_error_as_the_whole_file(engine, path, options, chunks.value, monkeypatch)
    assert "row 271, field 'geometry': coordinates must be finite numbers" in str(chunks.value)
    assert "row 281, field 'street'" in str(chunks.value)
    assert ("row 251, field 'geometry'" in str(chunks.value)) is strict


def _next_serial(conn: Connection) -> int:
    """The registry serial the next draw starts at."""
    return int(conn.execute(select(registry_counter.c.next_serial)).scalar_one())


@pytest.mark.usefixtures("small_chunks")
def test_the_copy_starts_before_the_file_is_decoded_and_serials_not_kept_are_given_back(
    conn: Connection, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first load decodes its geometries chunk by chunk: the first rows go before the rest is decoded."""
    frame = _generated(data_dir, seed=25)
    frame.loc[[5, 200], "geometry"] = shapely.Point(106.5, 21.9)  # rejected: no serial kept for them
    path = write(frame, tmp_path / "lazy.parquet")
    events: list[object] = []
    decode, read_points = readers.SourceFrame.geometries, readers.SourceFrame.plain_points

    def noted(self: readers.SourceFrame, rows: slice = slice(None)) -> Any:
        events.append(("decoded", rows.start, rows.stop))
        return decode(self, rows)

    def points_noted(self: readers.SourceFrame, rows: slice = slice(None)) -> Any:
        events.append(("decoded", rows.start, rows.stop))  # read as plain points: no geometry object
        return read_points(self, rows)

    monkeypatch.setattr(readers.SourceFrame, "geometries", noted)
    monkeypatch.setattr(readers.SourceFrame, "plain_points", points_noted)
    options = _recording("lazy", events)
    serial = _next_serial(conn)
    report = import_file(conn, path, options=options)
    assert report.inserted == ROWS - 2
    assert _next_serial(conn) == serial + ROWS - 2  # the two serials not needed were given back
    decoded = [e for e in events if isinstance(e, tuple) and e[0] == "decoded"]
    assert ("decoded", None, None) not in decoded  # never the whole file at once
    assert decoded[0] == ("decoded", 0, 1000)  # the sample the CRS is checked on
    assert decoded[1:3] == [("decoded", 0, 7), ("decoded", 7, 28)]  # then chunk by chunk
    first_written = next(i for i, e in enumerate(events) if isinstance(e, tuple) and e[0] == "written")
    assert ("decoded", 7, 28) in events[first_written:]  # the second chunk decoded after the first was sent
    codes = conn.execute(select(address.c.registry_code).where(address.c.source == "lazy")).scalars().all()
    assert sorted(_serial(c) for c in codes) == list(range(serial, serial + ROWS - 2))  # no gap


def test_a_geoparquet_file_read_undecoded_is_the_file_read(tmp_path: Path, data_dir: Path) -> None:
    frame = _generated(data_dir, seed=26, rows=50)
    frame.loc[[3], "geometry"] = None
    for crs in ("EPSG:4326", "EPSG:3405"):
        path = write(frame.to_crs(crs), tmp_path / f"{crs.replace(':', '')}.parquet")
        whole, lazy = readers.read_source(path), readers.read_source(path, decode=False)
        assert lazy.wkb is not None
        assert whole.wkb is None
        assert lazy.declared_crs == whole.declared_crs
        assert lazy.frame.drop(columns="geometry").equals(whole.frame.drop(columns="geometry"))
        assert list(lazy.frame.columns) == list(whole.frame.columns)
        assert shapely.equals_exact(lazy.geometries(), whole.geometries(), 0).sum() == 49
        assert shapely.is_missing(lazy.geometries(slice(3, 4))).all()
        assert shapely.equals_exact(lazy.geometries(slice(10, 20)), whole.geometries(slice(10, 20)), 0).all()
