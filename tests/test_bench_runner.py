"""The benchmark runner's rewriting of BENCHMARKS.md (no benchmark is run here)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text

from benchmarks import scratch
from benchmarks.run_all import (
    DOCUMENT,
    REGISTRY,
    Benchmark,
    Machine,
    MarkerError,
    Outcome,
    check_markers,
    replace_section,
    selected,
    stop,
    tables_in,
    write,
)
from tests import databases

DOC = """# Benchmarks

Prose before, by hand.

<!-- bench:codes -->
| old | table |
|---|---:|
| a | 1 |
<!-- /bench:codes -->

Prose between, by hand: it says 1.22x.

<!-- bench:import -->
old import table
<!-- /bench:import -->

Prose after.
"""

OUTPUT = """set-up: 20,000 rows loaded in 3.1 s
| progress row | 1 |
| tool | rows/s |
|---|---:|
| diachiso | 27,003 |
| ogr2ogr | 53,954 |

Into the empty address table:

| what | time vs floor |
|---|---:|
| diachiso import | 0.91 |
done
"""


def _outcome(output: str = OUTPUT) -> Outcome:
    return Outcome((".venv/bin/python", "-m", "benchmarks.bench_import", "--rows", "20000"), output, 12.0, 0)


def test_markers_replaced_and_prose_kept() -> None:
    result = replace_section(DOC, "import", "| new |\n|---|\n| 2 |")
    assert "old import table" not in result
    assert "<!-- bench:import -->\n| new |\n|---|\n| 2 |\n<!-- /bench:import -->" in result
    assert result.replace("\n| new |\n|---|\n| 2 |\n", "\nold import table\n") == DOC
    assert "| old | table |" in result  # the other section is untouched


def test_a_missing_marker_is_a_clear_error() -> None:
    with pytest.raises(
        MarkerError, match=r"<!-- bench:tiles --> and <!-- /bench:tiles -->.*'tiles'.*found 0"
    ):
        replace_section(DOC, "tiles", "x")
    with pytest.raises(MarkerError, match="found 1 and 0"):
        check_markers(DOC.replace("<!-- /bench:import -->", ""), ["codes", "import"])


def test_markers_twice_or_reversed_are_errors() -> None:
    with pytest.raises(MarkerError, match="found 2 and 2"):
        check_markers(DOC + "\n<!-- bench:codes -->\n<!-- /bench:codes -->\n", ["codes"])
    reversed_doc = "<!-- /bench:a -->\ntext\n<!-- bench:a -->"
    with pytest.raises(MarkerError, match="comes before"):
        replace_section(reversed_doc, "a", "x")


def test_only_whole_tables_are_taken_from_the_output_with_their_captions() -> None:
    found = tables_in(OUTPUT)
    assert [caption for caption, _lines in found] == [None, "Into the empty address table:"]
    assert found[0][1] == ["| tool | rows/s |", "|---|---:|", "| diachiso | 27,003 |", "| ogr2ogr | 53,954 |"]
    assert found[1][1][-1] == "| diachiso import | 0.91 |"


def test_write_rewrites_the_section_with_provenance(tmp_path: Path) -> None:
    document = tmp_path / "BENCHMARKS.md"
    document.write_text(DOC, encoding="utf-8")
    benchmark = Benchmark("import", "benchmarks.bench_import", (("--rows", "20000"),), ((),), "peers")
    write(document, benchmark, [_outcome()], machine=Machine(2, 23.4, "Test CPU"), quick=True)
    text = document.read_text(encoding="utf-8")
    generated = text.split("<!-- bench:import -->")[1].split("<!-- /bench:import -->")[0]
    assert "quick mode" in generated
    assert "2 cores, 23.4 GiB RAM, Test CPU" in generated
    assert "`.venv/bin/python -m benchmarks.bench_import --rows 20000` (12 s)" in generated
    assert f"{dt.datetime.now(dt.UTC):%Y-%m-%d}" in generated
    assert "| ogr2ogr | 53,954 |" in generated
    assert "Into the empty address table:\n\n| what | time vs floor |" in generated
    assert "progress row" not in generated
    assert "set-up" not in generated
    for prose in ("Prose before, by hand.", "Prose between, by hand: it says 1.22x.", "Prose after."):
        assert prose in text
    assert "| old | table |" in text


def test_a_benchmark_splits_its_tables_between_sections_by_caption(tmp_path: Path) -> None:
    document = tmp_path / "BENCHMARKS.md"
    document.write_text(DOC, encoding="utf-8")
    benchmark = Benchmark(
        "codes", "benchmarks.bench_codes", ((),), ((),), "peers", elsewhere=(("import", "Into the"),)
    )
    write(document, benchmark, [_outcome()], machine=Machine(2, 23.4, "Test CPU"), quick=False)
    codes, rest = document.read_text(encoding="utf-8").split("<!-- /bench:codes -->")
    assert "| ogr2ogr | 53,954 |" in codes
    assert "Into the empty" not in codes
    assert "Into the empty address table:" in rest
    assert "full mode" in codes


def test_every_registered_benchmark_has_its_module_and_its_markers() -> None:
    check_markers(DOCUMENT.read_text(encoding="utf-8"), [name for b in REGISTRY for name in b.sections])
    for benchmark in REGISTRY:
        assert importlib.util.find_spec(benchmark.module) is not None, benchmark.module
        assert benchmark.runs(quick=True)
        assert benchmark.runs(quick=False)
    assert len({b.name for b in REGISTRY}) == len(REGISTRY)


def _source(benchmark: Benchmark) -> str:
    spec = importlib.util.find_spec(benchmark.module)
    assert spec is not None, benchmark.module
    assert spec.origin is not None, benchmark.module
    return Path(spec.origin).read_text(encoding="utf-8")


def _options(runs: tuple[tuple[str, ...], ...]) -> set[str]:
    return {argument for arguments in runs for argument in arguments if argument.startswith("--")}


def test_quick_mode_runs_every_benchmark_and_section_of_full_mode() -> None:
    everything = selected([], [])
    full = [(b.name, b.module, b.sections) for b in everything if b.runs(quick=False)]
    quick = [(b.name, b.module, b.sections) for b in everything if b.runs(quick=True)]
    assert quick == full
    assert [b.name for b in everything] == [b.name for b in REGISTRY]


def test_every_option_of_a_run_is_one_its_module_declares() -> None:
    for benchmark in REGISTRY:
        source = _source(benchmark)
        for option in _options(benchmark.runs(quick=True)) | _options(benchmark.runs(quick=False)):
            assert f'"{option}"' in source, f"{benchmark.name}: {benchmark.module} has no {option}"


def test_the_benchmarks_that_start_from_the_bundled_data_are_marked() -> None:
    for benchmark in REGISTRY:
        assert benchmark.bundled == ("bundled_database(" in _source(benchmark)), benchmark.name


def test_a_scratch_database_is_a_copy_of_the_template_named_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = databases.server_url()
    template_url = databases.recreate_database(server, scratch.scratch_name("diachiso_test_template"))
    copy_url = None
    try:
        template = create_engine(template_url)
        with template.begin() as conn:
            conn.execute(text("CREATE TABLE marker (word text)"))
            conn.execute(text("INSERT INTO marker VALUES ('thôn')"))
        template.dispose()
        name = template_url.rsplit("/", 1)[1]
        monkeypatch.setenv(scratch.TEMPLATE_ENV, name)
        copy_url = scratch.bundled_database("diachiso_test_copy")
        assert copy_url.endswith(f"/diachiso_test_copy_{os.getpid()}")
        copy = create_engine(copy_url)
        with copy.connect() as conn:
            assert conn.execute(text("SELECT word FROM marker")).scalar_one() == "thôn"
        copy.dispose()
    finally:
        for url in (template_url, copy_url):
            if url is not None:
                databases.drop_database(url)


def test_the_template_of_a_run_is_named_while_it_runs_and_dropped_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(scratch.TEMPLATE_ENV, raising=False)
    with scratch.shared_template() as url:
        name = os.environ[scratch.TEMPLATE_ENV]
        assert url.endswith(f"/{name}")
        with create_engine(url).connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM admin_unit")).scalar_one() > 0
    assert scratch.TEMPLATE_ENV not in os.environ
    maintenance = databases.server_url().replace("postgresql+psycopg", "postgresql").rsplit("/", 1)[0]
    with psycopg.connect(f"{maintenance}/postgres") as conn:
        found = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,)).fetchone()
    assert found == (0,)


def _sleeper(tmp_path: Path, *, ignore_interrupt: bool) -> subprocess.Popen[str]:
    """A process in its own session that says it started, sleeps, and writes ``cleaned`` on its way out."""
    code = (
        "import signal, sys, time, pathlib\n"
        + ("signal.signal(signal.SIGINT, signal.SIG_IGN)\n" if ignore_interrupt else "")
        # otherwise SIGINT as at a terminal, even when the suite runs as a background job (which ignores it)
        + ("" if ignore_interrupt else "signal.signal(signal.SIGINT, signal.default_int_handler)\n")
        + "try:\n    print('up', flush=True)\n    time.sleep(60)\n"
        + f"finally:\n    pathlib.Path({str(tmp_path / 'cleaned')!r}).write_text('yes')\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "up\n"
    return process


def test_a_run_stopped_at_its_time_limit_cleans_up_first(tmp_path: Path) -> None:
    process = _sleeper(tmp_path, ignore_interrupt=False)
    stop(process, grace_s=30)
    assert process.returncode != 0
    assert (tmp_path / "cleaned").read_text() == "yes"


def test_a_run_that_ignores_the_interrupt_is_killed_after_the_grace(tmp_path: Path) -> None:
    process = _sleeper(tmp_path, ignore_interrupt=True)
    stop(process, grace_s=1)
    assert process.returncode == -9
    assert not (tmp_path / "cleaned").exists()
