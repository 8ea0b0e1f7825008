"""No orphans (issue 11): every top-level function and class of the packages is reached from an entry point.

The entry points are the code that runs without a test calling it: module-level
statements of the packages (run at import), functions registered by a decorator
(FastAPI routes, typer commands), the console script of pyproject.toml, the Alembic
migrations, and the public names (``__all__``) notebooks import. From them, names are
followed through the AST (bare names, imports, ``module.attribute`` and
``"module:name"`` strings such as uvicorn's factory); a definition nothing reaches is
reachable only from tests/ or benchmarks/ (or from nowhere) and fails the test, unless
KNOWN_ORPHANS lists it (a list that may only shrink). Run this file as a script to list
the unreached definitions with where they are still mentioned (``--constants`` adds
constants, ``--kept`` leaves out the helpers of KNOWN_ORPHANS).
"""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("addresses", "geocoder", "tiles", "importers", "api")
MIGRATIONS = "addresses/migrations"
Symbol = tuple[str, str]
"""(dotted module, top-level name)."""

NOTEBOOKS = ROOT / "notebooks"
"""Notebooks consume the public API: a name of a module's ``__all__`` they import is an entry point."""

#: Unreached definitions kept on purpose this round, each with why. The list may only shrink:
#: the test fails for an entry that is reached again or gone. Nothing else may be unreached.
KNOWN_ORPHANS: dict[Symbol, str] = {
    # The reference implementation of the published code spec (docs/codes.md section 6 lists
    # them for whoever implements the spec elsewhere): kept as that library's API, not the app's.
    ("addresses.codes", "CellArrays"): "docs/codes.md 1.11 (decode_array's result)",
    ("addresses.codes", "decode_array"): "docs/codes.md 1.11",
    ("addresses.codes", "is_valid_location_code"): "docs/codes.md 1.8",
    ("addresses.codes", "registry_serial"): "docs/codes.md 2",
}

REGISTERING = frozenset({"get", "post", "put", "patch", "delete", "head", "api_route", "command", "callback"})
"""Decorator methods that register a function with FastAPI or typer (which then calls it)."""

_ENTRY_STRING = re.compile(r"^([a-z_][\w.]*):([A-Za-z_]\w*)$")


def module_name(path: Path) -> str:
    """The dotted module of a file under ROOT.

    >>> module_name(ROOT / "addresses" / "registry.py"), module_name(ROOT / "api" / "__init__.py")
    ('addresses.registry', 'api')
    """
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_files() -> list[Path]:
    """Every Python file of the packages (node_modules of the viewer excluded)."""
    files = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    return [path for path in files if "node_modules" not in path.parts]


@dataclass
class Module:
    """One parsed module: what its names are bound to and what each top-level definition uses."""

    name: str
    is_package: bool
    imports: dict[str, Symbol | str] = field(default_factory=dict)
    """Local name -> imported symbol, or a dotted module name."""
    definitions: dict[str, ast.stmt] = field(default_factory=dict)
    roots: list[ast.stmt] = field(default_factory=list)
    """Module-level statements that run at import (not definitions)."""
    public: set[str] = field(default_factory=set)
    """The names of its ``__all__``."""


def _import_from_base(module: Module, node: ast.ImportFrom) -> str:
    """The absolute module an ``from X import ...`` names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    parts = module.name.split(".")
    keep = len(parts) - node.level + (1 if module.is_package else 0)
    base = ".".join(parts[:keep])
    return f"{base}.{node.module}" if node.module else base


def _bind_imports(module: Module, node: ast.Import | ast.ImportFrom, modules: set[str]) -> None:
    """Record what the names an import statement binds stand for."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                module.imports[alias.asname] = alias.name
            else:
                module.imports[alias.name.split(".")[0]] = alias.name.split(".")[0]
        return
    base = _import_from_base(module, node)
    for alias in node.names:
        dotted = f"{base}.{alias.name}"
        module.imports[alias.asname or alias.name] = dotted if dotted in modules else (base, alias.name)


def _defined_names(node: ast.stmt) -> list[str]:
    """The names a top-level statement defines (functions, classes, assigned constants)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
    else:
        return []
    return [target.id for target in targets if isinstance(target, ast.Name) and target.id != "__all__"]


def _is_registered(node: ast.stmt) -> bool:
    """A function a decorator registers: a FastAPI route (``@router.get(...)``), a typer command."""
    decorators = getattr(node, "decorator_list", [])
    return any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in REGISTERING
        for d in decorators
    )


def parse_source(text: str, name: str, *, is_package: bool, modules: set[str]) -> Module:
    """Parse a module's text into its bindings, definitions and import-time statements."""
    module = Module(name, is_package)
    tree = ast.parse(text)
    module.public = declared_all(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            _bind_imports(module, node, modules)
    for node in tree.body:
        is_definition = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        is_constant = bool(_defined_names(node)) and not is_definition
        for defined in _defined_names(node):
            module.definitions[defined] = node
        if not (is_definition or is_constant) or _is_registered(node):
            module.roots.append(node)
    return module


def declared_all(tree: ast.Module) -> set[str]:
    """The names of a module's ``__all__`` (empty without one)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            elements = getattr(node.value, "elts", [])
            return {str(elt.value) for elt in elements if isinstance(elt, ast.Constant)}
    return set()


def notebook_imports(project: Project) -> set[Symbol]:
    """Names of a module's ``__all__`` that a notebook's code imports (``from module import name``)."""
    found: set[Symbol] = set()
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and node.module in project.modules:
                public = project.modules[node.module].public
                found |= {(node.module, alias.name) for alias in node.names if alias.name in public}
    return found


@dataclass
class Project:
    """Every module of the packages, with name resolution across them."""

    modules: dict[str, Module]

    def resolve(self, symbol: Symbol | str, depth: int = 0) -> Symbol | None:
        """Follow re-exports to the module defining a symbol (None outside the packages)."""
        if isinstance(symbol, str) or symbol[0] not in self.modules or depth > 10:
            return None
        module = self.modules[symbol[0]]
        if symbol[1] in module.definitions:
            return symbol
        bound = module.imports.get(symbol[1])
        return None if bound is None else self.resolve(bound, depth + 1)

    def _attribute(self, module: Module, node: ast.Attribute) -> Symbol | None:
        """``alias.name`` where the alias is a module of the packages."""
        if isinstance(node.value, ast.Name):
            bound = module.imports.get(node.value.id)
            if isinstance(bound, str):
                return self.resolve((bound, node.attr))
        return None

    def used_by(self, module: Module, node: ast.AST) -> Iterator[Symbol]:
        """The package symbols a piece of code mentions."""
        for child in ast.walk(node):
            found: Symbol | None = None
            if isinstance(child, ast.Name):
                bound = module.imports.get(child.id)
                if child.id in module.definitions:
                    found = (module.name, child.id)
                elif bound is not None:
                    found = self.resolve(bound)
            elif isinstance(child, ast.Attribute):
                found = self._attribute(module, child)
            elif isinstance(child, ast.Constant) and isinstance(child.value, str):
                entry = _ENTRY_STRING.match(child.value)
                found = None if entry is None else self.resolve((entry[1], entry[2]))
            if found is not None:
                yield found

    def roots(self) -> set[Symbol]:
        """The entry points: import-time code, registered functions, migrations, scripts, notebooks."""
        found = notebook_imports(self)
        pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        for target in pyproject["project"]["scripts"].values():
            module, _, name = target.partition(":")
            found.add((module, name))
        for module in self.modules.values():
            for node in module.roots:
                found |= set(self.used_by(module, node))
                found |= {(module.name, name) for name in _defined_names(node) if _is_registered(node)}
            if module.name.startswith(MIGRATIONS.replace("/", ".")):
                found |= {(module.name, name) for name in module.definitions}
        return found

    def reachable(self, *, kept: frozenset[Symbol] = frozenset()) -> set[Symbol]:
        """Every definition the entry points reach, following what each definition mentions."""
        seen: set[Symbol] = set()
        todo = [symbol for symbol in self.roots() | kept if self.resolve(symbol)]
        while todo:
            symbol = self.resolve(todo.pop())
            if symbol is None or symbol in seen:
                continue
            seen.add(symbol)
            module = self.modules[symbol[0]]
            todo += self.used_by(module, module.definitions[symbol[1]])
        return seen

    def unreached(self, *, constants: bool = False, kept: frozenset[Symbol] = frozenset()) -> list[Symbol]:
        """Top-level functions and classes (and constants if asked) nothing reaches, sorted.

        Definitions in ``kept`` count as entry points (their helpers are reached), though
        they themselves are listed when nothing else reaches them.
        """
        kinds: tuple[type, ...] = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        kinds += (ast.Assign, ast.AnnAssign) if constants else ()
        real = self.reachable()
        helped = self.reachable(kept=kept) if kept else real
        return sorted(
            (module.name, name)
            for module in self.modules.values()
            for name, node in module.definitions.items()
            if isinstance(node, kinds)
            and ((module.name, name) not in helped or (module.name, name) in kept - real)
        )


@cache
def load_project() -> Project:
    """Parse every module of the packages."""
    files = package_files()
    names = {module_name(path) for path in files}
    parsed = (
        parse_source(
            path.read_text(encoding="utf-8"),
            module_name(path),
            is_package=path.name == "__init__.py",
            modules=names,
        )
        for path in files
    )
    return Project({module.name: module for module in parsed})


def mentioned_in(name: str) -> list[str]:
    """Folders outside the packages whose files mention a name (tests, benchmarks, notebooks)."""
    places = ("tests", "benchmarks", "notebooks")
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    return [
        place
        for place in places
        if any(pattern.search(path.read_text(encoding="utf-8")) for path in (ROOT / place).rglob("*.*"))
    ]


def test_every_function_and_class_is_reached_from_an_entry_point() -> None:
    found = load_project().unreached(kept=frozenset(KNOWN_ORPHANS))
    unreached = [f"{module}.{name}" for module, name in found if (module, name) not in KNOWN_ORPHANS]
    assert unreached == [], "reachable only from tests/benchmarks (or nowhere): delete or use them"


def test_the_known_orphans_are_still_orphans() -> None:
    unreached = set(load_project().unreached(kept=frozenset(KNOWN_ORPHANS)))
    assert sorted(set(KNOWN_ORPHANS) - unreached) == [], "reached again or gone: take it off KNOWN_ORPHANS"


def test_the_analysis_sees_an_orphan_and_what_reaches_it() -> None:
    sample = (
        "def used():\n    return helper()\n\ndef helper():\n    return 1\n\ndef orphan():\n    return 2\n"
    )
    entry = "from addresses.sample import used\n\nused()\n"
    names = {"addresses.sample", "addresses.entry"}
    project = Project(
        {
            name: parse_source(text, name, is_package=False, modules=names)
            for name, text in (("addresses.sample", sample), ("addresses.entry", entry))
        }
    )
    assert project.unreached() == [("addresses.sample", "orphan")]


if __name__ == "__main__":
    kept = frozenset(KNOWN_ORPHANS) if "--kept" in sys.argv else frozenset()
    for module, name in load_project().unreached(constants="--constants" in sys.argv, kept=kept):
        print(
            f"{module}.{name}: mentioned in {', '.join(mentioned_in(name)) or 'nothing outside the packages'}"
        )
