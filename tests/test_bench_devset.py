"""Smoke tests of the geocoding benchmark's judge (benchmarks/devset.py) on hand-made truths."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from benchmarks.bench_robustness import FirstAnswers, reliability_table
from benchmarks.devset import (
    FORM_ABBREVIATION,
    FORM_ALL,
    FORM_ASCII,
    FORM_DISTRICT,
    FORM_ENGLISH,
    FORM_KM_POST,
    FORM_OLD_UNIT,
    FORM_PARENTHESES,
    FORM_VIETNAMESE,
    HOLDOUT,
    TUNE,
    DevQuery,
    Engine,
    Truth,
    WardPolygons,
    by_form,
    default_wards,
    evaluate,
    forms_of,
    half_of,
    judge,
    load_queries,
    load_real,
    parse_query,
    run_engine,
    table,
)

#: Two hand-made square "wards", 0.1 degree wide, side by side around 105.3 E, 20.8 N.
WARDS = WardPolygons(
    codes={"00001": 0, "00002": 1},
    geoms=np.array(
        [shapely.box(105.2, 20.7, 105.3, 20.8), shapely.box(105.3, 20.7, 105.4, 20.8)], dtype=object
    ),
)
CENTRE = (105.25, 20.75)
METRES_PER_DEGREE_LAT = 110_700  # near 20.75 N


def forward(truth: Truth) -> DevQuery:
    """A forward query with the given truth."""
    return DevQuery(id="q", kind="village", level=0, truth=truth, text="Xóm Lác")


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    """A point ``metres`` north of another (good to a few cm at this scale)."""
    return point[0], point[1] + metres / METRES_PER_DEGREE_LAT


def test_a_point_inside_a_truth_ward_is_a_hit_and_outside_is_not() -> None:
    query = forward(Truth(wards=("00001",)))
    assert evaluate(query, CENTRE, WARDS)
    assert not evaluate(query, (105.35, 20.75), WARDS)  # in the other ward
    assert not evaluate(query, (105.25, 20.95), WARDS)  # in no ward
    assert not evaluate(query, None, WARDS)


def test_any_of_several_truth_wards_will_do() -> None:
    query = forward(Truth(wards=("00002", "00001")))
    assert evaluate(query, CENTRE, WARDS)
    assert evaluate(query, (105.35, 20.75), WARDS)


def test_within_r_m_is_a_hit_and_beyond_is_not() -> None:
    query = forward(Truth(point=CENTRE, r_m=300))
    assert evaluate(query, CENTRE, WARDS)
    assert evaluate(query, north_of(CENTRE, 290), WARDS)
    assert not evaluate(query, north_of(CENTRE, 310), WARDS)


def test_with_both_criteria_both_must_hold() -> None:
    near_border = (105.2995, 20.75)
    query = forward(Truth(wards=("00001",), point=near_border, r_m=300))
    across = (105.3005, 20.75)  # about 100 m away but in the other ward
    inside_far = CENTRE  # in the right ward but about 5 km away
    verdicts = judge([query, query, query], [near_border, across, inside_far], WARDS)
    assert verdicts.hit.tolist() == [True, False, False]
    assert verdicts.in_ward.tolist() == [True, False, True]
    assert verdicts.near.tolist() == [True, True, False]


def test_reverse_answers_are_ward_codes() -> None:
    query = DevQuery(id="r", kind="reverse", level=0, truth=Truth(wards=("00002",)), point=(105.35, 20.75))
    assert evaluate(query, "00002", WARDS)
    assert not evaluate(query, "00001", WARDS)
    assert not evaluate(query, None, WARDS)


def test_judge_wants_one_answer_per_query() -> None:
    with pytest.raises(ValueError, match="answers"):
        judge([forward(Truth(wards=("00001",)))], [], WARDS)


def test_parse_query_reads_both_shapes_of_line() -> None:
    village = parse_query(
        {
            "id": "v",
            "kind": "village",
            "level": 1,
            "query": "Xom Lac",
            "truth": {"point": [105.1, 20.6], "r_m": 300, "ward_2025": ["05251"]},
        }
    )
    assert village.truth == Truth(wards=("05251",), point=(105.1, 20.6), r_m=300.0)
    assert village.text == "Xom Lac"
    assert not village.is_reverse
    reverse = parse_query(
        {"id": "r", "kind": "reverse", "lon": 105.3, "lat": 20.8, "truth": {"ward_2025": ["04795"]}}
    )
    assert reverse.is_reverse
    assert reverse.point == (105.3, 20.8)


def test_every_truth_point_of_the_dev_set_satisfies_its_own_truth() -> None:
    queries = load_queries()
    answers = [q.truth.wards[0] if q.is_reverse else q.truth.point for q in queries]
    verdicts = judge(queries, answers, default_wards())
    with_point = np.array([q.is_reverse or q.truth.point is not None for q in queries])
    assert verdicts.hit[with_point].all()
    assert not verdicts.hit[~with_point].any()  # no answer for ward-only truths


def always_centre(text: str) -> tuple[float, float]:
    """A fake forward geocoder."""
    del text
    return CENTRE


def always_ward_2(lon: float, lat: float) -> str:
    """A fake reverse geocoder."""
    del lon, lat
    return "00002"


def test_run_engine_and_table() -> None:
    queries = [
        forward(Truth(wards=("00001",))),
        forward(Truth(wards=("00002",))),
        DevQuery(id="r", kind="reverse", level=0, truth=Truth(wards=("00002",)), point=(105.35, 20.75)),
    ]
    results = run_engine(Engine("fake", always_centre, always_ward_2), queries, wards=WARDS, repeat=2)
    assert [(r.kind, r.n, r.hits) for r in results] == [("village", 2, 1), ("reverse", 1, 1)]
    assert results[0].hit_rate == 0.5
    assert results[0].per_second > 0
    text = table({"fake": results, "other": results})
    assert "| village | 2 | 50.0% |" in text
    assert "| overall | 3 |" in text
    assert "1.0x" in text


# --- the real-text set: halves and forms (no query text is printed) -----------------------------


def test_the_real_text_set_splits_in_two_fixed_halves() -> None:
    entries = load_real()
    halves = [entry.half for entry in entries]
    assert set(halves) == {TUNE, HOLDOUT}
    assert 0.4 < halves.count(HOLDOUT) / len(halves) < 0.6
    assert all(half_of(entry.query.id) == entry.half for entry in entries)  # by id only, fixed salt


@pytest.mark.parametrize(
    ("text", "level", "forms"),
    [
        ("Mai Ha commune, Mai Chau district", "commune", {FORM_ENGLISH}),
        ("Tan Mai commune, Mai Chau district", "commune", {FORM_ENGLISH, FORM_OLD_UNIT}),
        ("TT Mai Châu (Hòa Bình)", "commune", {FORM_VIETNAMESE, FORM_ABBREVIATION, FORM_PARENTHESES}),
        ("xa ha bi kim boi", "commune", {FORM_ASCII, FORM_OLD_UNIT}),
        ("Km 12 QL6", "commune", {FORM_ASCII, FORM_ABBREVIATION, FORM_KM_POST}),
        ("huyện Kỳ Sơn", "district", {FORM_VIETNAMESE, FORM_OLD_UNIT, FORM_DISTRICT}),
        ("phường Kỳ Sơn", "commune", {FORM_VIETNAMESE}),
    ],
)
def test_forms_are_read_from_the_text(text: str, level: str, forms: set[str]) -> None:
    assert set(forms_of(text, level)) == {FORM_ALL, *forms}


def test_by_form_counts_an_entry_once_per_form() -> None:
    entries = load_real()
    queries = by_form(entries, TUNE)
    tune = [entry for entry in entries if entry.half == TUNE]
    assert len(queries) == sum(len(entry.forms) for entry in tune)
    assert sum(q.kind == FORM_ALL for q in queries) == len(tune)


def test_the_reliability_table_bins_scores_with_the_top_edge_in_the_last_bin() -> None:
    """0.2 opens the second bin, 0.8 and 1.0 fall in the last; each row says n, right and the share."""
    answers = FirstAnswers(
        "set",
        np.array([0.1, 0.2, 0.79, 0.8, 1.0, 1.0]),
        np.array([True, False, True, True, False, True]),
    )
    rows = answers.rows()
    assert rows == [
        "| set | 0.0-0.2 | 1 | 1 | 100.0% |",
        "| set | 0.2-0.4 | 1 | 0 | 0.0% |",
        "| set | 0.4-0.6 | 0 | 0 | - |",
        "| set | 0.6-0.8 | 1 | 1 | 100.0% |",
        "| set | 0.8-1.0 | 3 | 2 | 66.7% |",
    ]
    assert reliability_table([answers]).splitlines()[2:] == rows
