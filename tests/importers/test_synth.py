"""The address generator: inside the right ward, in proportion to population, deterministic, labelled."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from sqlalchemy import Connection, select

from addresses.codes import is_valid_registry_code
from addresses.schema import address, admin_unit
from importers import synth

LARGE = 50_000
MIN_EXPECTED = 200
"""The proportionality rule applies to wards expecting at least this many points (all 46 at 50,000)."""


@pytest.fixture(scope="module")
def generated() -> gpd.GeoDataFrame:
    return synth.generate(Path(__file__).resolve().parents[2] / "data" / "hoabinh", LARGE, seed=11, messy=0.2)


@pytest.fixture(scope="module")
def wards() -> gpd.GeoDataFrame:
    return gpd.read_file(Path(__file__).resolve().parents[2] / "data" / "hoabinh" / "wards_2025.geojson")


def test_every_point_lies_inside_the_ward_it_names(
    generated: gpd.GeoDataFrame, wards: gpd.GeoDataFrame
) -> None:
    polygons = dict(zip(wards["code"], wards.geometry, strict=True))
    assert set(generated["commune_code"]) == set(polygons)
    for code, group in generated.groupby("commune_code"):
        inside = shapely.contains_xy(
            polygons[str(code)], group.geometry.x.to_numpy(), group.geometry.y.to_numpy()
        )
        assert inside.all(), f"{(~inside).sum()} points outside ward {code}"


def test_counts_per_ward_follow_population_within_five_percent(
    generated: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, data_dir: Path
) -> None:
    """Rule: for every ward expecting at least 200 of 50,000 points, |found - expected| <= 5% of expected.

    Points are counted by where they lie (a spatial join), not by the code they carry.
    """
    people = gpd.read_file(data_dir / "wards_2025_simplified_population.geojson")
    expected = people.set_index("id")["population"] / people["population"].sum() * LARGE
    found = (
        gpd.sjoin(generated[["geometry"]], wards[["code", "geometry"]], predicate="within")
        .groupby("code")
        .size()
    )
    checked = expected[expected >= MIN_EXPECTED]
    assert len(checked) == 46
    for code, wanted in checked.items():
        assert abs(int(found.get(code, 0)) - wanted) <= 0.05 * wanted, (code, int(found.get(code, 0)), wanted)
    assert len(generated) == LARGE


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path: Path, data_dir: Path) -> None:
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"]
    for path, seed in zip(paths, (5, 5, 6), strict=True):
        synth.write(synth.generate(data_dir, 3_000, seed=seed, messy=0.3), path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_every_record_is_labelled_generated(generated: gpd.GeoDataFrame) -> None:
    assert (generated["source"] == "generated").all()
    assert generated["is_generated"].all()
    assert generated["generated"].all()
    assert generated["id"].is_unique


def test_the_messy_fraction_is_respected_and_the_clean_text_kept(generated: gpd.GeoDataFrame) -> None:
    messy = generated["messy"].to_numpy()
    assert messy.sum() == round(0.2 * LARGE)
    differs = (generated["address_written"] != generated["address"]).to_numpy()
    assert (differs == messy).all()
    assert generated["address"].str.endswith("tỉnh Phú Thọ").all()
    written = generated.loc[messy, "address_written"]
    assert written.str.isascii().mean() > 0.2  # no diacritics in a good share
    assert written.str.contains(r"\b(?:P\.|X\.|TT|SN|sn|QL)", regex=True).any()  # abbreviations


def test_urban_wards_have_real_streets_alleys_and_unique_numbers(generated: gpd.GeoDataFrame) -> None:
    hoa_binh = generated[generated["commune_code"] == "04795"]
    assert {"Cù Chính Lan", "Trần Hưng Đạo"} <= set(hoa_binh["street"].dropna())
    assert hoa_binh["alley"].str.startswith("ngõ ").any()
    assert hoa_binh["alley"].str.startswith("ngách ").any()
    assert set(generated["street_name_source"].dropna()) == {"osm", "generated"}
    on_streets = generated[generated["street"].notna()]
    keys = on_streets[["commune_code", "street", "alley", "house_number"]].astype(str)
    assert not keys.duplicated().any()
    rural = generated[generated["commune_code"] == "05212"]  # xã Pà Cò: villages only
    assert rural["street"].isna().all()
    assert rural["village"].notna().all()


def test_bad_options_are_refused(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="messy"):
        synth.generate(data_dir, 10, messy=1.5)
    with pytest.raises(ValueError, match="addresses"):
        synth.generate(data_dir, 0)


def test_a_generated_set_loads_through_the_importer_with_codes(conn: Connection, data_dir: Path) -> None:
    frame = synth.generate(data_dir, 2_000, seed=21, messy=0.1)
    report = synth.load(conn, frame, name="synth-21")
    assert report.inserted == 2_000
    rows = conn.execute(
        select(
            address.c.registry_code,
            address.c.is_generated,
            admin_unit.c.code,
            address.c.raw["generated"].as_boolean(),
        )
        .join(admin_unit, admin_unit.c.id == address.c.commune_id)
        .where(address.c.source == "generated", address.c.source_id.like("gen-21-%"))
        .order_by(address.c.source_id)
    ).all()
    assert len(rows) == 2_000
    assert all(is_valid_registry_code(str(r[0])) and r[1] is True and r[3] is True for r in rows)
    assert [r[2] for r in rows] == frame["commune_code"].tolist()  # the database puts each in its ward
    assert np.unique([r[0] for r in rows]).size == 2_000
