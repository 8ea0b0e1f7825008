"""The analyst notebook runs top to bottom on the test database and draws its maps.

The notebook is executed in a real Jupyter kernel (nbclient + ipykernel) running this
interpreter, with ``DIACHISO_DATABASE_URL`` pointing at the session's test database,
so it exercises exactly what an analyst runs: the public library API only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import Engine

from addresses.units import fold

pytestmark = pytest.mark.db

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "geocode_and_map.ipynb"
KERNEL = "diachiso-notebook-test"
MAP_TAGS = ("map-units", "map-geocode", "map-reverse")
CELL_TIMEOUT_S = 300


def _read() -> Any:
    """The notebook as saved in the repository."""
    return nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]


def _kernel_spec(folder: Path) -> None:
    """A kernel spec that runs this very interpreter (the project's venv), whatever else is installed."""
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "diachiso (test)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")


@pytest.fixture(scope="module")
def executed(engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The notebook executed against the loaded test database (``engine`` loads the data)."""
    assert engine.url.database is not None
    folder = tmp_path_factory.mktemp("jupyter")
    _kernel_spec(folder)
    notebook = _read()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DIACHISO_DATABASE_URL", database_url)
        env.setenv("JUPYTER_PATH", str(folder))
        env.setenv("JUPYTER_RUNTIME_DIR", str(folder / "runtime"))
        env.setenv("IPYTHONDIR", str(folder / "ipython"))
        client = NotebookClient(
            notebook,
            kernel_name=KERNEL,
            timeout=CELL_TIMEOUT_S,
            startup_timeout=120,
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        )
        client.execute()  # raises CellExecutionError on the first failing cell
    return notebook


def _tagged(notebook: Any, tag: str) -> Any:
    """The one code cell carrying a tag."""
    cells = [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]
    assert len(cells) == 1, f"expected one cell tagged {tag!r}, found {len(cells)}"
    return cells[0]


def _data(cell: Any, mime: str) -> str:
    """The joined rich outputs of one MIME type of a cell."""
    return "\n".join(str(out["data"][mime]) for out in cell.outputs if mime in out.get("data", {}))


def _text(cell: Any) -> str:
    """Everything a cell printed or showed as plain text."""
    streams = "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")
    return streams + _data(cell, "text/plain")


def test_saved_without_outputs() -> None:
    notebook = _read()
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_runs_top_to_bottom_without_errors(executed: Any) -> None:
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    errors = [out for cell in code for out in cell.outputs if out.output_type == "error"]
    assert errors == []


@pytest.mark.parametrize("tag", MAP_TAGS)
def test_folium_maps_are_drawn(executed: Any, tag: str) -> None:
    page = _data(_tagged(executed, tag), "text/html")
    assert "Make this Notebook Trusted to load map" in page  # folium's notebook HTML
    assert "L.map(" in page


def test_units_map_shows_wards_and_split_commune(executed: Any) -> None:
    page = _data(_tagged(executed, "map-units"), "text/html")
    assert "L.circleMarker(" in page
    assert "Xã Vầy Nưa" in page
    assert "Xã Tiền Phong (một phần)" in page


def test_geocoded_table(executed: Any) -> None:
    table = _text(_tagged(executed, "table-geocode"))
    assert "Phường Kỳ Sơn" in table  # Xã Độc Lập, TP Hòa Bình -> today's ward
    assert "Xã Độc Lập" in table


def test_reverse_geocoding_and_code(executed: Any) -> None:
    shown = _text(_tagged(executed, "table-reverse"))
    assert "8VG-DHS-6HB" in shown
    assert fold("Phường Hòa Bình") in fold(shown)  # either tone-mark style
    cells = _text(_tagged(executed, "map-reverse"))
    assert "8VG-DP" in cells  # the enclosing 4-character cell


def test_batch_table(executed: Any) -> None:
    shown = _text(_tagged(executed, "table-batch"))
    assert "6 dòng: 4 khớp, 1 không khớp, 1 lỗi" in shown
    assert "empty address" in shown
