"""Every command and curl example of README.md and docs/*.md runs, and says what the docs say.

How the pages mark their code blocks (the fence's info string; GitHub reads only its
first word, the language):

- ```` ```sh ```` blocks are run. All of a page's ``sh`` blocks run in order in one bash
  session (``set -euo pipefail``), as a reader types them in one terminal: a variable
  set in one block is there in the next. ``curl`` examples go to a live server on a
  free 127.0.0.1 port (``http://127.0.0.1:8000`` is rewritten), ``diachiso`` is the
  project's entry point; both use a fresh database loaded with the bundled data (the
  pages make the accounts and tokens they edit with, as a reader would). The
  working folder holds ``docs/examples/`` and ``data/`` as in the repository.
- Any HTTP answer of 400 or more fails the block, unless the block says
  ``status=NNN[,NNN]``: then every answer must be one of those.
- A block right after a runnable one whose info string has ``output`` is what that
  block prints: ``json output`` must be contained in the JSON printed (members shown
  are compared, members left out are not; ``"..."`` matches any value); other
  languages list lines that must each appear in the output (stdout and stderr),
  spaces collapsed.
- ```` ```sh no-test <reason> ```` blocks are not run (``make run``, ``serve``,
  systemd): they must give a reason, and there are few of them.
- ```` ```toml file=docs/examples/x.toml ```` shows a file of the repository, which
  must be the same text.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from addresses.datasets import DATASETS
from addresses.settings import DatabaseSettings
from api.app import create_app
from api.settings import ApiSettings, GeocodeSettings, ServerSettings, TileSettings
from tests.databases import loaded_database
from tests.fresh_database import live_server

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = {"sh", "bash", "shell"}
DOC_HOST = "http://127.0.0.1:8000"
MAX_NOT_TESTED = 8
PAGE_TIMEOUT_S = 600
MARK = "@@diachiso-docs-block "
STATUS = "@@status "
DOCUMENTED_METHODS = {"get", "post", "put", "patch", "delete"}
"""Methods that need their own example (HEAD answers as GET does, without the body)."""


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int
    lang: str
    options: tuple[str, ...]
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def runnable(self) -> bool:
        return self.lang in RUNNABLE and "no-test" not in self.options and "output" not in self.options

    def option(self, name: str) -> str | None:
        """The value of a ``name=value`` option."""
        for option in self.options:
            key, sep, value = option.partition("=")
            if sep and key == name:
                return value
        return None


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, in order."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    start: tuple[int, str, tuple[str, ...]] | None = None
    body: list[str] = []
    for number, line in enumerate(lines, start=1):
        if start is None and line.startswith("```"):
            info = line[3:].split()
            start, body = (number, info[0] if info else "", tuple(info[1:])), []
        elif start is not None and line.rstrip() == "```":
            found.append(Block(page, start[0], start[1], start[2], "\n".join(body) + "\n"))
            start = None
        elif start is not None:
            body.append(line)
    assert start is None, f"{page}: a code block opened at line {start[0]} is never closed"
    return found


def output_of(page_blocks: list[Block], block: Block) -> Block | None:
    """The ``output`` block right after a runnable block, if any."""
    after = page_blocks.index(block) + 1
    if after < len(page_blocks) and "output" in page_blocks[after].options:
        return page_blocks[after]
    return None


ALL_BLOCKS = [block for page in PAGES for block in blocks(page)]
RUN_PAGES = [page for page in PAGES if any(block.runnable for block in blocks(page))]


# --- what the pages must cover --------------------------------------------------------------------


def test_pages_have_runnable_examples() -> None:
    assert len([block for block in ALL_BLOCKS if block.runnable]) >= 20
    assert {page.name for page in RUN_PAGES} >= {"api.md", "importing.md", "editing.md", "quickstart.md"}


def test_blocks_not_run_are_few_and_say_why() -> None:
    skipped = [block for block in ALL_BLOCKS if "no-test" in block.options]
    assert len(skipped) <= MAX_NOT_TESTED, [block.where for block in skipped]
    for block in skipped:
        reason = block.options[block.options.index("no-test") + 1 :]
        assert reason, f"{block.where}: a no-test block must say why it is not run"


def test_commands_are_only_in_runnable_blocks() -> None:
    """A curl or diachiso command in a text or console block would escape the test."""
    for block in ALL_BLOCKS:
        if block.lang in RUNNABLE or "output" in block.options:
            continue
        commands = [line for line in block.text.splitlines() if re.match(r"\s*(\$ )?(curl|diachiso) ", line)]
        assert not commands, f"{block.where}: commands outside a ```sh block: {commands}"


def test_files_shown_are_the_files() -> None:
    shown = [block for block in ALL_BLOCKS if block.option("file")]
    assert shown
    for block in shown:
        path = ROOT / str(block.option("file"))
        assert path.read_text(encoding="utf-8") == block.text, f"{block.where} differs from {path}"


def _curl_routes() -> set[tuple[str, str]]:
    """(method, path) of every curl line of the docs (query string cut off)."""
    routes: set[tuple[str, str]] = set()
    for block in ALL_BLOCKS:
        if not block.runnable:
            continue
        for command in _commands(block.text):
            if not command.startswith("curl "):
                continue
            method = re.search(r"-X\s*(\w+)", command)
            verb = (
                method.group(1).upper()
                if method
                else ("POST" if re.search(r" (-F|-d|--data)", command) else "GET")
            )
            for url in re.findall(re.escape(DOC_HOST) + r"(/[^\s'\"?]*)", command):
                routes.add((verb, url))
    return routes


def _commands(text: str) -> list[str]:
    """The commands of a shell block, continuation lines joined."""
    joined = text.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def _route_pattern(path: str) -> re.Pattern[str]:
    """An OpenAPI path template as a regular expression ({code} is any segment part)."""
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


def test_every_route_has_a_curl_example() -> None:
    spec = create_app(DatabaseSettings(database_url="postgresql://unused/none"), ApiSettings()).openapi()
    used = _curl_routes()
    missing = []
    for path, operations in spec["paths"].items():
        pattern = _route_pattern(path)
        for method in set(operations) & DOCUMENTED_METHODS:
            if not any(verb == method.upper() and pattern.match(url) for verb, url in used):
                missing.append(f"{method.upper()} {path}")
    assert not missing, f"routes without a curl example in the docs: {missing}"


def _variables(settings: type[BaseSettings]) -> set[str]:
    prefix = str(settings.model_config.get("env_prefix", ""))
    return {
        (prefix + name).upper()
        for name, info in settings.model_fields.items()
        if not (isinstance(info.annotation, type) and issubclass(info.annotation, BaseSettings))
    }


def test_every_setting_is_documented() -> None:
    page = (ROOT / "docs" / "production.md").read_text(encoding="utf-8")
    variables = set().union(
        *(
            _variables(cls)
            for cls in (DatabaseSettings, ApiSettings, TileSettings, GeocodeSettings, ServerSettings)
        )
    )
    assert len(variables) >= 15
    documented = set(re.findall(r"DIACHISO_[A-Z0-9_]+", page))
    assert variables - documented == set(), "settings missing from docs/production.md"
    assert documented - variables - {"DIACHISO_"} == set(), "docs/production.md names unknown variables"


def test_every_import_field_is_documented() -> None:
    page = (ROOT / "docs" / "importing.md").read_text(encoding="utf-8")
    for dataset, spec in DATASETS.items():
        fields = spec.target_fields
        section = page.split(f"### {dataset}", 1)
        assert len(section) == 2, f"docs/importing.md has no '### {dataset}' section"
        table = section[1].split("\n### ", 1)[0]
        missing = [name for name in fields if f"`{name}`" not in table]
        assert not missing, f"{dataset} fields not in docs/importing.md: {missing}"


# --- running the pages ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docs_url() -> Iterator[str]:
    """A fresh database with the bundled data, for the docs alone (they import and edit)."""
    with loaded_database("diachiso_docs") as (url, _engine):
        yield url


@pytest.fixture(scope="module")
def server(docs_url: str) -> Iterator[str]:
    """The app on that database, on a free port.

    Its geocoder looks for new data before every request (a server's default is every
    30 s, ``DIACHISO_GEOCODE_CHECK_EVERY_S``), so a search right after an import finds it.
    """
    api = ApiSettings(geocode=GeocodeSettings(check_every_s=0.1))
    app = create_app(DatabaseSettings(database_url=docs_url), api)
    with live_server(app) as url:
        yield url


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder laid out like the repository for what the examples read and write."""
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    (tmp_path / "data").symlink_to(ROOT / "data")
    return tmp_path


PRELUDE = f"""set -euo pipefail
curl() {{ command curl --silent --show-error --write-out '%{{stderr}}{STATUS}%{{http_code}}\\n' "$@"; }}
"""


def script(page_blocks: list[Block], base_url: str) -> str:
    """One bash script running the page's runnable blocks in order, each announced by a mark."""
    parts = [PRELUDE]
    for number, block in enumerate(page_blocks):
        if block.runnable:
            parts.append(f"printf '\\n{MARK}{number}\\n'; printf '\\n{MARK}{number}\\n' >&2\n")
            parts.append(block.text.replace(DOC_HOST, base_url))
    return "".join(parts)


def split(text: str) -> dict[int, str]:
    """A stream cut at the block marks: what each block printed."""
    pieces: dict[int, str] = {}
    current = -1
    for line in text.splitlines(keepends=True):
        if line.startswith(MARK):
            current = int(line[len(MARK) :])
            pieces[current] = ""
        elif current >= 0:
            pieces[current] += line
    return pieces


def environment(database_url: str) -> dict[str, str]:
    """The reader's shell: this interpreter's scripts first, the docs database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DIACHISO_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env["DIACHISO_DATABASE_URL"] = database_url
    env["COLUMNS"] = "200"
    return env


def contains(shown: Any, actual: Any) -> bool:
    """Whether the JSON shown is part of the JSON printed (members left out are not compared)."""
    if shown == "...":
        return True
    if isinstance(shown, dict):
        return isinstance(actual, dict) and all(
            k in actual and contains(v, actual[k]) for k, v in shown.items()
        )
    if isinstance(shown, list):
        return (
            isinstance(actual, list)
            and len(shown) <= len(actual)
            and all(contains(s, a) for s, a in zip(shown, actual, strict=False))
        )
    if isinstance(shown, float) and isinstance(actual, float):
        return abs(shown - actual) <= 1e-6 * max(1.0, abs(shown))
    return bool(shown == actual)


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def check_output(block: Block, expected: Block, printed: str, logged: str) -> None:
    """What a block printed holds what its output block shows."""
    if expected.lang == "json":
        try:
            actual = json.loads(printed)
        except json.JSONDecodeError as error:
            pytest.fail(f"{block.where}: the output is not JSON ({error}): {printed[:500]}")
        assert contains(json.loads(expected.text), actual), (
            f"{block.where}: the output differs from {expected.where}:\n{printed[:3000]}"
        )
        return
    everything = _squeeze(printed + "\n" + logged)
    for line in expected.text.splitlines():
        if line.strip() and line.strip() != "...":
            assert _squeeze(line) in everything, (
                f"{block.where}: {line.strip()!r} (from {expected.where}) not in the output:\n"
                f"{printed[:2000]}\n{logged[:2000]}"
            )


def check_statuses(block: Block, logged: str) -> None:
    """Every HTTP answer of a block is a success, or one of the statuses it declares."""
    statuses = [int(line[len(STATUS) :]) for line in logged.splitlines() if line.startswith(STATUS)]
    declared = block.option("status")
    allowed = {int(code) for code in declared.split(",")} if declared else None
    for status in statuses:
        if allowed is None:
            assert status < 400, f"{block.where}: an HTTP answer was {status}"
        else:
            assert status in allowed, f"{block.where}: an HTTP answer was {status}, the block says {declared}"
    if allowed is not None:
        assert statuses, f"{block.where}: declares status={declared} but makes no HTTP request"


@pytest.mark.db
@pytest.mark.parametrize("page", RUN_PAGES, ids=[page.name for page in RUN_PAGES])
def test_page_examples_run(page: Path, server: str, docs_url: str, workdir: Path) -> None:
    page_blocks = blocks(page)
    done = subprocess.run(
        ["bash", "-c", script(page_blocks, server)],
        cwd=workdir,
        env=environment(docs_url),
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT_S,
        check=False,
    )
    printed, logged = split(done.stdout), split(done.stderr)
    if done.returncode != 0:
        last = max(logged, default=0)
        failed = page_blocks[last] if page_blocks else None
        where = failed.where if failed else str(page)
        pytest.fail(
            f"{where}: the block exited with {done.returncode}\n"
            f"stdout:\n{printed.get(last, '')[-3000:]}\nstderr:\n{logged.get(last, '')[-3000:]}"
        )
    for number, block in enumerate(page_blocks):
        if not block.runnable:
            continue
        check_statuses(block, logged.get(number, ""))
        expected = output_of(page_blocks, block)
        if expected is not None:
            check_output(block, expected, printed.get(number, ""), logged.get(number, ""))
