"""Imports flow one way: addresses <- geocoder, tiles <- importers, api; only api imports FastAPI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("addresses", "geocoder", "tiles", "importers", "api")
#: What each package may import among its siblings.
ALLOWED = {
    "addresses": set(),
    "geocoder": {"addresses"},
    "tiles": {"addresses"},
    "importers": {"addresses", "geocoder"},
    "api": {"addresses", "geocoder", "tiles", "importers"},
}
WEB_FRAMEWORKS = {"fastapi", "starlette", "uvicorn"}


def imported_roots(path: Path) -> set[str]:
    """Top-level module names a file imports."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_the_layers_below(package: str) -> None:
    wrong: list[str] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        roots = imported_roots(path)
        siblings = (roots & set(PACKAGES)) - {package} - ALLOWED[package]
        web = roots & WEB_FRAMEWORKS if package != "api" else set()
        wrong += [f"{path.relative_to(ROOT)} imports {name}" for name in sorted(siblings | web)]
    assert wrong == []
