"""The fast mapping, text normalisation, raw JSON and geometry checks give the old results exactly.

Each old implementation is kept here as the oracle; hypothesis draws frames with mixed types,
gaps (None, NaN), Vietnamese text with combining marks, quotes, backslashes and control characters.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from addresses.datasets import DATASETS, DatasetSpec, get_dataset
from addresses.text import canonical_text
from importers.mapping import FieldMapping, _category, _first_non_empty, apply_mapping, clean_text
from importers.rawjson import raw_json
from importers.validate import (
    canonical_value,
    duplicate_warnings,
    geometry_rejections,
    normalise_text,
)

TRICKY = [
    "Hoà",
    "Hòa",
    "Hoa\u0300",
    "Thuỷ",
    "Quý",
    "  khoẻ ",
    "",
    " ",
    "\t",
    "a\nb",
    'say "hi"',
    "C:\\x",
    "1/2",
]
TEXT = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
    st.text(st.sampled_from('aoeuyAOUY \u0300\u0301\u0309\u0303\u0323qQđĐ\t\n"\\'), max_size=6),
)
GAP = st.sampled_from([None, math.nan])
CELL = st.one_of(
    TEXT,
    GAP,
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.booleans(),
    st.just(-0.0),
    st.sampled_from([pd.Timestamp("2024-02-29 13:45:01.5"), pd.Timestamp("1999-01-01")]),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def old_clean_text(values: pd.Series) -> pd.Series:
    text = values.astype(object).where(values.notna(), None)
    return text.map(lambda v: None if v is None else (str(v).strip() or None))


def old_first_non_empty(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    result = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for column in columns:
        result = result.where(result.notna(), old_clean_text(frame[column]))
    return result


def old_category(frame: pd.DataFrame, columns: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    category = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    kind = category.copy()
    for column in columns:
        value = old_clean_text(frame[column])
        take = category.isna() & value.notna()
        category[take] = column
        kind[take] = value[take]
    return category, kind


def old_normalise_text(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({name: rows[name].map(canonical_value) for name in rows.columns}, index=rows.index)


def old_raw_json(fields: pd.DataFrame) -> pd.Series:
    if fields.empty:
        return pd.Series([], index=fields.index, dtype=object)
    text = fields.to_json(
        orient="records", lines=True, force_ascii=False, date_format="iso", default_handler=str
    )
    return pd.Series(text.rstrip("\n").split("\n"), index=fields.index, dtype=object)


def assert_same_cells(new: pd.Series, old: pd.Series) -> None:
    """Same dtype, index and values, with None and NaN told apart."""
    pd.testing.assert_series_equal(new, old)
    assert [type(v) for v in new.to_numpy(dtype=object)] == [type(v) for v in old.to_numpy(dtype=object)]


def assert_same_mapped(new: pd.Series, old: pd.Series) -> None:
    """As :func:`assert_same_cells`; but text mapped from Arrow text stays Arrow text (``str``, NaN gaps).

    Arrow text (a GeoParquet file, text dtype columns) is mapped without a Python string
    per cell: the same cells as the old objects once in text dtype, as the text checks then store them.
    """
    if isinstance(new.dtype, pd.StringDtype) and old.dtype == object:
        old = old.astype("str")
    assert_same_cells(new, old)


def as_column(cells: list[Any], dtype: str) -> pd.Series:
    """Cells as an object column, or as text dtype when asked and they are all text or gaps."""
    if dtype == "str" and all(
        c is None or isinstance(c, str) or (isinstance(c, float) and math.isnan(c)) for c in cells
    ):
        return pd.Series(cells, dtype="str", index=np.arange(len(cells)) * 3)
    return pd.Series(cells, dtype=object, index=np.arange(len(cells)) * 3)


COLUMN = st.builds(
    as_column,
    st.one_of(st.lists(st.one_of(TEXT, GAP), max_size=12), st.lists(CELL, max_size=12)),
    st.sampled_from(["object", "str"]),
)


@SETTINGS
@given(COLUMN)
def test_clean_text_matches_the_per_cell_map(values: pd.Series) -> None:
    assert_same_cells(clean_text(values), old_clean_text(values))


@SETTINGS
@given(st.lists(COLUMN, min_size=0, max_size=3), st.integers(0, 12))
def test_first_non_empty_and_category_match(columns: list[pd.Series], length: int) -> None:
    frame = pd.DataFrame(index=np.arange(length) * 3)
    for position, column in enumerate(columns):
        frame[f"c{position}"] = column.reindex(frame.index) if len(column) >= length else None
    names = tuple(frame.columns)
    assert_same_mapped(_first_non_empty(frame, names), old_first_non_empty(frame, names))
    for new, old in zip(_category(frame, names), old_category(frame, names), strict=True):
        assert_same_cells(new, old)


def test_apply_mapping_keeps_types_gaps_and_constants() -> None:
    frame = pd.DataFrame(
        {
            "id": pd.Series([" a1", "a2 ", None, "a4"], dtype="str"),
            "so_nha": [12, 7, 3, 0],
            "duong": [" Hoà Bình ", "", math.nan, "Cù Chính Lan"],
            "thon": [None, None, None, None],
        }
    )
    mapping = FieldMapping(
        "addresses",
        {"source_id": ("id",), "house_number": ("so_nha",), "street": ("duong", "thon"), "alley": ("thon",)},
        {"status": "active"},
    )
    rows = apply_mapping(frame, mapping, "x.csv")
    assert rows["source_id"].tolist()[:2] == ["a1", "a2"]
    assert pd.isna(rows["source_id"][2])
    assert rows["house_number"].tolist() == ["12", "7", "3", "0"]
    assert rows["street"].tolist()[0] == " Hoà Bình ".strip()
    assert rows["alley"].tolist() == [None] * 4
    old = {name: old_first_non_empty(frame, mapping.columns.get(name, ())) for name in rows.columns}
    for name in ("source_id", "house_number", "street", "alley", "village_name"):
        assert_same_mapped(rows[name], old[name].rename(name))
    assert rows["status"].tolist() == ["active"] * 4


@SETTINGS
@given(st.lists(COLUMN, min_size=1, max_size=3))
def test_normalise_text_matches_the_per_cell_map(columns: list[pd.Series]) -> None:
    length = min(len(c) for c in columns)
    rows = pd.DataFrame({f"c{i}": c.iloc[:length] for i, c in enumerate(columns)})
    new, old = normalise_text(rows), old_normalise_text(rows)
    pd.testing.assert_frame_equal(new, old)
    for name in rows.columns:
        assert_same_cells(new[name], old[name])


def test_normalise_text_canonicalises_non_ascii_and_keeps_gaps() -> None:
    rows = pd.DataFrame(
        {
            "name": pd.Series(["Hoà Bình", "Hoa\u0300", None, "Hoà Bình", "Quý"], dtype=object),
            "gaps": [None] * 5,
            "nan": pd.Series(["x", math.nan, "Thuỷ", "y", "z"], dtype=object),
        }
    )
    new = normalise_text(rows)
    assert new["name"].tolist()[:2] == ["Hòa Bình", "Hòa"]
    assert new["name"][4] == "Quý"
    assert new["gaps"].tolist() == [None] * 5
    assert new["nan"][2] == "Thủy"
    assert new["name"][1] == canonical_text("Hoa\u0300")
    pd.testing.assert_frame_equal(new, old_normalise_text(rows))


FRAME_COLUMN = st.one_of(
    st.lists(st.one_of(TEXT, GAP), min_size=6, max_size=6).map(lambda c: pd.Series(c, dtype="str")),
    st.lists(st.one_of(TEXT, GAP), min_size=6, max_size=6).map(lambda c: pd.Series(c, dtype=object)),
    st.lists(CELL, min_size=6, max_size=6).map(lambda c: pd.Series(c, dtype=object)),
    st.lists(st.floats(width=64), min_size=6, max_size=6).map(lambda c: pd.Series(c, dtype="float64")),
    st.lists(st.integers(-(2**62), 2**62), min_size=6, max_size=6).map(lambda c: pd.Series(c, dtype="int64")),
    st.lists(st.booleans(), min_size=6, max_size=6).map(lambda c: pd.Series(c, dtype=bool)),
    st.lists(st.sampled_from([pd.Timestamp("2025-07-01 08:30:00.25"), pd.NaT]), min_size=6, max_size=6).map(
        lambda c: pd.Series(c, dtype="datetime64[ns]")
    ),
)


@SETTINGS
@given(st.lists(FRAME_COLUMN, min_size=1, max_size=5), st.lists(TEXT, min_size=5, max_size=5, unique=True))
def test_raw_json_rows_decode_to_the_pandas_objects(columns: list[pd.Series], names: list[str]) -> None:
    frame = pd.DataFrame(
        {name: column.to_numpy() for name, column in zip(names, columns, strict=False)}, index=range(10, 16)
    )
    frame = frame.astype({name: column.dtype for name, column in zip(names, columns, strict=False)})
    new, old = raw_json(frame, small=0), old_raw_json(frame)
    assert new.index.equals(old.index)
    assert new.dtype == object
    for new_text, old_text in zip(new, old, strict=True):
        assert "\n" not in new_text
        assert json.loads(new_text, object_pairs_hook=list) == json.loads(old_text, object_pairs_hook=list)


def test_raw_json_of_generated_like_rows() -> None:
    frame = pd.DataFrame(
        {
            "id": [f"gen-{i}" for i in range(500)],
            "street": pd.Series(["Trần Hưng Đạo", "", None, 'Ngõ "5"\n\\'] * 125, dtype="str"),
            "generated": True,
            "area": np.linspace(-1, 1, 500),
            "when": pd.Timestamp("2025-07-01"),
        }
    )
    new, old = raw_json(frame, small=0), old_raw_json(frame)
    assert [json.loads(t) for t in new] == [json.loads(t) for t in old]
    assert json.loads(new[3]) == {
        "id": "gen-3",
        "street": 'Ngõ "5"\n\\',
        "generated": True,
        "area": round(-1 + 6 / 499, 10),
        "when": "2025-07-01T00:00:00.000",
    }
    assert raw_json(frame.iloc[:0], small=0).empty
    assert raw_json(frame).tolist() == old.tolist()


GEOMETRY = st.one_of(
    st.none(),
    st.sampled_from([-0.0, 0.0, 1.5]).flatmap(
        lambda x: st.sampled_from([shapely.Point(x, 2.0), shapely.Point(x, 2.5)])
    ),
    st.sampled_from(
        [
            shapely.Point(),
            shapely.Point(1, 2, 3),
            shapely.LineString([(0, 0), (1, 1)]),
            shapely.box(0, 0, 1, 1),
            shapely.MultiPolygon([shapely.box(0, 0, 1, 1)]),
            shapely.GeometryCollection(),
        ]
    ),
)


def old_duplicate_warnings(
    rows: pd.DataFrame, geoms: NDArray[np.object_], features: NDArray[np.int64]
) -> list[str]:
    label = rows.get("name", rows.get("house_number"))
    if label is None:
        return []
    wkb = pd.Series(shapely.to_wkb(geoms), index=rows.index)
    key = pd.DataFrame({"label": label, "wkb": wkb})
    dup = key.duplicated(keep="first").to_numpy() & key["wkb"].notna().to_numpy()
    return [f"row {int(f)} repeats the name and geometry of an earlier row" for f in features[dup]]


def old_geometry_rejections(
    geoms: NDArray[np.object_], features: NDArray[np.int64], spec: DatasetSpec
) -> list[str]:
    found: list[str] = []
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if spec.geometry_required:
        found += [f"row {int(f)}, field 'geometry': no geometry" for f in features[missing]]
    types = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    allowed = spec.source_geometry_types
    wrong = ~missing & ~np.isin(types, list(allowed))
    return found + [
        f"row {int(f)}, field 'geometry': {t} is not allowed here (expected {'/'.join(sorted(allowed))})"
        for f, t in zip(features[wrong], types[wrong], strict=True)
    ]


@SETTINGS
@given(
    st.lists(st.tuples(st.sampled_from(["1", "2", None]), GEOMETRY), min_size=0, max_size=12),
    st.sampled_from(list(DATASETS.values())),
)
def test_geometry_checks_match_the_loops(cells: list[tuple[str | None, Any]], dataset: DatasetSpec) -> None:
    geoms = np.array([g for _, g in cells], dtype=object)
    rows = pd.DataFrame(
        {"name": [label for label, _ in cells]}, dtype=object, index=np.arange(len(cells)) + 7
    )
    features = np.arange(len(cells), dtype=np.int64) + 1
    new = duplicate_warnings(rows, geoms, features)
    assert new == old_duplicate_warnings(rows, geoms, features)
    assert [str(r) for r in geometry_rejections(geoms, features, dataset)] == old_geometry_rejections(
        geoms, features, dataset
    )


def test_duplicate_points_are_found_by_coordinates() -> None:
    geoms = np.array(
        [shapely.Point(1, 2), shapely.Point(1, 2), None, None, shapely.Point(-0.0, 2)], dtype=object
    )
    geoms = np.append(geoms, shapely.Point(0.0, 2))
    rows = pd.DataFrame({"house_number": ["5", "5", "5", "5", "5", "5"]})
    features = np.arange(1, 7, dtype=np.int64)
    assert duplicate_warnings(rows, geoms, features) == [
        "row 2 repeats the name and geometry of an earlier row"
    ]
    line = np.array([shapely.LineString([(0, 0), (1, 1)])])
    assert (
        geometry_rejections(line, features[:1], get_dataset("addresses"))[0].reason
        == "LineString is not allowed here (expected Point)"
    )
