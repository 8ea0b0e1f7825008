"""Generated streets, alleys (ngõ) and side alleys (ngách) around an urban ward's centre.

No road data of Hoa Binh is redistributable, so the lines are generated: straight
streets through the centre of the ward (or of the former town in it), cut to the
ward's polygon; alleys leave a street at right angles and are numbered after the
house where they start ("ngõ 34"), their side alleys after the alley ("ngách 34/2").
Houses stand a few metres back from the line, odd numbers on one side and even on the
other, the number growing with the distance from the street's start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from importers.synth_data import Ward

Inside = Callable[[Ward, NDArray[np.float64], NDArray[np.float64]], NDArray[np.bool_]]
"""Which metric points (xs, ys) lie inside a ward."""

PEOPLE_PER_STREET: Final = 4_000
MIN_STREET_M: Final = 200.0
STREET_FRONTAGE_M: Final = 8.0
"""Metres of street front per house: the numbers on a 2 km street reach about 250 on each side."""
SEGMENT_COLUMNS: Final = ("x0", "y0", "ux", "uy", "length", "weight", "street", "source", "alley", "frontage")


def _number(
    distance: NDArray[np.float64], side: NDArray[np.int64], frontage: NDArray[np.float64]
) -> NDArray[np.int64]:
    """House numbers by distance along a line: odd on the left (side 1), even on the right.

    >>> _number(np.array([0.0, 0.0, 12.0]), np.array([1, -1, 1]), np.array([5.0, 5.0, 5.0])).tolist()
    [1, 2, 5]
    """
    slot = np.floor(distance / frontage).astype(np.int64)
    result: NDArray[np.int64] = 2 * slot + np.where(side > 0, 1, 2)
    return result


def street_names(ward: Ward) -> list[tuple[str, str]]:
    """The ward's streets: its real names (source "osm"), then generated ones up to its size.

    Returns (name, source) pairs; generated names are "Đường số N".
    """
    wanted = int(np.clip(round(ward.population / PEOPLE_PER_STREET), 3, 10))
    names = [(name, "osm") for name in ward.streets]
    names += [(f"Đường số {k}", "generated") for k in range(1, max(0, wanted - len(names)) + 1)]
    return names


def _street_line(ward: Ward, rng: np.random.Generator) -> shapely.LineString | None:
    """One straight street near the centre, cut to the ward (its longest piece), or None."""
    angle = rng.uniform(0.0, np.pi)
    direction = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    middle = np.array(ward.centre) + normal * rng.normal(0.0, 300.0) + direction * rng.normal(0.0, 200.0)
    half = rng.uniform(600.0, 1800.0)
    line = shapely.LineString([middle - direction * half, middle + direction * half])
    pieces = shapely.get_parts(shapely.intersection(line, ward.metric))
    pieces = pieces[shapely.get_type_id(pieces) == shapely.GeometryType.LINESTRING]
    if not len(pieces):
        return None
    longest = pieces[int(np.argmax(shapely.length(pieces)))]
    return longest if longest.length >= MIN_STREET_M else None


def lay_streets(ward: Ward, rng: np.random.Generator) -> pd.DataFrame:
    """The segments of the ward's streets, alleys and side alleys (one row each)."""
    rows: list[dict[str, object]] = []
    for name, source in street_names(ward):
        line = next((ln for ln in (_street_line(ward, rng) for _ in range(8)) if ln is not None), None)
        if line is None:
            continue
        (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
        street = {"x0": x0, "y0": y0, "ux": (x1 - x0) / line.length, "uy": (y1 - y0) / line.length}
        rows.append(
            {
                **street,
                "length": line.length,
                "weight": 3.0,
                "street": name,
                "source": source,
                "alley": None,
                "frontage": STREET_FRONTAGE_M,
            }
        )
        rows += _alleys(street, line.length, name, source, rng)
    return pd.DataFrame(rows, columns=list(SEGMENT_COLUMNS))


def _alleys(
    street: dict[str, float], length: float, name: str, source: str, rng: np.random.Generator
) -> list[dict[str, object]]:
    """Alleys leaving a street at right angles, every 80 m or so, each with up to two side alleys."""
    count = max(1, int(length / 80.0))
    starts = np.sort(rng.uniform(0.0, length, count))
    sides = rng.choice(np.array([-1, 1]), count)
    numbers = _number(starts, sides, np.full(count, STREET_FRONTAGE_M))
    first = np.sort(np.unique(numbers, return_index=True)[1])  # one alley per number
    starts, sides, numbers = starts[first], sides[first], numbers[first]
    rows: list[dict[str, object]] = []
    for start, side, number in zip(starts, sides, numbers, strict=True):
        ux, uy = -street["uy"] * side, street["ux"] * side
        x0 = street["x0"] + street["ux"] * start + ux * 4.0
        y0 = street["y0"] + street["uy"] * start + uy * 4.0
        alley_length = rng.uniform(60.0, 180.0)
        base = {"street": name, "source": source, "frontage": 4.0}
        rows.append(
            {
                **base,
                "x0": x0,
                "y0": y0,
                "ux": ux,
                "uy": uy,
                "length": alley_length,
                "weight": 1.5,
                "alley": f"ngõ {number}",
            }
        )
        for k in range(1, int(rng.integers(0, 3)) + 1):
            along, turn = rng.uniform(10.0, alley_length), rng.choice(np.array([-1, 1]))
            rows.append(
                {
                    **base,
                    "x0": x0 + ux * along,
                    "y0": y0 + uy * along,
                    "ux": -uy * turn,
                    "uy": ux * turn,
                    "length": rng.uniform(30.0, 80.0),
                    "weight": 1.0,
                    "alley": f"ngách {number}/{k}",
                }
            )
    return rows


def _draw(segments: pd.DataFrame, size: int, rng: np.random.Generator) -> pd.DataFrame:
    """``size`` houses along the segments, denser along streets than in alleys."""
    weights = (segments["length"] * segments["weight"]).to_numpy()
    pick = rng.choice(len(segments), size=size, p=weights / weights.sum())
    chosen = segments.iloc[pick].reset_index(drop=True)
    along = rng.uniform(0.0, chosen["length"].to_numpy())
    side = rng.choice(np.array([-1, 1]), size)
    back = rng.uniform(6.0, 15.0, size) * side
    ux, uy = chosen["ux"].to_numpy(), chosen["uy"].to_numpy()
    return pd.DataFrame(
        {
            "x": chosen["x0"].to_numpy() + ux * along - uy * back,
            "y": chosen["y0"].to_numpy() + uy * along + ux * back,
            "segment": pick,
            "number": _number(along, side, chosen["frontage"].to_numpy()),
        }
    )


def _suffixed(segment: NDArray[np.intp], number: NDArray[np.int64]) -> NDArray[np.object_]:
    """House numbers made unique on their segment: the second "12" is "12A", the third "12B".

    >>> _suffixed(np.array([0, 0, 0, 1]), np.array([12, 12, 12, 12])).tolist()
    ['12', '12A', '12B', '12']
    """
    repeat = pd.DataFrame({"s": segment, "n": number}).groupby(["s", "n"]).cumcount().to_numpy()
    letters = np.array(["", *[chr(ord("A") + i) for i in range(26)]], dtype=object)
    suffix = np.where(
        repeat <= 26, letters[np.minimum(repeat, 26)], np.char.add("-", repeat.astype(str)).astype(object)
    )
    result: NDArray[np.object_] = number.astype(str).astype(object) + suffix
    return result


def street_addresses(
    ward: Ward, count: int, rng: np.random.Generator, *, inside: Inside
) -> pd.DataFrame | None:
    """``count`` houses on the ward's streets and alleys (None when no street fits in the ward)."""
    segments = lay_streets(ward, rng)
    if segments.empty:
        return None
    found: list[pd.DataFrame] = []
    total = 0
    while total < count:
        houses = _draw(segments, (count - total) * 2 + 16, rng)
        houses = houses[inside(ward, houses["x"].to_numpy(), houses["y"].to_numpy())]
        found.append(houses)
        total += len(houses)
    houses = pd.concat(found, ignore_index=True).iloc[:count]
    placed = segments.iloc[houses["segment"].to_numpy()]
    return pd.DataFrame(
        {
            "x": houses["x"].to_numpy(),
            "y": houses["y"].to_numpy(),
            "house_number": _suffixed(houses["segment"].to_numpy(), houses["number"].to_numpy()),
            "alley": placed["alley"].to_numpy(),
            "street": placed["street"].to_numpy(),
            "village": None,
            "street_name_source": placed["source"].to_numpy(),
            "village_name_source": None,
        }
    )
