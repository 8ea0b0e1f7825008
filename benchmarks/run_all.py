"""Every benchmark in one command, each beside its peer; the tables of BENCHMARKS.md rewritten.

Run: ``make bench`` (full sizes: an hour or more on the 2-core machine), ``make bench-quick``
or ``make bench QUICK=1`` (smaller sizes, fewer repetitions: meant for 10 minutes; 15 measured
at a load average of 15-19, see BENCHMARKS.md), or directly
``.venv/bin/python -m benchmarks.run_all [--quick] [--only NAME ...] [--skip NAME ...]
[--no-write] [--list]``.

:data:`REGISTRY` lists each benchmark: its name (also the name of its section's markers in
BENCHMARKS.md), the module that measures it beside its peers, and the command-line
arguments of each of its runs in full and in quick mode. Each run is a separate process
(``python -m <module> <arguments>``): the benchmarks start servers, clusters and scratch
databases and hold gigabytes, and a process that ends gives all of it back. Whatever a run
prints on standard output that is a markdown table (a header row and its separator row)
becomes the section's table, with the caption line before it when that line ends with a
colon; tables with the same header from consecutive runs are merged into one.

BENCHMARKS.md keeps its prose by hand; only what lies between a section's markers is
rewritten::

    <!-- bench:import -->
    (generated: machine, date, exact command, the tables)
    <!-- /bench:import -->

Every marker is checked before anything runs; a benchmark that fails or times out leaves
its section as it was, and the command exits with status 1 after the others ran.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from benchmarks.scratch import shared_template

ROOT: Final = Path(__file__).resolve().parent.parent
DOCUMENT: Final = ROOT / "BENCHMARKS.md"
_SEPARATOR_RE: Final = re.compile(r"^\|(?:\s*:?-{3,}:?\s*\|)+$")


class MarkerError(ValueError):
    """BENCHMARKS.md lacks a section's markers, or holds them twice or in the wrong order."""


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its section name, its module, the arguments of each run in each mode."""

    name: str
    module: str
    full: tuple[tuple[str, ...], ...]
    quick: tuple[tuple[str, ...], ...]
    peers: str
    full_timeout_s: int = 3600
    quick_timeout_s: int = 300
    elsewhere: tuple[tuple[str, str], ...] = ()
    """(section, caption prefix): tables whose caption starts so go to that section instead."""
    bundled: bool = False
    """Whether its scratch databases start from the bundled data (copied from the run's template)."""

    def runs(self, *, quick: bool) -> tuple[tuple[str, ...], ...]:
        """The argument lists of the runs in the mode asked."""
        return self.quick if quick else self.full

    def timeout_s(self, *, quick: bool) -> int:
        """The time limit of one run."""
        return self.quick_timeout_s if quick else self.full_timeout_s

    @property
    def sections(self) -> tuple[str, ...]:
        """The sections of BENCHMARKS.md this benchmark writes."""
        return (self.name, *(name for name, _prefix in self.elsewhere))

    def section_of(self, caption: str | None) -> str:
        """The section a table goes to, by its caption.

        >>> b = Benchmark("geo", "m", ((),), ((),), "", elsewhere=(("geo-real", "Real"),))
        >>> b.section_of("Real-text set, tune half:"), b.section_of(None), b.section_of("Other:")
        ('geo-real', 'geo', 'geo')
        """
        for name, prefix in self.elsewhere:
            if caption is not None and caption.startswith(prefix):
                return name
        return self.name


HTTP_QUICK: Final = ("--seconds", "5", "--warm", "5", "--connections", "10", "200", "--addresses", "3000")
"""bench_http's quick run; it runs twice, with the answer cache and without (every answer computed)."""

REGISTRY: Final[tuple[Benchmark, ...]] = (
    Benchmark(
        "codes",
        "benchmarks.bench_codes",
        ((),),
        (("--points", "1000000", "--peer-points", "20000", "--sample", "400", "--repeat", "1"),),
        "openlocationcode, digipin",
        quick_timeout_s=120,
    ),
    Benchmark(
        "geocoder",
        "benchmarks.bench_geocoder",
        ((),),
        (("--repeat", "1", "--every", "6"),),
        "Addok, vietnamadminunits",
        quick_timeout_s=360,
        elsewhere=(("geocoder-realtext", "Real-text set"),),
    ),
    Benchmark("robustness", "benchmarks.bench_robustness", ((),), ((),), "the same strings as written"),
    Benchmark(
        "reverse",
        "benchmarks.bench_reverse",
        (("--addresses", "0"), ("--addresses", "20000")),
        (("--addresses", "0", "--rounds", "1", "--every", "3"),),
        "the database path",
        bundled=True,
    ),
    Benchmark(
        "import",
        "benchmarks.bench_import",
        (("--rows", "200000", "--rounds", "3"),),
        (("--rows", "5000", "--rounds", "1"),),
        "ogr2ogr, geopandas, PostgreSQL COPY",
    ),
    Benchmark(
        "import-readers",
        "benchmarks.bench_import_readers",
        (("--rows", "200000", "--rounds", "2"),),
        (("--rows", "5000", "--rounds", "1", "--readers", "4"),),
        "the import with its indexes kept",
        bundled=True,
    ),
    Benchmark(
        "tiles",
        "benchmarks.bench_tiles",
        ((),),
        (("--rounds", "1", "--cached-passes", "1", "--every", "2"),),
        "tipg",
    ),
    Benchmark(
        "registry",
        "benchmarks.bench_registry",
        ((),),
        (("--rows", "10000", "--repeats", "1"),),
        "PostgreSQL UPDATE floor",
    ),
    Benchmark(
        "batch",
        "benchmarks.bench_batch",
        (("--peer-rows", "200"),),
        (("--rows", "5000", "--addresses", "2000", "--peer-rows", "30"),),
        "Addok, search per row",
        bundled=True,
    ),
    Benchmark(
        "dask",
        "benchmarks.bench_dask",
        ((),),
        (("--rows", "2000", "--addresses", "2000"),),
        "one process",
        bundled=True,
    ),
    Benchmark(
        "http",
        "benchmarks.bench_http",
        ((), ("--answer-cache", "0")),
        (HTTP_QUICK, (*HTTP_QUICK, "--answer-cache", "0")),
        "wrk against real workers",
        bundled=True,
    ),
    Benchmark(
        "sizes",
        "benchmarks.bench_sizes",
        (("--addresses", "1000000", "5000000"),),
        (("--addresses", "5000", "25000", "--queries", "100", "--settle-every", "1"),),
        "1 and 5 million addresses, projected to 30 million",
        full_timeout_s=7200,
        bundled=True,
    ),
)


def markers(name: str) -> tuple[str, str]:
    """The opening and closing markers of a section.

    >>> markers("import")
    ('<!-- bench:import -->', '<!-- /bench:import -->')
    """
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def section_span(document: str, name: str) -> tuple[int, int]:
    """Where the generated text of a section lies (between its markers); MarkerError if it cannot be found."""
    opening, closing = markers(name)
    counts = document.count(opening), document.count(closing)
    if counts != (1, 1):
        raise MarkerError(
            f"BENCHMARKS.md must hold {opening} and {closing} once each around the '{name}' tables; "
            f"found {counts[0]} and {counts[1]}"
        )
    start, end = document.index(opening) + len(opening), document.index(closing)
    if end < start:
        raise MarkerError(f"BENCHMARKS.md: {closing} comes before {opening}")
    return start, end


def replace_section(document: str, name: str, body: str) -> str:
    """The document with the text between the section's markers replaced by ``body``; the rest kept.

    >>> replace_section("prose\\n<!-- bench:a -->\\nold\\n<!-- /bench:a -->\\nmore", "a", "new")
    'prose\\n<!-- bench:a -->\\nnew\\n<!-- /bench:a -->\\nmore'
    """
    start, end = section_span(document, name)
    return f"{document[:start]}\n{body.strip()}\n{document[end:]}"


def check_markers(document: str, names: Iterable[str]) -> None:
    """Raise MarkerError for the first section whose markers are missing or misplaced."""
    for name in names:
        section_span(document, name)


def _is_table_start(lines: Sequence[str], at: int) -> bool:
    """Whether a header row and its separator row start at ``at``."""
    return (
        at + 1 < len(lines) and lines[at].startswith("|") and bool(_SEPARATOR_RE.match(lines[at + 1].strip()))
    )


def _caption(lines: Sequence[str], at: int) -> str | None:
    """The line before a table when it ends with a colon (blank lines skipped)."""
    before = at - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    line = lines[before].strip() if before >= 0 else ""
    return line if line.endswith(":") and not line.startswith("|") else None


def tables_in(output: str) -> list[tuple[str | None, list[str]]]:
    """The markdown tables printed in ``output``: (caption, lines); lone rows (progress) are left out.

    >>> text = "progress\\n| 1 | 2 |\\nInto the empty table:\\n\\n| a | b |\\n|---|---:|\\n| x | 1 |\\ndone"
    >>> tables_in(text)
    [('Into the empty table:', ['| a | b |', '|---|---:|', '| x | 1 |'])]
    """
    lines = output.splitlines()
    found: list[tuple[str | None, list[str]]] = []
    at = 0
    while at < len(lines):
        if not _is_table_start(lines, at):
            at += 1
            continue
        end = at + 2
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        found.append((_caption(lines, at), [line.rstrip() for line in lines[at:end]]))
        at = end
    return found


def merged(tables: Iterable[tuple[str | None, list[str]]]) -> list[tuple[str | None, list[str]]]:
    """Consecutive tables with the same header and no caption of their own joined into one.

    >>> merged([(None, ["| a |", "|---|", "| 1 |"]), (None, ["| a |", "|---|", "| 2 |"])])
    [(None, ['| a |', '|---|', '| 1 |', '| 2 |'])]
    """
    out: list[tuple[str | None, list[str]]] = []
    for caption, lines in tables:
        if out and caption is None and out[-1][1][:2] == lines[:2]:
            out[-1][1].extend(lines[2:])
        else:
            out.append((caption, list(lines)))
    return out


@dataclass(frozen=True)
class Machine:
    """What the figures were measured on."""

    cores: int
    ram_gib: float
    cpu: str

    @classmethod
    def here(cls) -> Machine:
        """This machine (Linux ``/proc``)."""
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        total_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        model = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?"
        )
        return cls(os.cpu_count() or 0, total_kib / 1024**2, model)

    def describe(self) -> str:
        """One line.

        >>> Machine(2, 23.4, "AMD EPYC").describe()
        '2 cores, 23.4 GiB RAM, AMD EPYC'
        """
        return f"{self.cores} cores, {self.ram_gib:.1f} GiB RAM, {self.cpu}"


@dataclass(frozen=True)
class Outcome:
    """One run of a benchmark: its exact command, what it printed, how it ended."""

    command: tuple[str, ...]
    output: str
    seconds: float
    status: int | None
    """The exit status; None when the run was stopped at its time limit."""

    @property
    def ok(self) -> bool:
        """Whether the run ended well."""
        return self.status == 0


def command_of(benchmark: Benchmark, arguments: Sequence[str]) -> tuple[str, ...]:
    """The exact command of one run, as it is recorded and started."""
    python = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else sys.executable
    return (python, "-m", benchmark.module, *arguments)


def execute(command: Sequence[str], timeout_s: float) -> Outcome:
    """Run a benchmark process (its own session, stopped at the time limit), echoing its output."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *command[1:]],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=_echo, args=(process, lines), daemon=True)
    reader.start()
    status: int | None
    try:
        status = process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        stop(process)
        status = None
    reader.join(timeout=10)
    return Outcome(tuple(command), "".join(lines), time.perf_counter() - started, status)


def stop(process: subprocess.Popen[str], grace_s: float = 60) -> None:
    """Interrupt a run (SIGINT: its ``finally`` blocks stop its servers, drop its databases), then kill it."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _echo(process: subprocess.Popen[str], lines: list[str]) -> None:
    """Copy the process's standard output to ours, line by line, keeping it."""
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        print(line, end="", flush=True)


def section(
    outcomes: Sequence[Outcome],
    tables: Sequence[tuple[str | None, list[str]]],
    *,
    machine: Machine,
    quick: bool,
    when: dt.datetime,
) -> str:
    """The generated text of a section: provenance, then its tables."""
    mode = (
        "**quick mode** (`make bench-quick`: smaller sizes, fewer repetitions; not comparable to full runs)"
        if quick
        else "full mode (`make bench`)"
    )
    commands = "; ".join(f"`{shlex.join(outcome.command)}` ({outcome.seconds:.0f} s)" for outcome in outcomes)
    lines = [
        f"_Generated by `benchmarks/run_all.py` in {mode} on {when:%Y-%m-%d %H:%M} UTC; machine: "
        f"{machine.describe()}; load average {os.getloadavg()[0]:.1f} at the end; command: {commands}._",
    ]
    for caption, table in tables:
        lines += ["", *([caption, ""] if caption else []), *table]
    return "\n".join(lines)


def selected(only: Sequence[str], skip: Sequence[str]) -> list[Benchmark]:
    """The benchmarks to run, in registry order; an unknown name is an error."""
    known = {benchmark.name for benchmark in REGISTRY}
    unknown = sorted((set(only) | set(skip)) - known)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [b for b in REGISTRY if (not only or b.name in only) and b.name not in skip]


def run_benchmark(benchmark: Benchmark, *, quick: bool) -> list[Outcome]:
    """Every run of one benchmark, stopping at the first that fails."""
    outcomes = []
    for arguments in benchmark.runs(quick=quick):
        command = command_of(benchmark, arguments)
        print(f"\n=== {benchmark.name} ({'quick' if quick else 'full'}): {shlex.join(command)}", flush=True)
        outcomes.append(execute(command, benchmark.timeout_s(quick=quick)))
        ended = "timed out" if outcomes[-1].status is None else f"exit status {outcomes[-1].status}"
        print(f"--- {benchmark.name}: {outcomes[-1].seconds:.0f} s, {ended}", flush=True)
        if not outcomes[-1].ok:
            break
    return outcomes


def run(benchmarks: Sequence[Benchmark], *, quick: bool, document: Path | None) -> list[str]:
    """Run the benchmarks; rewrite each section of ``document`` as its benchmark ends; the failures.

    When some of them start from the bundled data, it is imported once, into a template
    database their scratch databases are copied from (:func:`benchmarks.scratch.shared_template`).
    """
    with ExitStack() as stack:
        if any(benchmark.bundled for benchmark in benchmarks):
            started = time.perf_counter()
            stack.enter_context(shared_template())
            print(
                f"template database with the bundled data: {time.perf_counter() - started:.0f} s", flush=True
            )
        return _run_each(benchmarks, quick=quick, document=document)


def _run_each(benchmarks: Sequence[Benchmark], *, quick: bool, document: Path | None) -> list[str]:
    """Run the benchmarks one after the other; rewrite their sections; the failures."""
    machine = Machine.here()
    failed = []
    for benchmark in benchmarks:
        outcomes = run_benchmark(benchmark, quick=quick)
        if not all(outcome.ok for outcome in outcomes):
            status = outcomes[-1].status
            failed.append(f"{benchmark.name} ({'timed out' if status is None else f'exit status {status}'})")
            continue
        if document is not None:
            write(document, benchmark, outcomes, machine=machine, quick=quick)
    return failed


def write(
    document: Path, benchmark: Benchmark, outcomes: Sequence[Outcome], *, machine: Machine, quick: bool
) -> None:
    """Rewrite every section of the benchmark in ``document`` with the tables its runs printed."""
    when = dt.datetime.now(dt.UTC)
    tables = merged(table for outcome in outcomes for table in tables_in(outcome.output))
    text = document.read_text(encoding="utf-8")
    for name in benchmark.sections:
        mine = [table for table in tables if benchmark.section_of(table[0]) == name]
        text = replace_section(text, name, section(outcomes, mine, machine=machine, quick=quick, when=when))
    document.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, check the markers, run, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions")
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME")
    parser.add_argument("--skip", nargs="+", default=[], metavar="NAME")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and their runs")
    args = parser.parse_args(argv)
    benchmarks = selected(args.only, args.skip)
    if args.list:
        for b in benchmarks:
            runs = " | ".join(shlex.join(command_of(b, r)) for r in b.runs(quick=args.quick))
            print(f"{b.name:<15} vs {b.peers}: {runs}")
        return 0
    document = None if args.no_write else DOCUMENT
    if document is not None:
        check_markers(document.read_text(encoding="utf-8"), [name for b in benchmarks for name in b.sections])
    mode = "QUICK mode (smaller sizes, fewer repetitions)" if args.quick else "full mode"
    print(f"running {len(benchmarks)} benchmarks in {mode}: {', '.join(b.name for b in benchmarks)}")
    started = time.perf_counter()
    failed = run(benchmarks, quick=args.quick, document=document)
    print(
        f"\n{len(benchmarks) - len(failed)} of {len(benchmarks)} benchmarks done in {mode}, "
        f"{time.perf_counter() - started:.0f} s" + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
