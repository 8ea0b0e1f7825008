"""House-level geocoding on generated addresses: the written address lands on its house, alleys included."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
from sqlalchemy import Connection

from geocoder.index import GeocoderIndex
from geocoder.search import search
from importers import synth

GENERATED = 4_000
SEED = 13
ON_THE_HOUSE_M = 1.0


def _unique_houses(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Addresses whose (ward, street, alley, house number) no other generated address shares."""
    key = ["commune_code", "street", "alley", "house_number"]
    folded = frame[key].fillna("").apply(lambda column: column.str.casefold())
    return frame[~folded.duplicated(keep=False)]


def _metres(lon: float, lat: float, house: tuple[float, float]) -> float:
    dx = (lon - house[0]) * np.cos(np.radians(lat))
    return float(np.hypot(dx, lat - house[1]) * 111_320)


def _misses(index: GeocoderIndex, frame: gpd.GeoDataFrame, texts: list[str]) -> list[str]:
    """The texts whose best answer is not the house of the same row (with what it gave)."""
    misses = []
    for text, number, point in zip(texts, frame["house_number"], frame.geometry, strict=True):
        found = search(index, text, limit=1)
        top = found[0] if found else None
        if (
            top is None
            or str(top.house_number).casefold() != number.casefold()
            or _metres(top.lon, top.lat, (point.x, point.y)) > ON_THE_HOUSE_M
        ):
            misses.append(f"{text!r} -> {top.label if top else None}")
    return misses


def test_street_houses_in_the_issue_form_land_on_the_house(conn: Connection, data_dir: Path) -> None:
    """Every house on đường Cù Chính Lan (not in an alley), asked as the issue writes it.

    ("số 12 đường Cù Chính Lan, phường Hòa Bình")
    """
    generated = synth.generate(data_dir, GENERATED, seed=SEED)
    synth.load(conn, generated, name="house-level")
    index = GeocoderIndex.load(conn, check_every_s=1e9)
    unique = _unique_houses(generated)
    street = unique[(unique["street"] == "Cù Chính Lan") & unique["alley"].isna()]
    assert len(street) >= 10  # the ward's share of 4,000 points puts dozens on this street
    texts = [f"số {number} đường Cù Chính Lan, phường Hòa Bình" for number in street["house_number"]]
    assert _misses(index, street, texts) == []


def test_alley_houses_land_on_the_house_not_on_the_street_namesake(conn: Connection, data_dir: Path) -> None:
    """Houses in a ngõ or a ngách, asked by their full written address, are not taken for the street's."""
    generated = synth.generate(data_dir, GENERATED, seed=SEED)
    synth.load(conn, generated, name="house-level")
    index = GeocoderIndex.load(conn, check_every_s=1e9)
    unique = _unique_houses(generated)
    in_alleys = unique[unique["alley"].notna()]
    kinds = set(in_alleys["alley"].str.split().str[0])
    assert kinds == {"ngõ", "ngách"}
    sample = in_alleys.sample(n=min(300, len(in_alleys)), random_state=SEED)
    assert _misses(index, sample, sample["address"].tolist()) == []
