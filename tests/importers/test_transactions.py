"""One file is one transaction: re-import changes nothing, an interruption writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from addresses.schema import import_run, village
from importers import load
from importers.mapping import FieldMapping
from importers.pipeline import ImportOptions, import_file
from tests.importers.builders import village_frame, write

MAPPING = FieldMapping("villages", {"source_id": ("id",), "name": ("ten",)})


def _snapshot(engine: Engine, source: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(village.c.id, village.c.name, func.ST_AsText(village.c.geom), village.c.updated_at)
            .where(village.c.source == source)
            .order_by(village.c.id)
        )
        return [tuple(r) for r in rows]


def test_importing_the_same_file_twice_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write(village_frame(prefix="again"), tmp_path / "again.geojson")
    options = ImportOptions(mapping=MAPPING, source="again")
    with engine.begin() as conn:
        first = import_file(conn, path, options=options)
    before = _snapshot(engine, "again")
    with engine.begin() as conn:
        second = import_file(conn, path, options=options)
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 3)
    assert _snapshot(engine, "again") == before


def test_a_changed_row_is_updated_and_only_it(engine: Engine, tmp_path: Path) -> None:
    frame = village_frame(prefix="chg")
    options = ImportOptions(mapping=MAPPING, source="chg")
    with engine.begin() as conn:
        import_file(conn, write(frame, tmp_path / "v1.geojson"), options=options)
    frame.loc[0, "ten"] = "Xóm Lác Mới"
    with engine.begin() as conn:
        report = import_file(conn, write(frame, tmp_path / "v2.geojson"), options=options)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_import_writes_nothing(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    interruption: type[BaseException],
) -> None:
    source = f"cut-{interruption.__name__}"

    insert_new = load.insert_new

    def stop_after_insert(*args: Any, **kwargs: Any) -> int:
        inserted = insert_new(*args, **kwargs)
        assert inserted == 3  # the rows are in the table, inside the transaction
        raise interruption("stopped after the rows were written, before commit")

    monkeypatch.setattr(load, "insert_new", stop_after_insert)
    path = write(village_frame(prefix=source), tmp_path / "cut.geojson")
    with pytest.raises(interruption), engine.begin() as conn:
        import_file(conn, path, options=ImportOptions(mapping=MAPPING, source=source))
    assert _snapshot(engine, source) == []
    with engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(import_run).where(import_run.c.source == source))
        assert runs.scalar() == 0
