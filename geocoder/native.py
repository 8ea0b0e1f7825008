"""The geocoder's hot modules compiled with mypyc, used only when built from the sources as they are.

``scripts/build_native.py`` (run by ``make install``) compiles :data:`COMPILED_MODULES` into
``.native/<tag>-<hash>/``, where ``<hash>`` is :func:`source_hash` of every source file the
compiler reads (``geocoder/`` and ``addresses/``). ``geocoder/__init__.py`` calls
:func:`activate`, which puts that folder in front of the package's path only when its hash is
the one of the sources found now: an edited source can never run old compiled code, it runs
as pure Python until the next build. ``DIACHISO_PURE=1`` keeps the pure Python modules.
This module is never compiled itself.
"""

from __future__ import annotations

import hashlib
import os
import sys
import sysconfig
from collections.abc import MutableSequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

COMPILED_MODULES: Final = (
    "geocoder.categories",
    "geocoder.candidates",
    "geocoder.entries",
    "geocoder.houses",
    "geocoder.normalize",
    "geocoder.parse",
    "geocoder.query",
    "geocoder.scoring",
    "geocoder.search",
    "geocoder.unitwords",
    "geocoder.vocab",
)
"""The modules mypyc compiles (the in-memory search: parse, candidates, scoring).

Not ``geocoder.results``: its frozen dataclasses travel pickled (a Dask partition's
``BatchReport``), and mypyc's unpickling of a frozen native dataclass fails on its frozen
``__setattr__``; it is not where a search spends its time either.
"""

HASHED_PACKAGES: Final = ("geocoder", "addresses")
"""The packages whose sources mypyc reads when compiling :data:`COMPILED_MODULES` (types, constants)."""

PURE_ENV: Final = "DIACHISO_PURE"
"""Set to anything but "" or "0": run the pure Python modules even when a build is present."""

NATIVE_DIR: Final = ".native"
"""The folder (in the project root, beside ``geocoder/``) holding the builds."""

COMPLETE: Final = "COMPLETE"
"""The file a build folder gets last: a folder without it is an unfinished build."""


@dataclass(frozen=True, slots=True)
class NativeStatus:
    """Whether the compiled modules are on the path, and why (not)."""

    compiled: bool
    reason: str
    build: Path


def source_hash(root: Path) -> str:
    """The SHA-256 of every ``.py`` file of :data:`HASHED_PACKAGES` under ``root`` (names and bytes).

    >>> len(source_hash(Path(__file__).resolve().parent.parent))
    64
    """
    digest = hashlib.sha256()
    for package in HASHED_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_dir(root: Path) -> Path:
    """The folder of the build for the sources under ``root`` and this interpreter."""
    tag = str(sysconfig.get_config_var("EXT_SUFFIX") or ".so").strip(".").replace(".", "-")
    return root / NATIVE_DIR / f"{tag}-{source_hash(root)[:20]}"


def pure_wanted() -> bool:
    """Whether :data:`PURE_ENV` asks for the pure Python modules."""
    return os.environ.get(PURE_ENV, "") not in ("", "0")


def find_build(root: Path) -> NativeStatus:
    """Whether the build for the sources under ``root`` exists (and is not refused by :data:`PURE_ENV`)."""
    build = build_dir(root)
    if pure_wanted():
        return NativeStatus(False, f"pure Python: {PURE_ENV} is set", build)
    if not (build / COMPLETE).is_file():
        others = sorted(p.name for p in (root / NATIVE_DIR).glob("*") if p.name != build.name)
        stale = f" (builds for other sources: {', '.join(others)})" if others else ""
        return NativeStatus(False, f"pure Python: no build for these sources{stale}", build)
    return NativeStatus(True, f"compiled: {build}", build)


def activate(package_path: MutableSequence[str]) -> NativeStatus:
    """Put the matching build in front of ``package_path`` (the geocoder's ``__path__``) when there is one.

    The compiled modules are the build's ``geocoder/*.so``; the runtime they share is a module
    at the top of the build folder, which goes at the end of :data:`sys.path`.
    """
    status = find_build(Path(__file__).resolve().parent.parent)
    if status.compiled:
        package_path.insert(0, str(status.build / "geocoder"))
        if str(status.build) not in sys.path:
            sys.path.append(str(status.build))
    return status
