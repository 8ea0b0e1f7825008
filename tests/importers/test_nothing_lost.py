"""Nothing is lost silently: no blanked fields, history for import updates, no serial burnt."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from sqlalchemy import Connection, Engine, func, select, text

from addresses import registry, swap
from addresses.codes import registry_serial
from addresses.errors import ImportValidationError
from addresses.schema import address, address_history, registry_counter
from importers import load
from importers.mapping import default_mapping
from importers.pipeline import ImportOptions, import_file
from tests.importers.builders import write
from tests.records import new_address
from tests.synthetic import generate_addresses


def _generated(data_dir: Path, count: int, seed: int) -> gpd.GeoDataFrame:
    """Generated addresses (labelled generated, not surveyed) with house numbers and streets."""
    wards = gpd.read_file(data_dir / "wards_2025.geojson").geometry
    return generate_addresses(wards, count, seed=seed)


def _house_numbers(conn: Connection, source: str) -> dict[str, str | None]:
    rows = conn.execute(select(address.c.source_id, address.c.house_number).where(address.c.source == source))
    return {str(source_id): number for source_id, number in rows}


def _options(source: str, **kwargs: Any) -> ImportOptions:
    return ImportOptions(mapping=default_mapping("addresses"), source=source, **kwargs)


def test_a_shapefile_that_cut_a_field_name_does_not_blank_the_stored_values(
    conn: Connection, tmp_path: Path, data_dir: Path
) -> None:
    frame = _generated(data_dir, 30, seed=31)
    import_file(conn, write(frame, tmp_path / "first.geojson"), options=_options("cut"))
    before = _house_numbers(conn, "cut")
    assert all(before.values())
    shapefile = write(frame, tmp_path / "again.shp")  # the DBF cuts "house_number" to "house_numb"
    assert "house_numb" in gpd.read_file(shapefile).columns
    with pytest.raises(ImportValidationError) as refused:
        import_file(conn, shapefile, options=_options("cut"))
    assert refused.value.file_name == "again.shp"
    assert refused.value.problems == [
        "field 'house_number': the file has no column for it, but 30 stored row(s) of source 'cut' hold a "
        "value this import would blank; map its column (e.g. --field house_number=COLUMN: a Shapefile cuts "
        "names to 10 characters) or pass --allow-blank-fields"
    ]
    assert _house_numbers(conn, "cut") == before
    with pytest.raises(ImportValidationError) as checked:  # a dry run says so too, writing nothing
        import_file(conn, shapefile, options=_options("cut", dry_run=True))
    assert checked.value.problems == refused.value.problems
    mapped = default_mapping("addresses").with_columns(house_number="house_numb")
    import_file(conn, shapefile, options=ImportOptions(mapping=mapped, source="cut"))
    assert _house_numbers(conn, "cut") == before  # mapped by hand: the house numbers stay


def test_blanking_is_done_when_allowed_and_reported(conn: Connection, tmp_path: Path, data_dir: Path) -> None:
    frame = _generated(data_dir, 10, seed=32)
    import_file(conn, write(frame, tmp_path / "first.geojson"), options=_options("blank"))
    without = frame.drop(columns="house_number")
    options = _options("blank", allow_blank_fields=True)
    report = import_file(conn, write(without, tmp_path / "second.geojson"), options=options)
    assert report.updated == 10
    assert "field 'house_number' is not in the file: blanked on 10 stored row(s) (--allow-blank-fields)" in (
        report.warnings
    )
    assert set(_house_numbers(conn, "blank").values()) == {None}


def test_new_rows_missing_a_field_are_not_refused(conn: Connection, tmp_path: Path, data_dir: Path) -> None:
    frame = _generated(data_dir, 5, seed=33).drop(columns="house_number")
    report = import_file(conn, write(frame, tmp_path / "new.geojson"), options=_options("fresh-rows"))
    assert report.inserted == 5  # nothing stored, nothing to blank


def test_an_import_update_keeps_the_old_version_in_history(
    conn: Connection, tmp_path: Path, data_dir: Path
) -> None:
    frame = _generated(data_dir, 5, seed=34)
    import_file(conn, write(frame, tmp_path / "v1.geojson"), options=_options("hist"))
    changed = frame.copy()
    changed.loc[0, "house_number"] = "99Z"
    report = import_file(conn, write(changed, tmp_path / "v2.geojson"), options=_options("hist"))
    assert (report.updated, report.unchanged) == (1, 4)
    history = address_history
    rows = conn.execute(
        select(
            history.c.version,
            history.c.change,
            history.c.changed_by,
            history.c.snapshot["house_number"].astext,
            address.c.version,
            address.c.house_number,
        )
        .join(address, address.c.id == history.c.address_id)
        .where(address.c.source == "hist")
    ).all()
    assert [tuple(row) for row in rows] == [
        (1, "import", "import:hist", frame.loc[0, "house_number"], 2, "99Z")
    ]


def _next_serial(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(registry_counter.c.next_serial)).scalar_one())


def test_an_aborted_import_burns_no_registry_serial(
    engine: Engine, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(_generated(data_dir, 200, seed=35), tmp_path / "aborted.parquet")
    before = _next_serial(engine)
    insert_new = load.insert_new

    def abort_after_insert(*args: Any, **kwargs: Any) -> int:
        insert_new(*args, **kwargs)  # the rows, with their codes, are in the table
        raise RuntimeError("the import fails before it commits")

    monkeypatch.setattr(load, "insert_new", abort_after_insert)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        import_file(conn, path, options=_options("aborted"))
    assert _next_serial(engine) == before
    with engine.connect() as conn:
        conn.begin()
        drawn = registry.next_serials(conn, 3)
        conn.rollback()
    assert drawn.tolist() == [before, before + 1, before + 2]  # the serials the import would have used


def test_serials_are_drawn_in_one_block_and_a_created_address_takes_the_next(conn: Connection) -> None:
    first = registry.next_serials(conn, 1000)
    assert first.tolist() == list(range(int(first[0]), int(first[0]) + 1000))
    created = new_address(conn, 105.338, 20.817, house_number="1")
    assert registry_serial(created.registry_code) == int(first[-1]) + 1
    assert registry.next_serials(conn, 0).size == 0
    counter = conn.execute(select(func.count()).select_from(registry_counter)).scalar_one()
    assert counter == 1


def test_an_editor_never_holds_the_counter_while_a_large_load_holds_the_table(engine: Engine) -> None:
    with engine.connect() as large, engine.connect() as editor:
        large.begin()
        swap.hold_writers(large, address)  # a large load keeps writers of the table out
        drawn: list[int] = []

        def draw() -> None:
            editor.begin()
            created = new_address(editor, 105.338, 20.817)  # a serial, then a row
            drawn.append(registry_serial(created.registry_code))
            editor.rollback()

        waiting = threading.Thread(target=draw)
        waiting.start()
        time.sleep(0.5)
        large.execute(text("SET LOCAL lock_timeout = '2s'"))
        first = registry.next_serials(large, 5)  # the load draws its serials: the counter is free
        large.rollback()
        waiting.join(timeout=30)
    assert drawn == [int(first[0])]  # the load rolled back: the editor got the same first serial
