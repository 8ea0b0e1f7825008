"""Readings that won only narrowly (benchmarks/margins.py): the rules that widen the margin, each tested on
strings written here from the bundled GSO list, not taken from the real-text set."""

from __future__ import annotations

import pytest

from geocoder.index import GeocoderIndex
from geocoder.normalize import OTHER_MARKS_SCORE, UNACCENTED_SCORE
from geocoder.query import read_query
from geocoder.scoring import READ_BASE, Matcher
from geocoder.search import search
from tests.geocoder.answers import top, ward

pytestmark = pytest.mark.db

LIEN_SON = "04960"  # holds the old xã Trung Sơn (Lương Sơn)
TIEN_PHONG = "04891"
AN_NGHIA = "05395"  # holds the old xã Cố Nghĩa (Lạc Thủy) since 2025
CHI_NE = "05392"  # holds the old thị trấn Chi Nê and its village Cô Nghĩa


def _score_in(index: GeocoderIndex, text: str, name: str) -> float:
    """The best score of an answer of that name among the first ten."""
    return max(result.score for result in search(index, text, limit=10) if result.name == name)


@pytest.mark.parametrize(
    ("text", "meant", "other"),
    [
        ("xã Thành Sơn, tỉnh Hòa Bình", "Xã Thành Sơn", "Xã Thanh Sơn"),
        ("xã Thanh Sơn, tỉnh Hòa Bình", "Xã Thanh Sơn", "Xã Thành Sơn"),
    ],
)
def test_a_mark_typed_where_the_name_has_none_is_another_tone(
    index: GeocoderIndex, text: str, meant: str, other: str
) -> None:
    """ "Thành" is not the "Thanh" of "Thanh Sơn" (a name written with marks, none on that word): another
    tone, read as :data:`OTHER_MARKS_SCORE`, not as a source that left its marks out (was 0.735 of 1)."""
    assert top(index, text).name == meant
    assert _score_in(index, text, other) < 0.72


def test_the_quality_of_a_mark_typed_where_the_name_has_none(index: GeocoderIndex) -> None:
    """Against a name written with marks, other marks; against a name written without any, as typed."""
    state = index.state
    matcher = Matcher(state, read_query("xã Thành Sơn", words=state.vocab.words))
    marked = next(entry for entry in state.entries if entry.name == "Xã Thanh Sơn")
    position = matcher.query.folded.index("thanh")
    assert matcher.quality(position, "thanh", "thanh", marked.names) == OTHER_MARKS_SCORE
    assert matcher.quality(position, "thanh", "thanh") == UNACCENTED_SCORE


def test_a_slip_in_one_word_of_the_name_weighs_beyond_the_contexts(index: GeocoderIndex) -> None:
    """With its district and province named, "xã Trung Sơn" read as "Trường Sơn" of the same district (a
    letter added) explained 0.715 of the text: the name itself reads less surely, whatever else is named."""
    text = "xã Trung Sơn, huyện Lương Sơn, tỉnh Hòa Bình"
    result = top(index, text)
    assert (result.name, ward(result)) == ("Xã Trung Sơn", LIEN_SON)
    assert _score_in(index, text, "Xã Trường Sơn") < 0.68
    assert READ_BASE < 1.0


def test_a_slip_that_lost_its_marks_in_text_that_writes_them_reads_less_surely(index: GeocoderIndex) -> None:
    """ "Tienn" in text written with marks is a slip and marks left out; "Tiềnn" a slip only."""
    kept = top(index, "xã Tiềnn Phong, huyện Đà Bắc")
    lost = top(index, "xã Tienn Phong, huyện Đà Bắc")
    assert ward(kept) == ward(lost) == TIEN_PHONG
    assert lost.score < kept.score
    unmarked = top(index, "xa Tienn Phong, huyen Da Bac")  # text without marks: nothing was lost
    assert ward(unmarked) == TIEN_PHONG


def test_a_slip_read_against_a_name_written_without_marks_counts_the_marks_it_cannot_confirm(
    index: GeocoderIndex,
) -> None:
    """ "Thành" typed with its marks read as the "Thinh" of the place "Khanh Thinh" (its source wrote no
    marks): a slip, and marks the name cannot confirm; against a name written with marks, not at all."""
    state = index.state
    matcher = Matcher(state, read_query("xóm Thành", words=state.vocab.words))
    position = matcher.query.folded.index("thanh")
    slip = matcher.expansions[position]["thinh"]
    assert slip < 1.0
    unmarked = next(entry for entry in state.entries if entry.name == "Khanh Thinh")
    read = matcher.quality(position, "thinh", "thinh", unmarked.names)
    assert read == pytest.approx(slip * UNACCENTED_SCORE)
    marked = next(entry for entry in state.entries if "thịnh" in entry.names[0].accented)
    assert matcher.quality(position, "thinh", "thịnh", marked.names) == 0.0


def test_a_name_labelled_a_commune_in_text_without_marks_is_the_commune_it_reads_as(
    index: GeocoderIndex,
) -> None:
    """Without marks "Co Nghia" reads as the village Cô Nghĩa of Chi Nê as well as the old xã Cố Nghĩa:
    labelled "xa", it is the commune (the village of Chi Nê, named too, won 0.535 to 0.418); labelled
    "xom", the village."""
    result = top(index, "cho Chi Ne, xa Co Nghia")
    assert (ward(result), result.name) == (AN_NGHIA, "Xã Cố Nghĩa")
    result = top(index, "xom Co Nghia, thi tran Chi Ne")
    assert (ward(result), result.name) == (CHI_NE, "Cô Nghĩa")
