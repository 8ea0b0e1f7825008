"""The bundled Hoa Binh data set: built-in mappings and the order to import it in.

Each file is one transaction. The 2008-2021 changes (reorg_2020.json) come first as
start dates of the GSO list's units that kept a changed code, then as old units, then
as lineage after the 2025 links. Where sources overlap, the authoritative one is
imported normally (the GSO list for pre-2025 names and codes, the national map for
2025 units) and the others only fill what is still empty: the government district
polygons, then Who's On First's (which alone has Kỳ Sơn), the commune points, the
2025 population. Re-running the whole set therefore changes nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Engine

from addresses.types import LineageRow
from importers.mapping import FieldMapping
from importers.pipeline import ImportOptions, ImportReport, file_sha256, import_source
from importers.readers import FEATURE, SourceFrame, read_source
from importers.reorg2020 import REORG_2020_FILE, read_reorg_2020, unit_starts, write_links
from importers.units import (
    REORGANISATION_2025,
    LineageSource,
    end_units,
    read_lineage,
    split_names,
    start_units,
    write_lineage,
)

#: Kỳ Sơn district was merged into Hòa Bình city by Resolution 830/NQ-UBTVQH14, effective 2020-01-01.
KY_SON_MERGED = "2020-01-01"
ABOLISHED = REORGANISATION_2025.isoformat()

UNIT_FIELDS = (
    "code",
    "level",
    "unit_type",
    "short_name",
    "full_name",
    "parent_code",
    "valid_from",
    "valid_to",
)


def identity(fields: tuple[str, ...], **extra: str) -> FieldMapping:
    """A units mapping that reads the converter's own column names."""
    columns = {name: (name,) for name in fields if name != "short_name"}
    columns["name"] = ("short_name",)
    return FieldMapping("units", {**columns, **{k: (v,) for k, v in extra.items()}})


def _frame(rows: list[dict[str, object]], file_name: str, geometry: object = None) -> SourceFrame:
    """A SourceFrame from plain rows (JSON sources), numbered from 1."""
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geometry or [None] * len(rows), crs="EPSG:4326")
    frame[FEATURE] = np.arange(1, len(frame) + 1)
    return SourceFrame(frame=frame, declared_crs="EPSG:4326", file_name=file_name)


def _starts(path: Path) -> dict[str, str]:
    """First days of the communes that kept a code through a 2008-2021 change (reorg_2020.json beside)."""
    return {code: day.isoformat() for code, day in unit_starts(path.parent / REORG_2020_FILE).items()}


def gso_units(path: Path) -> SourceFrame:
    """The official GSO list (province, districts, communes) as unit rows without geometry.

    A commune whose code was kept through a 2008-2021 change starts on that change's day.
    """
    spec = json.loads(path.read_text(encoding="utf-8"))
    starts = _starts(path)
    rows: list[dict[str, object]] = [_gso_row(spec, 1, None)]
    for district in spec["level2s"]:
        rows.append(_gso_row(district, 2, spec["level1_id"]))
        rows += [
            _gso_row(c, 3, district["level2_id"], start=starts.get(c["level3_id"]))
            for c in district["level3s"]
        ]
    return _frame(rows, path.name)


def _gso_row(
    unit: dict[str, Any], level: int, parent: str | None, *, start: str | None = None
) -> dict[str, object]:
    """One GSO unit (its record in the GSO list: ``level<N>_id``, type, name), valid until 2025."""
    code, unit_type, full_name = unit[f"level{level}_id"], unit["type"], unit["name"]
    short = (
        full_name[len(unit_type) :].strip() if full_name.lower().startswith(unit_type.lower()) else full_name
    )
    return {
        "code": code,
        "level": str(level),
        "unit_type": unit_type.lower(),
        "short_name": short,
        "full_name": full_name,
        "parent_code": parent,
        "valid_from": start,
        "valid_to": ABOLISHED,
    }


def communes_points(path: Path) -> SourceFrame:
    """The 151 pre-2025 communes as approximate center points (starting as in the GSO list)."""
    source = read_source(path)
    starts = _starts(path)
    frame = source.frame.assign(
        level="3",
        valid_to=ABOLISHED,
        unit_type=source.frame["wardType"].str.lower(),
        valid_from=source.frame["wardCode"].map(starts.get),
    )
    return replace(source, frame=frame)


def reorg_2020_units(path: Path) -> SourceFrame:
    """Kỳ Sơn district and the communes abolished, renamed or moved in 2008-2021 (one row per period).

    None has geometry: the district keeps Who's On First's polygon, the communes have none.
    """
    return _frame(read_reorg_2020(path).rows(), path.name)


def districts_gov(path: Path) -> SourceFrame:
    """Government province + district polygons (Kỳ Sơn missing)."""
    source = read_source(path)
    frame = split_names(source.frame, "name").assign(
        level=source.frame["level"].astype(str), valid_to=ABOLISHED
    )
    return replace(source, frame=frame)


def districts_wof(path: Path) -> SourceFrame:
    """Who's On First polygons: province, and districts with codes from their Mesoshapes ids."""
    source = read_source(path)
    frame = source.frame
    meso = frame["wof:concordances"].map(
        lambda c: (c or {}).get("meso:local_id") if isinstance(c, dict) else None
    )
    is_province = frame["wof:placetype"] == "region"
    code = meso.str[2:].where(~is_province, "17")
    names = frame["name:vie_x_preferred"].map(lambda v: v[0] if isinstance(v, list) and v else None)
    out = frame.assign(
        code=code,
        level=np.where(is_province, "1", "2"),
        short_name=names.fillna(frame["wof:name"]),
        unit_type=is_province.map({True: "tỉnh", False: None}),
        parent_code=is_province.map({True: None, False: "17"}),
        valid_to=np.where(code == "151", KY_SON_MERGED, ABOLISHED),
    )
    out["unit_type"] = out["unit_type"].where(out["unit_type"].notna(), _district_type(out["code"]))
    return replace(source, frame=out)


def _district_type(codes: pd.Series) -> pd.Series:
    """District-level type: Hòa Bình city (148) is a thành phố, the others huyện."""
    return pd.Series(np.where(codes == "148", "thành phố", "huyện"), index=codes.index)


def wards_2025(path: Path) -> SourceFrame:
    """The 46 communes/wards from 1 July 2025, full-resolution polygons."""
    source = read_source(path)
    frame = split_names(source.frame, "fullName").assign(level="3", valid_from=ABOLISHED, parent_code="25")
    return replace(source, frame=frame)


def wards_population(path: Path) -> SourceFrame:
    """Population and area of the 2025 units (their simplified polygons are left out)."""
    source = read_source(path)
    frame = source.frame.assign(
        level="3",
        valid_from=ABOLISHED,
        parent_code="25",
        unit_type=source.frame["type"].str.lower(),
    )
    frame = frame.set_geometry(gpd.GeoSeries([None] * len(frame), crs=frame.crs))
    return replace(source, frame=frame)


def phu_tho(path: Path) -> SourceFrame:
    """The new province, Phú Thọ (25), from the reorganisation mapping's header."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    row = {
        "code": spec["level1_id"],
        "level": "1",
        "unit_type": "tỉnh",
        "short_name": spec["name"].removeprefix("Tỉnh ").strip(),
        "full_name": spec["name"],
        "parent_code": None,
        "valid_from": ABOLISHED,
        "valid_to": None,
    }
    return _frame([row], path.name)


@dataclass(frozen=True)
class BundledFile:
    """One bundled file: how to read it, how its fields map, whether it only fills gaps."""

    file_name: str
    read: Callable[[Path], SourceFrame]
    mapping: FieldMapping
    fill_only: bool = False


_DISTRICT_2020_FIELDS = ("code", "level", "unit_type", "short_name", "parent_code", "valid_to")
"""The fields both 2020 district files carry under the unit table's names."""

BUNDLED_UNITS: tuple[BundledFile, ...] = (
    BundledFile("admin_units_gso_20250301.json", gso_units, identity(UNIT_FIELDS)),
    BundledFile(
        "province_districts_2020_gov.geojson",
        districts_gov,
        identity(_DISTRICT_2020_FIELDS, full_name="name"),
        fill_only=True,
    ),
    BundledFile(
        "province_districts_2020_wof.geojson",
        districts_wof,
        identity(_DISTRICT_2020_FIELDS, source_id="wof:id"),
        fill_only=True,
    ),
    BundledFile(
        "communes_pre2025_points.geojson",
        communes_points,
        FieldMapping(
            "units",
            {
                "source_id": ("wardCode",),
                "code": ("wardCode",),
                "name": ("wardShort",),
                "full_name": ("ward",),
                "unit_type": ("unit_type",),
                "level": ("level",),
                "parent_code": ("districtCode",),
                "valid_from": ("valid_from",),
                "valid_to": ("valid_to",),
            },
        ),
        fill_only=True,
    ),
    BundledFile(REORG_2020_FILE, reorg_2020_units, identity(UNIT_FIELDS, source_id="source_id")),
    BundledFile("reorg_2025_new_from_old.json", phu_tho, identity(UNIT_FIELDS)),
    BundledFile(
        "wards_2025.geojson",
        wards_2025,
        FieldMapping(
            "units",
            {
                "source_id": ("code",),
                "code": ("code",),
                "name": ("short_name",),
                "full_name": ("fullName",),
                "unit_type": ("unit_type",),
                "level": ("level",),
                "parent_code": ("parent_code",),
                "valid_from": ("valid_from",),
                "name_en": ("nameEn",),
                "area_km2": ("areaKm2",),
            },
        ),
    ),
    BundledFile(
        "wards_2025_simplified_population.geojson",
        wards_population,
        FieldMapping(
            "units",
            {
                "source_id": ("gso_code",),
                "code": ("gso_code",),
                "name": ("name",),
                "unit_type": ("unit_type",),
                "level": ("level",),
                "parent_code": ("parent_code",),
                "valid_from": ("valid_from",),
                "population": ("population",),
                "area_km2": ("area",),
            },
        ),
        fill_only=True,
    ),
)

BUNDLED_FEATURES: tuple[BundledFile, ...] = (
    BundledFile(
        "villages_geonames_wof.geojson",
        read_source,
        FieldMapping("villages", {"source_id": ("wof_id",), "name": ("gn_name", "name")}),
    ),
    BundledFile(
        "pois_osm.geojson",
        read_source,
        FieldMapping(
            "places",
            {
                "source_id": ("osm_id",),
                "name": ("name", "name:vi", "name:en"),
                "house_number": ("addr:housenumber",),
                "street": ("addr:street",),
            },
            category_columns=("amenity", "tourism", "shop", "man_made"),
        ),
    ),
)

LINEAGE_FILE = "reorg_2025_new_from_old.json"

CHECKOUT_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "hoabinh"
"""The bundled files in a source checkout."""

INSTALLED_DATA_DIR = Path(sys.prefix) / "share" / "diachiso" / "hoabinh"
"""The same files installed from the wheel (pyproject's data-files)."""


def default_data_dir() -> Path:
    """Where the bundled files are: the checkout's data/hoabinh, else the installed copy."""
    return CHECKOUT_DATA_DIR if CHECKOUT_DATA_DIR.is_dir() else INSTALLED_DATA_DIR


def import_bundled(engine: Engine, data_dir: Path, *, dry_run: bool = False) -> Iterator[ImportReport | str]:
    """Import every bundled file, each in its own transaction; yield each report as it lands."""
    if not dry_run:
        yield date_kept_codes(engine, data_dir / REORG_2020_FILE)
    for bundled in (*BUNDLED_UNITS, *BUNDLED_FEATURES):
        path = data_dir / bundled.file_name
        options = ImportOptions(mapping=bundled.mapping, dry_run=dry_run, fill_only=bundled.fill_only)
        with engine.begin() as conn:
            yield import_source(
                conn,
                bundled.read(path),
                options=options,
                sha256=file_sha256(path),
                source=path.stem,
            )
    if not dry_run:
        yield import_reorganisation(engine, data_dir / LINEAGE_FILE)
        yield import_reorg_2020_lineage(engine, data_dir / REORG_2020_FILE)


def date_kept_codes(engine: Engine, path: Path) -> str:
    """Date units a database loaded before reorg_2020.json holds without their start or end.

    The communes that kept a code through a 2008-2021 change start on its day, a
    dissolved district ends on it; fresh databases get these dates from the files.
    """
    reorg = read_reorg_2020(path)
    with engine.begin() as conn:
        started = start_units(conn, reorg.starts, ends=REORGANISATION_2025)
        ended = end_units(conn, reorg.district_ends, level=2)
    return f"{path.name}: {started} commune start(s) and {ended} district end(s) dated"


def import_reorg_2020_lineage(engine: Engine, path: Path) -> str:
    """Load the 2008-2021 lineage: merged, split, renamed, moved communes, Kỳ Sơn, transfers out."""
    reorg = read_reorg_2020(path)
    with engine.begin() as conn:
        ended = end_units(conn, reorg.district_ends, level=2)
        written = write_links(conn, reorg.links, source=path.stem, file_name=path.name)
    return f"{path.name}: {len(reorg.links)} links read, {written} written, {ended} district end(s) dated"


def import_reorganisation(engine: Engine, path: Path) -> str:
    """Load the 1 July 2025 lineage: old communes -> new units, and province 17 -> 25."""
    rows = read_lineage(path)
    with engine.begin() as conn:
        origin = LineageSource(effective=REORGANISATION_2025, source=path.stem, file_name=path.name)
        communes = write_lineage(conn, rows, level=3, origin=origin)
        province = write_lineage(conn, [_province_row()], level=1, origin=origin)
    return f"{path.name}: {len(rows)} commune links read, {communes + province} written"


def _province_row() -> LineageRow[str]:
    """Hòa Bình (17) became part of Phú Thọ (25), whole."""
    return LineageRow("17", "25", "full")
