"""Compare diachiso location codes with Open Location Code and DIGIPIN, side by side.

Run: ``.venv/bin/python benchmarks/bench_codes.py [--points 5000000] [--peer-points 100000]
[--sample 2000] [--repeat 3]`` (about 20 s on a quiet machine). Prints one markdown table:
encoding speed (points/second, best of ``--repeat``: ``--points`` points for ``encode_array``,
a 25th of them for diachiso's scalar ``encode``, ``--peer-points`` for each peer), ratios to
diachiso ``encode_array`` and to its scalar ``encode``, characters to type for a ~3 m cell,
the worst cell size at that length, and the share of single-character substitutions and
adjacent transpositions detected on ``--sample`` codes (a mistyped code that still decodes
counts as undetected).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import digipin
import numpy as np
from numpy.typing import NDArray
from openlocationcode import openlocationcode as olc
from pyproj import Geod

from addresses.codes import (
    ALPHABET,
    TERRITORY,
    decode,
    encode,
    encode_array,
    is_valid_location_code,
)

OLC_LENGTH = 11
OLC_ALPHABET = "23456789CFGHJMPQRVWX"
DIGIPIN_ALPHABET = "FC98J327K456LMPT"
INDIA = (63.5, 2.5, 99.5, 38.5)  # DIGIPIN's box: west, south, east, north
GEOD = Geod(ellps="WGS84")
TERRITORY_BOX = (TERRITORY.west, TERRITORY.south, TERRITORY.east, TERRITORY.north)


@dataclass(frozen=True)
class Row:
    """One line of the result table."""

    name: str
    per_second: float
    characters: int
    cell_m: str
    substitutions: float
    transpositions: float


def points(box: tuple[float, float, float, float], count: int, seed: int) -> list[NDArray[np.float64]]:
    """Return random lon and lat arrays in a box."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(box[0], box[2], count), rng.uniform(box[1], box[3], count)]


@dataclass(frozen=True)
class Sizes:
    """How much each measurement does."""

    points: int = 5_000_000
    """Points encoded by ``encode_array`` per pass."""
    peer_points: int = 100_000
    """Points encoded by each peer per pass."""
    sample: int = 2_000
    """Codes whose every mistyping is tried."""
    repeat: int = 3
    """Timed passes; the fastest is kept."""


def rate(run: Callable[[], object], count: int, repeat: int = 3) -> float:
    """Return points per second of ``run`` over ``count`` points, best of ``repeat``."""
    best = min(_timed(run) for _ in range(repeat))
    return count / best


def _timed(run: Callable[[], object]) -> float:
    """Return the seconds one call takes."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def mutants(code: str, alphabet: str) -> tuple[list[str], list[str]]:
    """Return all single substitutions and all adjacent transpositions of a code."""
    substituted = [
        code[:i] + char + code[i + 1 :] for i in range(len(code)) for char in alphabet if char != code[i]
    ]
    swapped = [
        code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        for i in range(len(code) - 1)
        if code[i] != code[i + 1]
    ]
    return substituted, swapped


def detection(codes: list[str], alphabet: str, accepts: Callable[[str], bool]) -> tuple[float, float]:
    """Return the fractions of substitutions and transpositions that ``accepts`` rejects."""
    caught, total = [0, 0], [0, 0]
    for code in codes:
        for kind, group in enumerate(mutants(code, alphabet)):
            caught[kind] += sum(not accepts(mutant) for mutant in group)
            total[kind] += len(group)
    return caught[0] / total[0], caught[1] / total[1]


def cell_metres(lon: float, lat: float, dlon: float, dlat: float) -> str:
    """Return 'width x height' in metres of a cell with its south-west corner at a point."""
    width = GEOD.inv(lon, lat, lon + dlon, lat)[2]
    height = GEOD.inv(lon, lat, lon, lat + dlat)[2]
    return f"{width:.2f} x {height:.2f}"


def olc_accepts(text: str) -> bool:
    """Tell whether a '+'-less 11-digit OLC still decodes as a full code."""
    code = text[:8] + "+" + text[8:]
    if not olc.isFull(code):
        return False
    try:
        olc.decode(code)
    except ValueError:
        return False
    return True


def digipin_accepts(text: str) -> bool:
    """Tell whether a 10-character DIGIPIN still decodes."""
    try:
        digipin.decode(text)
    except ValueError:
        return False
    return True


def diachiso_rows(sizes: Sizes) -> tuple[Row, Row]:
    """Measure diachiso's vector and scalar encoders."""
    lon, lat = points(TERRITORY_BOX, sizes.points, seed=1)
    vector = rate(lambda: encode_array(lon, lat), sizes.points, sizes.repeat)
    few = max(sizes.points // 25, sizes.sample)
    few_lon, few_lat = lon[:few].tolist(), lat[:few].tolist()
    scalar = rate(
        lambda: [encode(x, y) for x, y in zip(few_lon, few_lat, strict=True)], len(few_lon), sizes.repeat
    )
    cut = sizes.sample
    sample = [encode(x, y) for x, y in zip(few_lon[:cut], few_lat[:cut], strict=True)]
    caught = detection(sample, ALPHABET, is_valid_location_code)
    size = diachiso_cell_m()
    return (
        Row("diachiso encode_array", vector, 9, size, *caught),
        Row("diachiso encode (scalar)", scalar, 9, size, *caught),
    )


def diachiso_cell_m() -> str:
    """Return the widest (southernmost) and tallest (northernmost) cell size in metres."""
    south = decode(encode(TERRITORY.west, TERRITORY.south))
    north = decode(encode(TERRITORY.west, float(np.nextafter(TERRITORY.north, 0))))
    width = GEOD.inv(south.west, south.south, south.east, south.south)[2]
    height = GEOD.inv(north.west, north.south, north.west, north.north)[2]
    return f"{width:.2f} x {height:.2f}"


def olc_row(sizes: Sizes) -> Row:
    """Measure openlocationcode on points in Vietnam's box."""
    count, cut = max(sizes.peer_points, sizes.sample), sizes.sample
    lon, lat = (array.tolist() for array in points(TERRITORY_BOX, count, seed=2))
    speed = rate(
        lambda: [olc.encode(y, x, OLC_LENGTH) for x, y in zip(lon, lat, strict=True)], count, sizes.repeat
    )
    sample = [
        olc.encode(y, x, OLC_LENGTH).replace("+", "") for x, y in zip(lon[:cut], lat[:cut], strict=True)
    ]
    caught = detection(sample, OLC_ALPHABET, olc_accepts)
    size = cell_metres(TERRITORY.west, 0.0, 0.000125 / 4, 0.000125 / 5)
    return Row("openlocationcode encode (len 11)", speed, OLC_LENGTH, size, *caught)


def digipin_row(sizes: Sizes) -> Row:
    """Measure digipin on points in India's box (it covers nothing else)."""
    count, cut = max(sizes.peer_points, sizes.sample), sizes.sample
    lon, lat = (array.tolist() for array in points(INDIA, count, seed=3))
    speed = rate(lambda: [digipin.encode(y, x) for x, y in zip(lon, lat, strict=True)], count, sizes.repeat)
    sample = [digipin.encode(y, x).replace(" ", "") for x, y in zip(lon[:cut], lat[:cut], strict=True)]
    caught = detection(sample, DIGIPIN_ALPHABET, digipin_accepts)
    step = 36.0 / 4**10
    size = cell_metres(INDIA[0], INDIA[1], step, step)
    return Row("digipin encode", speed, 10, size, *caught)


def table(rows: list[Row]) -> str:
    """Format rows as a markdown table, ratios against the first two (diachiso) rows."""
    lines = [
        "| encoder | points/s | vs diachiso encode_array | vs diachiso scalar | chars at ~3 m "
        "| worst cell (m) | substitutions detected | adjacent transpositions detected |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for row in rows:
        vector, scalar = row.per_second / rows[0].per_second, row.per_second / rows[1].per_second
        lines.append(
            f"| {row.name} | {row.per_second:,.0f} | {vector:.4f}x | {scalar:.2f}x "
            f"| {row.characters} | {row.cell_m} | {row.substitutions:.1%} "
            f"| {row.transpositions:.1%} |"
        )
    return "\n".join(lines)


def arguments() -> Sizes:
    """The sizes asked for on the command line."""
    defaults = Sizes()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=defaults.points, help="points for encode_array")
    parser.add_argument("--peer-points", type=int, default=defaults.peer_points, help="points per peer")
    parser.add_argument(
        "--sample", type=int, default=defaults.sample, help="codes whose mistypings are tried"
    )
    parser.add_argument("--repeat", type=int, default=defaults.repeat, help="timed passes, the fastest kept")
    args = parser.parse_args()
    return Sizes(args.points, args.peer_points, args.sample, args.repeat)


def main() -> None:
    """Run every measurement and print the table."""
    sizes = arguments()
    rows = [*diachiso_rows(sizes), olc_row(sizes), digipin_row(sizes)]
    print(table(rows))


if __name__ == "__main__":
    main()
