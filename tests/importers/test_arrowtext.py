"""The Arrow paths of the text checks give what the Python paths give, cell for cell and byte for byte."""

from __future__ import annotations

import random
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely

from addresses import bulk, codes, validation
from addresses.datasets import get_dataset
from importers import arrowtext, chunked, locate, rawjson
from importers import validate as checks
from importers.mapping import apply_mapping, default_mapping

HOSTILE = [
    "Xóm Mít",
    "Hoà Bình",
    "Thuỷ",
    "  spaced  ",
    "\u3000wide",
    "tail\u00a0",
    "",
    "   ",
    None,
    "a,b",
    'say "hi"',
    "back\\slash",
    "two\nlines",
    "cr\rlf",
    "tab\tin",
    "12\u202e34",
    "zero\u200bwidth",
    "soft\u00adhyphen",
    "bell\x07",
    "c1\x85",
    "nul\x00byte",
    "x" * 250,
    "Phố Cù Chính Lan",
    "ngõ 5/12",
]


def _frame(cells: list[str | None], *, rows: int) -> pd.DataFrame:
    """A frame of ``rows`` rows cycling through ``cells`` in a few text columns and a bool, as Arrow text."""
    picked = [cells[i % len(cells)] for i in range(rows)]
    shifted = [cells[(i * 7 + 3) % len(cells)] for i in range(rows)]
    return pd.DataFrame(
        {
            "id": pd.array([f"id-{i}" for i in range(rows)], dtype="str"),
            "house_number": pd.array(picked, dtype="str"),
            "street": pd.array(shifted, dtype="str"),
            "generated": np.arange(rows) % 3 == 0,
            "note": pd.array([None if i % 5 else 'ghi chú, "x"' for i in range(rows)], dtype="str"),
        }
    )


def _as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """The same cells in object columns (NaN gaps as a text dtype column gives them): the Python paths."""
    return frame.astype({c: object for c in frame.columns if frame[c].dtype == "str"})


def _cells(values: pd.Series) -> list[object]:
    """The cells with every gap as None (NaN and None are the same empty cell to COPY and the checks)."""
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in values.tolist()]


def test_python_whitespace_is_every_character_str_strip_removes() -> None:
    every = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
    assert every == arrowtext.PYTHON_WHITESPACE


@pytest.mark.parametrize(
    ("characters", "pattern"),
    [
        (checks._CONTROL_CHARACTERS, validation.CONTROL_PATTERN),
        (checks._FORMATTING_CHARACTERS, validation.FORMATTING_PATTERN),
    ],
)
def test_character_sets_are_the_patterns_without_surrogates(characters: str, pattern: str) -> None:
    compiled = re.compile(pattern)
    scalars = (chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    matched = {c for c in scalars if compiled.fullmatch(c) is not None}
    assert set(characters) == matched


@pytest.mark.parametrize("characters", ["\x00", checks._CONTROL_CHARACTERS, checks._FORMATTING_CHARACTERS])
def test_holds_any_says_whether_a_cell_holds_one_of_the_characters(characters: str) -> None:
    for cell in HOSTILE:
        if cell is None:
            continue
        for text in (cell, f"ab{cell}", f"{cell}Đ", f"ể{cell}ạ"):
            column = pa.chunked_array([pa.array(["Hòa", None, text, "Bình"]).slice(1)])
            expected = any(c in characters for c in text)
            assert arrowtext.holds_any(column, characters) == expected, (text, characters)


def test_holds_any_reads_only_the_cells_of_a_slice() -> None:
    column = pa.array(["nul\x00", "clean", "also clean", "x\u202e"], type=pa.large_string())
    assert not arrowtext.holds_any(pa.chunked_array([column.slice(1, 2)]), "\x00\u202e")
    assert arrowtext.holds_any(pa.chunked_array([column.slice(2)]), "\u202e")
    two = pa.chunked_array([column.slice(1, 1), column.slice(3)])
    assert arrowtext.holds_any(two, "\u202e")
    assert not arrowtext.holds_any(two, "\x00")


def test_stripped_or_none_only_when_no_cell_changes() -> None:
    clean = ["Xóm Mít", "", None, "a b", "Hoà"]
    cells = arrowtext.stripped_or_none(pa.chunked_array([pa.array(clean)]))
    assert cells is not None
    assert cells.to_pylist() == [None if v is None else (v.strip() or None) for v in clean]
    for dirty in (" a", "a ", "\u3000a", "a\x1c", "\u2028"):
        assert arrowtext.stripped_or_none(pa.chunked_array([pa.array([*clean, dirty])])) is None


def test_any_longer_counts_characters_not_bytes() -> None:
    cells = ["ắắắ", None, "abcd", "", "Hòa Bình", "x" * 250]
    for kind in (pa.string(), pa.large_string()):
        array = pa.array(cells, type=kind)
        for part in (array, array.slice(1, 4), array.slice(0, 1), array.slice(2, 1)):
            for limit in (0, 2, 3, 4, 7, 8, 9, 249, 250):
                expected = any(c is not None and len(c) > limit for c in part.to_pylist())
                assert arrowtext.any_longer(pa.chunked_array([part], type=kind), limit) == expected


def test_stripped_or_none_agrees_with_str_strip_on_random_cells() -> None:
    """Whitespace, characters sharing bytes with it (Ạ, Ẩ, ẩ, ắ, ₀), sliced arrays, missing cells."""
    rng = random.Random(3)
    alphabet = [*arrowtext.PYTHON_WHITESPACE, *'aÀạẠẨẩắĐđ,"\n', "\U0001f600", "\u0100", "\u2080", "\u1e9a"]
    for _ in range(600):
        cells = [
            None if rng.random() < 0.15 else "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4)))
            for _ in range(rng.randint(1, 6))
        ]
        for kind in (pa.string(), pa.large_string()):
            array = pa.array(cells, type=kind)
            for part in (array, array.slice(1), array.slice(0, 1)):
                values = part.to_pylist()
                got = arrowtext.stripped_or_none(pa.chunked_array([part], type=kind))
                assert (got is None) == any(v is not None and v != v.strip() for v in values), values
                if got is not None:
                    assert got.to_pylist() == [v or None for v in values]


@pytest.mark.parametrize("rows", [40, 6000])
def test_mapping_and_text_checks_agree_with_the_python_path(rows: int) -> None:
    mapping = default_mapping("addresses")
    spec = get_dataset("addresses")
    features = np.arange(1, rows + 1)
    for cells in (HOSTILE, [c for c in HOSTILE if c is None or c == c.strip()]):
        frame = _frame(cells, rows=rows)
        arrow_mapped = apply_mapping(frame, mapping, "f")
        python_mapped = apply_mapping(_as_objects(frame), mapping, "f")
        assert list(arrow_mapped.columns) == list(python_mapped.columns)
        for name in arrow_mapped.columns:
            assert _cells(arrow_mapped[name]) == _cells(python_mapped[name]), name
        arrow = chunked.check_text(arrow_mapped, features, spec)
        python = chunked.check_text(python_mapped, features, spec)
        assert arrow.problems == python.problems
        assert arrow.stripped == python.stripped
        for name in arrow.rows.columns:
            assert _cells(arrow.rows[name]) == _cells(python.rows[name]), name
        fields = frame.drop(columns=["generated"])
        assert checks.unstorable_problems(fields, features) == checks.unstorable_problems(
            _as_objects(fields), features
        )


def test_canonical_column_in_arrow_moves_tone_marks_as_python_does() -> None:
    cells = ["Hoà Bình", "Thuỷ", None, "plain", "Hòa", "Pho\u0300ng", "Hoà Bình"]
    arrow = checks.canonical_column(pd.Series(pd.array(cells, dtype="str")))
    assert arrow.dtype == "str"
    assert _cells(arrow) == [None if c is None else checks.canonical_value(c) for c in cells]


@pytest.mark.parametrize("rows", [300, 6000])
def test_raw_json_in_arrow_is_the_raw_json_of_pandas(rows: int) -> None:
    frame = _frame(HOSTILE, rows=rows).assign(number=np.where(np.arange(rows) % 4, 1.5, np.nan))
    arrow = rawjson.raw_json_arrow(frame)
    assert arrow.to_pylist() == rawjson.raw_json(_as_objects(frame)).tolist()
    assert arrow.to_pylist() == rawjson.raw_json(frame).tolist()


def test_copy_input_is_the_same_bytes_from_arrow_and_object_columns() -> None:
    frame = _frame([c for c in HOSTILE if c is None or "\x00" not in c], rows=6000)
    ids = pd.Series([None if i % 7 == 0 else i for i in range(6000)], dtype=object)
    objects = _as_objects(frame).assign(commune_id=ids)
    communes = pa.array(objects["commune_id"], type=pa.int64(), from_pandas=True)
    arrow = frame.assign(
        commune_id=pd.arrays.ArrowExtensionArray(communes),
        raw=pd.arrays.ArrowStringArray(rawjson.raw_json_arrow(frame)),
    )
    objects = objects.assign(raw=rawjson.raw_json(_as_objects(frame)))
    assert b"".join(bulk.csv_batches(arrow)) == b"".join(bulk.csv_batches(objects[list(arrow.columns)]))


def test_commune_id_array_places_points_as_the_box_scan_did() -> None:
    squares = np.array([shapely.box(0, 0, 2, 2), shapely.box(2, 0, 4, 2), shapely.box(0, 2, 2, 4)])
    shapely.prepare(squares)
    communes = locate.Communes(np.array([11, 12, 13]), squares, shapely.STRtree(squares))
    rng = np.random.default_rng(5)
    xy = rng.uniform(-0.1, 4.1, size=(500, 2))
    points = shapely.points(np.vstack([xy, [[2.0, 1.0], [1.0, 2.0], [3.0, 3.0], [9.0, 9.0]]]))
    expected = []
    for point in points:  # the last polygon containing the point, else the nearest within the margin
        inside = [int(i) for i, s in zip(communes.ids, squares, strict=True) if s.contains(point)]
        near = [int(communes.ids[np.argmin(shapely.distance(squares, point))])]
        margin = shapely.distance(squares, point).min() <= locate.NEAREST_MARGIN_DEG
        expected.append(inside[-1] if inside else (near[0] if margin else -1))
    assert locate.commune_id_array(communes, points).tolist() == expected


def test_code_bytes_are_the_codes() -> None:
    points = shapely.points([[105.338, 20.817], [105.1, 20.9]])
    expected = [codes.encode(lon, lat) for lon, lat in ((105.338, 20.817), (105.1, 20.9))]
    assert locate.location_code_bytes(points).astype(str).tolist() == expected
    serials = np.array([5, -1, 123456789])
    made = locate.registry_code_bytes(serials)
    assert [c.decode() for c in made.tolist()] == [codes.registry_code(5), "", codes.registry_code(123456789)]
