"""Every notebook runs top to bottom on a database of its own and ends in a map that works offline.

Each notebook is executed in a real Jupyter kernel (nbclient + ipykernel) running this
interpreter, with ``DIACHISO_DATABASE_URL`` pointing at a fresh database loaded with the
bundled data (the data staff notebook imports and edits), in a temporary folder where
it saves its map. Debian's Chromium then opens each saved map with every request that is
not to a local file aborted: Leaflet must draw the map's paths, with no script error.
"""

from __future__ import annotations

import doctest
import importlib.util
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from addresses.units import fold
from tests.databases import loaded_database

pytestmark = pytest.mark.db

FOLDER = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
NAMES = [path.stem for path in NOTEBOOKS]
KERNEL = "diachiso-notebook-test"
CELL_TIMEOUT_S = 300
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SAVED = re.compile(r"saved (\S+\.html)")


def _read(path: Path) -> Any:
    """A notebook as saved in the repository."""
    return nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]


def _kernel_spec(folder: Path) -> None:
    """A kernel spec that runs this very interpreter (the project's venv), whatever else is installed."""
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "diachiso (test)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")


@pytest.fixture(scope="module")
def notebook_database() -> Iterator[str]:
    """A fresh database with the bundled data, for the notebooks alone."""
    with loaded_database("diachiso_notebooks") as (url, _engine):
        yield url


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Jupyter's folders for the test kernel."""
    folder = tmp_path_factory.mktemp("jupyter")
    _kernel_spec(folder)
    return folder


@pytest.fixture(scope="module")
def runs(notebook_database: str, jupyter: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Executed notebooks by name (each run once, in order, on first use) and the folders they ran in."""
    return {"database": notebook_database, "jupyter": jupyter, "factory": tmp_path_factory}


def _execute(path: Path, runs: dict[str, Any]) -> tuple[Any, Path]:
    """Run one notebook in a folder of its own; raises CellExecutionError on the first failing cell."""
    if path.stem in runs:
        done: tuple[Any, Path] = runs[path.stem]
        return done
    workdir: Path = runs["factory"].mktemp(path.stem)
    notebook = _read(path)
    jupyter: Path = runs["jupyter"]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DIACHISO_DATABASE_URL", runs["database"])
        env.setenv("JUPYTER_PATH", str(jupyter))
        env.setenv("JUPYTER_RUNTIME_DIR", str(jupyter / "runtime"))
        env.setenv("IPYTHONDIR", str(jupyter / "ipython"))
        env.setenv("PYTHONPATH", os.pathsep.join([str(FOLDER), os.environ.get("PYTHONPATH", "")]))
        client = NotebookClient(
            notebook,
            kernel_name=KERNEL,
            timeout=CELL_TIMEOUT_S,
            startup_timeout=120,
            resources={"metadata": {"path": str(workdir)}},
        )
        client.execute()
    runs[path.stem] = (notebook, workdir)
    return notebook, workdir


@pytest.fixture(params=NOTEBOOKS, ids=NAMES)
def executed(request: pytest.FixtureRequest, runs: dict[str, Any]) -> tuple[Any, Path]:
    """One notebook executed (with its outputs) and the folder it ran in."""
    return _execute(request.param, runs)


def _by_name(name: str, runs: dict[str, Any]) -> Any:
    return _execute(FOLDER / f"{name}.ipynb", runs)[0]


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


def _saved_map(notebook: Any, workdir: Path) -> Path:
    """The HTML file the notebook's final map cell saved."""
    found = SAVED.search(_text(_tagged(notebook, "final-map")))
    assert found, "the final map cell must print 'saved <file>.html'"
    return workdir / found.group(1)


# --- every notebook --------------------------------------------------------------------------------


def test_there_are_the_four_notebooks() -> None:
    assert {"quickstart", "old_addresses", "codes", "data_staff"} <= set(NAMES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_saved_without_outputs(path: Path) -> None:
    notebook = _read(path)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_runs_top_to_bottom_and_ends_in_a_map(executed: tuple[Any, Path]) -> None:
    notebook, workdir = executed
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    errors = [out for cell in code for out in cell.outputs if out.output_type == "error"]
    assert errors == []
    last = code[-1]
    assert "final-map" in last.metadata.get("tags", []), "a notebook ends in its map"
    page = _data(last, "text/html")
    assert "L.map(" in page or "L.map" in page
    saved = _saved_map(notebook, workdir).read_text(encoding="utf-8")
    assert "L.map(" in saved
    assert not re.findall(r"""(?:src|href)=["'](?:https?:)?//""", saved), "the map links to the network"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright; a clear failure when either is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (scripts/bootstrap.sh does)")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (only the browser tests need it)

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _offline(context: Any, attempted: list[str]) -> None:
    """Abort every request that is not to a local file or inline data, remembering it."""

    def route(handle: Any) -> None:
        url = handle.request.url
        if url.startswith(("file:", "data:")):
            handle.continue_()
        else:
            attempted.append(url)
            handle.abort()

    context.route("**/*", route)


def _note_console_error(problems: list[str], message: Any) -> None:
    if message.type == "error":
        problems.append(f"console error: {message.text}")


@pytest.mark.browser
def test_saved_map_renders_offline(executed: tuple[Any, Path], browser: Any) -> None:
    notebook, workdir = executed
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    attempted: list[str] = []
    _offline(context, attempted)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda message: _note_console_error(problems, message))
    page.goto(_saved_map(notebook, workdir).as_uri())
    page.wait_for_selector(".leaflet-container", timeout=10_000)
    page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length > 0", timeout=10_000)
    assert page.evaluate("typeof window.L") == "object"
    assert not problems, problems
    assert not attempted, f"the map tried the network: {attempted}"
    context.close()


# --- what each notebook shows --------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["map-units", "map-geocode", "map-reverse"])
def test_quickstart_maps_are_drawn(runs: dict[str, Any], tag: str) -> None:
    page = _data(_tagged(_by_name("quickstart", runs), tag), "text/html")
    assert "L.map(" in page
    assert "cdn.jsdelivr.net" not in page
    assert "code.jquery.com" not in page


def test_quickstart_units_geocoding_reverse_batch(runs: dict[str, Any]) -> None:
    notebook = _by_name("quickstart", runs)
    units = _data(_tagged(notebook, "map-units"), "text/html")
    assert "Xã Vầy Nưa" in units
    assert "Xã Tiền Phong (một phần)" in units
    assert "Phường Kỳ Sơn" in _text(_tagged(notebook, "table-geocode"))  # Xã Độc Lập, TP Hòa Bình
    shown = _text(_tagged(notebook, "table-reverse"))
    assert "8VG-DHS-6HB" in shown
    assert fold("Phường Hòa Bình") in fold(shown)
    assert "8VG-DP" in _text(_tagged(notebook, "map-reverse"))
    batch = _text(_tagged(notebook, "table-batch"))
    assert "6 dòng: 4 khớp, 1 không khớp, 1 lỗi" in batch
    assert "empty address" in batch


def test_old_addresses_split_rows_go_to_their_successors(runs: dict[str, Any]) -> None:
    notebook = _by_name("old_addresses", runs)
    converted = _text(_tagged(notebook, "table-converted"))
    assert "Phường Kỳ Sơn" in converted  # Xã Độc Lập, TP Hòa Bình
    split = _text(_tagged(notebook, "table-split"))
    assert {"Xã Vầy Nưa", "Xã Cao Sơn", "Xã Đồng Tân"} <= set(re.findall(r"Xã [^\s]+ [^\s(]+", split))
    rows = _text(_tagged(notebook, "table-split-rows"))
    assert "Xã Pà Cò" in rows
    assert "Xã Mai Châu" in rows
    assert "2025-07-01" in _text(_tagged(notebook, "table-periods"))


def test_codes_notebook(runs: dict[str, Any]) -> None:
    notebook = _by_name("codes", runs)
    assert "8VG-DHS-6HB" in _text(_tagged(notebook, "codes-encode"))
    assert "8VG-DP" in _text(_tagged(notebook, "table-lengths"))
    mistyped = _text(_tagged(notebook, "table-mistyped"))
    assert "accepted" not in mistyped
    assert "check mismatch" in mistyped
    assert re.search(r"\d+ cells of length 4", _text(_tagged(notebook, "codes-cover")))
    assert "<svg" in _data(_tagged(notebook, "codes-plate"), "image/svg+xml")


def test_data_staff_notebook(runs: dict[str, Any]) -> None:
    notebook = _by_name("data_staff", runs)
    assert "VN-2000 / TM-3 106-00" in _text(_tagged(notebook, "table-gpkg"))
    assert "duplicate id 'MH-011'" in _text(_tagged(notebook, "report-problem"))
    report = _text(_tagged(notebook, "report-dry-run"))
    assert "outside the province" in report
    assert "EPSG:6960" in report
    assert "inserted 6" in _text(_tagged(notebook, "table-import"))
    history = _text(_tagged(notebook, "table-history"))
    assert "import" in history  # the imported state, kept at the first edit
    assert "update" in history
    assert "location_code" in history  # the move re-derived it
    assert "now version 3" in history


def test_offline_maps_helper_doctests() -> None:
    spec = importlib.util.spec_from_file_location("offline_maps", FOLDER / "offline_maps.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = doctest.testmod(module)
    assert results.attempted >= 2
    assert results.failed == 0
