"""Compile the geocoder's hot modules with mypyc into ``.native/<tag>-<hash>/`` (see geocoder/native.py).

Run: ``.venv/bin/python scripts/build_native.py`` from the project root (``make install`` does).
Nothing to do when the build for the current sources exists. Otherwise it compiles into a
temporary folder, checks that the sources did not change meanwhile, marks the build complete,
moves it into place and removes the builds of other sources. ``DIACHISO_PURE=1``: skip.
Needs gcc and the Python headers; a failed build leaves the pure Python modules in use.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geocoder import native  # noqa: E402  (the project root first on the path)


def compile_into(folder: Path) -> None:
    """Compile :data:`geocoder.native.COMPILED_MODULES` into ``folder`` (``lib/``: the modules, runtime)."""
    from mypyc.build import mypycify  # noqa: PLC0415  (mypy is a dev dependency)
    from setuptools import setup  # type: ignore[import-untyped]  # noqa: PLC0415

    sources = [name.replace(".", "/") + ".py" for name in native.COMPILED_MODULES]
    extensions = mypycify(sources, opt_level="3", target_dir=str(folder / "c"), group_name="diachiso_native")
    setup(
        name="diachiso-native",
        ext_modules=extensions,
        script_args=[
            "--quiet",
            "build_ext",
            "--build-lib",
            str(folder / "lib"),
            "--build-temp",
            str(folder / "temp"),
        ],
    )


def main() -> int:
    """Build unless the build of the current sources is there; 0 when it is there at the end."""
    if native.pure_wanted():
        print(f"build_native: {native.PURE_ENV} is set, nothing compiled")
        return 0
    build = native.build_dir(ROOT)
    if (build / native.COMPLETE).is_file():
        print(f"build_native: up to date ({build.relative_to(ROOT)})")
        return 0
    started = time.monotonic()
    (ROOT / native.NATIVE_DIR).mkdir(exist_ok=True)
    os.chdir(ROOT)  # mypy reads the sources and pyproject.toml from here
    with tempfile.TemporaryDirectory(dir=ROOT / native.NATIVE_DIR, prefix="tmp-") as scratch:
        compile_into(Path(scratch))
        if native.build_dir(ROOT) != build:
            print("build_native: the sources changed during the build; run it again", file=sys.stderr)
            return 1
        lib = Path(scratch) / "lib"
        (lib / native.COMPLETE).write_text("\n".join(native.COMPILED_MODULES) + "\n", encoding="utf-8")
        for old in (ROOT / native.NATIVE_DIR).iterdir():
            if old.name != Path(scratch).name:
                shutil.rmtree(old, ignore_errors=True)
        lib.rename(build)
    print(f"build_native: compiled in {time.monotonic() - started:.0f} s ({build.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
