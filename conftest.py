"""The doctests of the compiled geocoder modules run as pure Python (tests/geocoder/test_native.py).

A compiled module has no docstring examples and its file is not its source, so when the
compiled modules are loaded (geocoder/native.py) pytest does not collect their source files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import geocoder
from geocoder import native

ROOT = Path(__file__).resolve().parent


def compiled_sources() -> set[Path]:
    """The source files of the compiled modules, when they are the ones loaded."""
    if not geocoder.NATIVE.compiled:
        return set()
    return {ROOT / (name.replace(".", "/") + ".py") for name in native.COMPILED_MODULES}


COMPILED_SOURCES = compiled_sources()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:  # noqa: ARG001
    """Skip the compiled modules' sources (their doctests run in a pure Python process)."""
    return True if collection_path in COMPILED_SOURCES else None
