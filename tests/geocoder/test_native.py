"""The compiled geocoder modules (geocoder/native.py): loaded when built for these sources, never stale."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import geocoder
from geocoder import native

ROOT = Path(geocoder.__file__).resolve().parent.parent


def test_the_compiled_modules_are_the_ones_loaded() -> None:
    """``make`` builds the modules for these sources and every test runs them (DIACHISO_PURE=1: pure)."""
    if native.pure_wanted():
        pytest.skip(f"{native.PURE_ENV} is set: the pure Python modules run")
    assert geocoder.NATIVE.compiled, (
        f"{geocoder.NATIVE.reason}: run `make install` (scripts/build_native.py) "
        f"or set {native.PURE_ENV}=1 to test the pure Python modules"
    )
    build = geocoder.NATIVE.build.resolve()
    for name in native.COMPILED_MODULES:
        path = Path(str(importlib.import_module(name).__file__)).resolve()
        assert path.parent == build / "geocoder", name
        assert path.suffix == ".so", name


def test_pure_python_when_asked() -> None:
    """``DIACHISO_PURE=1`` runs every module from its source file."""
    names = ", ".join(native.COMPILED_MODULES)
    script = f"import geocoder, {names}; print(geocoder.NATIVE.compiled, *[m.__file__ for m in [{names}]])"
    env = {**os.environ, native.PURE_ENV: "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", script]
    shown = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    compiled, *files = shown.stdout.split()
    assert compiled == "False"
    assert files == [str(ROOT / (name.replace(".", "/") + ".py")) for name in native.COMPILED_MODULES]


def _tree(root: Path) -> None:
    """A copy of the hashed sources under ``root``."""
    for package in native.HASHED_PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))


def test_an_edited_source_never_runs_old_compiled_code(tmp_path: Path) -> None:
    """A build is found only for the sources it was made from: one changed byte and it is stale."""
    _tree(tmp_path)
    build = native.build_dir(tmp_path)
    build.mkdir(parents=True)
    (build / native.COMPLETE).write_text("", encoding="utf-8")
    assert native.find_build(tmp_path).compiled == (not native.pure_wanted())
    scoring = tmp_path / "geocoder" / "scoring.py"
    scoring.write_text(scoring.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert native.build_dir(tmp_path) != build
    status = native.find_build(tmp_path)
    assert not status.compiled
    if not native.pure_wanted():
        assert build.name in status.reason  # the stale build is named


def test_an_unfinished_build_is_not_used(tmp_path: Path) -> None:
    """A build folder without its COMPLETE mark (the build stopped half way) is ignored."""
    _tree(tmp_path)
    native.build_dir(tmp_path).mkdir(parents=True)
    assert not native.find_build(tmp_path).compiled


def test_the_hash_covers_the_addresses_package(tmp_path: Path) -> None:
    """mypyc reads types and constants of ``addresses`` too: an edit there changes the build's name."""
    _tree(tmp_path)
    before = native.build_dir(tmp_path)
    vocabulary = tmp_path / "addresses" / "vocabulary.py"
    vocabulary.write_text(vocabulary.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert native.build_dir(tmp_path) != before


def test_the_doctests_of_the_compiled_modules_pass_as_pure_python() -> None:
    """conftest.py leaves the compiled modules' doctests out of the session: they run here, pure."""
    if not geocoder.NATIVE.compiled:
        pytest.skip("the modules are pure Python: their doctests run in this session")
    sources = [name.replace(".", "/") + ".py" for name in native.COMPILED_MODULES]
    env = {**os.environ, native.PURE_ENV: "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *sources]
    ran = subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert " passed" in ran.stdout
