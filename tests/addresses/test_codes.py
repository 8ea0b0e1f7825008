"""Tests of the digital address codes (no database)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
import shapely
from numpy.typing import NDArray
from pyproj import Geod

from addresses import codes
from addresses.codes import (
    ALPHABET,
    DAMM_TABLE,
    MAX_LENGTH,
    TERRITORY,
    Cell,
    cover_polygon,
    decode,
    decode_array,
    encode,
    encode_array,
    format_location_code,
    format_registry_code,
    is_valid_location_code,
    is_valid_registry_code,
    neighbours,
    normalise_location_code,
    normalise_registry_code,
    parse_any_code,
    registry_code,
    registry_codes_array,
    registry_serial,
    truncate,
)
from addresses.errors import DiachisoError, InvalidCodeError, OutOfTerritoryError

DOC = Path(__file__).resolve().parents[2] / "docs" / "codes.md"
GEOD = Geod(ellps="WGS84")
HOA_BINH = (105.338, 20.817)
LANDMARKS = [
    HOA_BINH,
    (105.8522, 21.0287),  # Hà Nội
    (105.3163, 23.3636),  # Lũng Cú, north
    (102.1441, 22.4007),  # A Pa Chải, west
    (104.7265, 8.6004),  # Mũi Cà Mau, south
    (109.4636, 12.6468),  # Mũi Đôi, east
    (112.3333, 16.8333),  # Hoàng Sa, Phú Lâm
    (111.6036, 16.5336),  # Hoàng Sa island
    (111.9167, 8.6450),  # Trường Sa Lớn
    (114.3333, 11.4294),  # Song Tử Tây
    (117.9, 6.0),  # far south-east of the Trường Sa area
    (111.0, 17.2),  # far north-west of the Hoàng Sa area
]
EPS = 1e-9


def _corners() -> list[tuple[float, float]]:
    """Return the four corners of the box (east/north just inside)."""
    east = float(np.nextafter(TERRITORY.east, 0))
    north = float(np.nextafter(TERRITORY.north, 0))
    return [
        (TERRITORY.west, TERRITORY.south),
        (east, TERRITORY.south),
        (TERRITORY.west, north),
        (east, north),
    ]


def _random_points(count: int, seed: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return random points over the box plus landmarks and corners."""
    rng = np.random.default_rng(seed)
    extra = LANDMARKS + _corners()
    lon = np.concatenate([rng.uniform(TERRITORY.west, TERRITORY.east, count), [p[0] for p in extra]])
    lat = np.concatenate([rng.uniform(TERRITORY.south, TERRITORY.north, count), [p[1] for p in extra]])
    return lon, lat


def _random_codes(count: int, seed: int) -> list[str]:
    """Return random valid location codes of every length 1..8."""
    lon, lat = _random_points(count, seed)
    lengths = np.random.default_rng(seed).integers(1, MAX_LENGTH + 1, lon.size)
    return [encode(x, y, length=int(k)) for x, y, k in zip(lon, lat, lengths, strict=True)]


def _substitutions(code: str, alphabet: str) -> list[str]:
    """Return every code differing from ``code`` in exactly one character."""
    return [code[:i] + char + code[i + 1 :] for i in range(len(code)) for char in alphabet if char != code[i]]


def _transpositions(code: str, *, adjacent_only: bool) -> list[str]:
    """Return every code with two different characters swapped."""
    found = []
    for i, j in itertools.combinations(range(len(code)), 2):
        if (adjacent_only and j != i + 1) or code[i] == code[j]:
            continue
        chars = list(code)
        chars[i], chars[j] = chars[j], chars[i]
        found.append("".join(chars))
    return found


# ---------------------------------------------------------------- error detection


def test_check_weights_are_distinct_and_nonzero_mod_31() -> None:
    """Prove the check: the product of nonzero residues mod a prime is nonzero."""
    weights = [*range(1, MAX_LENGTH + 1), len(ALPHABET) - 1]  # check char has weight -1
    for delta in range(1, len(ALPHABET)):
        assert all(weight * delta % 31 for weight in weights)
        assert all((a - b) * delta % 31 for a, b in itertools.combinations(weights, 2))


def test_every_location_substitution_and_transposition_is_detected() -> None:
    """Try every single substitution and every transposition on 1,200 random codes."""
    mutants: list[str] = []
    for code in _random_codes(1_200, seed=1):
        mutants += _substitutions(code, ALPHABET)
        mutants += _transpositions(code, adjacent_only=False)
    cells = decode_array(np.array(mutants, dtype="S9"), on_error="mask")
    assert len(mutants) > 200_000
    assert not cells.length.any()


def test_scalar_validation_rejects_mutants() -> None:
    """The scalar path rejects the same mutants, with check_mismatch."""
    for code in _random_codes(150, seed=2):
        for mutant in _substitutions(code, ALPHABET) + _transpositions(code, adjacent_only=True):
            assert not is_valid_location_code(mutant)
            with pytest.raises(InvalidCodeError) as caught:
                decode(mutant)
            assert caught.value.reason == "check_mismatch"


def test_damm_table_is_weakly_totally_antisymmetric() -> None:
    """Check the quasigroup properties behind Damm's guarantees."""
    table = DAMM_TABLE
    for row in table:
        assert sorted(row) == list(range(10))
    for column in range(10):
        assert sorted(row[column] for row in table) == list(range(10))
    assert all(table[i][i] == 0 for i in range(10))
    for c, x, y in itertools.product(range(10), repeat=3):
        if x != y:
            assert table[table[c][x]][y] != table[table[c][y]][x]


def test_every_registry_substitution_and_adjacent_transposition_is_detected() -> None:
    """Try every single-digit error and adjacent transposition on 1,500 random codes."""
    serials = np.random.default_rng(3).integers(0, 1_000_000_000, 1_500)
    for serial in [*serials.tolist(), 0, 9, 90, 999_999_999]:
        code = registry_code(serial)
        assert is_valid_registry_code(code)
        mutants = _substitutions(code, "0123456789") + _transpositions(code, adjacent_only=True)
        assert not any(is_valid_registry_code(mutant) for mutant in mutants)


# ------------------------------------------------------------------ round trip


def _cell_sizes_m(cells: codes.CellArrays) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the widest edge (south or north) and the height of cells, in metres."""
    _, _, south_width = GEOD.inv(cells.west, cells.south, cells.east, cells.south)
    _, _, north_width = GEOD.inv(cells.west, cells.north, cells.east, cells.north)
    _, _, height = GEOD.inv(cells.west, cells.south, cells.west, cells.north)
    return np.maximum(south_width, north_width), np.asarray(height)


def test_round_trip_contains_point_and_cell_is_at_most_3_m() -> None:
    """Every point lies in its decoded cell (exactly, half-open) of at most 3 m x 3 m."""
    lon, lat = _random_points(100_000, seed=4)
    cells = decode_array(encode_array(lon, lat))
    assert np.all((cells.west <= lon) & (lon < cells.east))
    assert np.all((cells.south <= lat) & (lat < cells.north))
    width, height = _cell_sizes_m(cells)
    assert width.max() <= 3.0
    assert height.max() <= 3.0
    assert width.max() == pytest.approx(1.92, abs=0.01)
    assert height.max() == pytest.approx(2.16, abs=0.01)


@pytest.mark.parametrize("length", range(1, MAX_LENGTH + 1))
def test_round_trip_at_every_length(length: int) -> None:
    """Truncated codes decode to the cell holding the point, centre inside."""
    lon, lat = _random_points(5_000, seed=length)
    cells = decode_array(encode_array(lon, lat, length=length))
    assert np.all((cells.west <= lon) & (lon < cells.east))
    assert np.all((cells.south <= lat) & (lat < cells.north))
    assert np.all((cells.west < cells.lon) & (cells.lon < cells.east))
    assert np.all(cells.length == length)


def test_cell_edges_encode_to_their_own_cell() -> None:
    """A point exactly on a west/south edge belongs to the cell east/north of it."""
    lon, lat = _random_points(2_000, seed=5)
    cells = decode_array(encode_array(lon, lat))
    again = decode_array(encode_array(cells.west, cells.south))
    np.testing.assert_array_equal(again.west, cells.west)
    np.testing.assert_array_equal(again.south, cells.south)
    east_neighbours = decode_array(encode_array(cells.east[:-4], cells.south[:-4]))
    np.testing.assert_array_equal(east_neighbours.west, cells.east[:-4])


def test_scalar_decode_matches_landmarks() -> None:
    """Scalar decode returns a Cell holding landmarks, centre in the middle."""
    for lon, lat in LANDMARKS + _corners():
        cell = decode(encode(lon, lat))
        assert isinstance(cell, Cell)
        assert cell.contains(lon, lat)
        assert cell.lon == pytest.approx((cell.west + cell.east) / 2, abs=EPS)
        assert cell.lat == pytest.approx((cell.south + cell.north) / 2, abs=EPS)


# ---------------------------------------------------------- vector = scalar


def test_encode_array_matches_scalar_at_every_length() -> None:
    """Vector and scalar encoders agree bit for bit."""
    lon, lat = _random_points(3_000, seed=6)
    for length in range(1, MAX_LENGTH + 1):
        vector = encode_array(lon, lat, length=length).astype(str).tolist()
        scalar = [encode(x, y, length=length) for x, y in zip(lon, lat, strict=True)]
        assert vector == scalar


def test_decode_array_matches_scalar() -> None:
    """Vector and scalar decoders agree exactly, also for mixed lengths."""
    sample = _random_codes(3_000, seed=7)
    cells = decode_array(sample)
    for i, code in enumerate(sample):
        cell = decode(code)
        found = (cells.lon[i], cells.lat[i], cells.west[i], cells.south[i])
        assert found == (cell.lon, cell.lat, cell.west, cell.south)
        assert (cells.east[i], cells.north[i], cells.length[i]) == (
            cell.east,
            cell.north,
            cell.length,
        )


def test_arrays_keep_their_shape() -> None:
    """2-D input gives 2-D output, and decode_array accepts str, bytes and objects."""
    lon = np.full((2, 3), HOA_BINH[0])
    result = encode_array(lon, HOA_BINH[1])
    assert result.shape == (2, 3)
    assert decode_array(result).lon.shape == (2, 3)
    text = encode(*HOA_BINH)
    for given in ([text], np.array([text.lower()]), np.array([text], dtype=object)):
        assert decode_array(given).length.tolist() == [8]
    assert encode_array([], []).shape == (0,)


# ------------------------------------------------------------------ input forms


@pytest.mark.parametrize(
    "typed",
    [
        "8VGDHS6HB",
        "8vgdhs6hb",
        "8VG-DHS-6HB",
        " 8vg dhs 6hb ",
        "8VG–DHS—6HB",
        "8\tV G-D\u00a0HS6HB",
    ],
)
def test_location_input_tolerance(typed: str) -> None:
    """Case, spaces and dashes (also typographic ones) are ignored."""
    assert normalise_location_code(typed) == "8VGDHS6HB"
    assert format_location_code(typed) == "8VG-DHS-6HB"
    assert decode(typed).code == "8VGDHS6HB"


@pytest.mark.parametrize(
    ("typed", "reason", "position", "character"),
    [
        ("", "empty", None, None),
        ("  - ", "empty", None, None),
        ("8", "wrong_length", None, None),
        ("8VGDHS6HB2", "wrong_length", None, None),
        ("8VG-DHS-0HB", "invalid_character", 7, "0"),
        ("8VG-DHS-OHB", "invalid_character", 7, "O"),
        ("IVGDHS6HB", "invalid_character", 1, "I"),
        ("8VGDHS6H?", "invalid_character", 9, "?"),
        ("8VGDHS6HC", "check_mismatch", None, None),
        ("8VGDSH6HB", "check_mismatch", None, None),
    ],
)
def test_location_errors_name_the_problem(
    typed: str, reason: str, position: int | None, character: str | None
) -> None:
    """Mistyped codes raise InvalidCodeError with reason, position and character."""
    with pytest.raises(InvalidCodeError) as caught:
        normalise_location_code(typed)
    error = caught.value
    assert (error.reason, error.position, error.character) == (reason, position, character)
    assert isinstance(error, DiachisoError)
    assert "mistyped code" in str(error)


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(101.99, 20.0), (118.0, 10.0), (105.0, 5.49), (105.0, 23.5), (float("nan"), 20.0)],
)
def test_outside_the_box_is_out_of_territory(lon: float, lat: float) -> None:
    """Points outside the box raise OutOfTerritoryError, not InvalidCodeError."""
    with pytest.raises(OutOfTerritoryError) as caught:
        encode(lon, lat)
    assert not isinstance(caught.value, InvalidCodeError)


def test_swapped_axes_get_a_hint() -> None:
    """A lat/lon mix-up is pointed out."""
    with pytest.raises(OutOfTerritoryError, match="swapped"):
        encode(HOA_BINH[1], HOA_BINH[0])


def test_encode_array_reports_or_masks_outside_points() -> None:
    """The vector path names count and first index, or masks with b''."""
    lon = np.array([105.0, 100.0, 106.0, 200.0])
    lat = np.array([20.0, 20.0, 21.0, 20.0])
    with pytest.raises(OutOfTerritoryError, match="2 of 4 points") as caught:
        encode_array(lon, lat)
    assert (caught.value.index, caught.value.count) == (1, 2)
    masked = encode_array(lon, lat, on_error="mask")
    assert masked.tolist()[1::2] == [b"", b""]
    assert masked[0].decode() == encode(105.0, 20.0)


def test_decode_array_reports_or_masks_bad_rows() -> None:
    """The vector path explains the first bad row like the scalar path."""
    good = encode(*HOA_BINH)
    given = [good, good[:-1] + "C", "8VGOHS6HB", "8VG-DHS-6HB", "8VGDHS6HBXYZ", "", "2"]
    with pytest.raises(InvalidCodeError) as caught:
        decode_array(given)
    assert (caught.value.index, caught.value.reason) == (1, "check_mismatch")
    masked = decode_array(given, on_error="mask")
    assert masked.length.tolist() == [8, 0, 0, 0, 0, 0, 0]
    assert np.isnan(masked.lon[1:]).all()
    with pytest.raises(InvalidCodeError) as caught:
        decode_array([good, "8VGOHS6HB"])
    assert (caught.value.index, caught.value.position, caught.value.character) == (1, 4, "O")


def test_bad_options_are_programming_errors() -> None:
    """Lengths and option values outside their range raise plain ValueError."""
    for call in (
        lambda: encode(*HOA_BINH, length=0),
        lambda: encode(*HOA_BINH, length=9),
        lambda: encode_array([105.0], [20.0], on_error="ignore"),  # type: ignore[arg-type]
        lambda: truncate("8VGDP", length=6),
        lambda: registry_code(1_000_000_000),
        lambda: registry_codes_array([-1]),
    ):
        with pytest.raises(ValueError, match=r"must be|cannot") as caught:
            call()
        assert not isinstance(caught.value, DiachisoError)


# ------------------------------------------------------------------- hierarchy


def test_prefix_is_the_enclosing_cell() -> None:
    """Dropping trailing data characters (and re-checking) gives the enclosing cell."""
    lon, lat = _random_points(300, seed=8)
    for x, y in zip(lon, lat, strict=True):
        full = encode(x, y)
        inner = decode(full)
        for length in range(1, MAX_LENGTH):
            shorter = truncate(full, length=length)
            assert shorter == encode(x, y, length=length)
            assert shorter[:-1] == full[:length]
            outer = decode(shorter)
            assert outer.west <= inner.west
            assert inner.east <= outer.east
            assert outer.south <= inner.south
            assert inner.north <= outer.north


# ------------------------------------------------------------------ neighbours


def _assert_adjacent(cell: Cell, other: Cell, dx: int, dy: int) -> None:
    """Check that ``other`` touches ``cell`` on the side given by (dx, dy)."""
    expected_west = {-1: None, 0: cell.west, 1: cell.east}[dx]
    expected_south = {-1: None, 0: cell.south, 1: cell.north}[dy]
    if expected_west is not None:
        assert other.west == expected_west
    else:
        assert other.east == cell.west
    if expected_south is not None:
        assert other.south == expected_south
    else:
        assert other.north == cell.south


def test_neighbours_touch_the_cell() -> None:
    """The 8 neighbours share an edge or corner with the cell, at the same length."""
    offsets = {"N": (0, 1), "NE": (1, 1), "E": (1, 0), "SE": (1, -1)}
    offsets |= {"S": (0, -1), "SW": (-1, -1), "W": (-1, 0), "NW": (-1, 1)}
    for code in _random_codes(300, seed=9):
        cell = decode(code)
        around = neighbours(code)
        columns = 3 - (cell.west == TERRITORY.west) - (cell.east == TERRITORY.east)
        rows = 1 if cell.length == 1 else 3 - (cell.south == TERRITORY.south)
        rows -= cell.north == TERRITORY.north and cell.length > 1
        assert len(around) == columns * rows - 1
        for direction, other_code in around.items():
            other = decode(other_code)
            assert other.length == cell.length
            _assert_adjacent(cell, other, *offsets[direction])


def test_neighbours_stop_at_the_box() -> None:
    """Corner cells have 3 neighbours; length-1 cells only east/west ones."""
    south_west = encode(TERRITORY.west, TERRITORY.south)
    assert sorted(neighbours(south_west)) == ["E", "N", "NE"]
    assert sorted(neighbours(encode(*HOA_BINH, length=1))) == ["E", "W"]


# ------------------------------------------------------------------ polygons


def _cell_box(code: str) -> shapely.Geometry:
    """Return a cell as a shapely box."""
    return shapely.box(*decode(code).bounds)


def _brute_cover(polygon: shapely.Geometry, length: int, mode: str) -> set[str]:
    """Cover by testing every cell in the polygon's bounds (slow reference)."""
    west, south, east, north = polygon.bounds
    first, last = (
        decode(encode(west, south, length=length)),
        decode(encode(east, north, length=length)),
    )
    width, height = first.east - first.west, first.north - first.south
    xs = np.arange(first.lon, last.lon + width / 2, width)
    ys = np.arange(first.lat, last.lat + height / 2, height)
    lon, lat = (grid.ravel() for grid in np.meshgrid(xs, ys))
    found = set()
    for code in encode_array(lon, lat, length=length).astype(str):
        cell = _cell_box(code)
        if mode == "centre":
            keep = polygon.contains(shapely.Point(decode(code).lon, decode(code).lat))
        else:
            keep = polygon.intersects(cell) and not polygon.touches(cell)
        if keep:
            found.add(code)
    return found


def test_cover_of_a_union_of_cells_is_exactly_those_cells() -> None:
    """A polygon made of cells is covered by those cells, in both modes."""
    origin = decode(encode(*HOA_BINH, length=6))
    width, height = origin.east - origin.west, origin.north - origin.south
    chosen = {
        encode(origin.lon + i * width, origin.lat + j * height, length=6)
        for i, j in [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (0, 2)]
    }
    polygon = shapely.union_all([_cell_box(code) for code in chosen])
    for mode in ("intersects", "centre"):
        assert set(cover_polygon(polygon, length=6, mode=mode).astype(str)) == chosen


def _test_polygons() -> list[shapely.Geometry]:
    """Return an irregular quadrilateral and a two-part multipolygon with a hole."""
    lon, lat = HOA_BINH
    quad = shapely.Polygon(
        [(lon, lat), (lon + 0.004, lat + 0.001), (lon + 0.003, lat + 0.005), (lon - 0.001, lat + 0.002)]
    )
    ring = shapely.Point(lon, lat).buffer(0.003).difference(shapely.Point(lon, lat).buffer(0.0015))
    return [quad, shapely.union_all([ring, shapely.box(lon + 0.004, lat, lon + 0.0052, lat + 0.001)])]


@pytest.mark.parametrize("mode", ["intersects", "centre"])
@pytest.mark.parametrize("which", [0, 1])
def test_cover_matches_brute_force(mode: str, which: int) -> None:
    """Irregular polygons get the same cells as a cell-by-cell test."""
    polygon = _test_polygons()[which]
    found = set(cover_polygon(polygon, length=6, mode=mode).astype(str))  # type: ignore[arg-type]
    assert found == _brute_cover(polygon, 6, mode)
    assert len(found) > 20


def test_compact_cover_expands_to_the_full_cover() -> None:
    """Compact output mixes lengths; its cells partition the full-length cover."""
    polygon = shapely.Point(*HOA_BINH).buffer(0.01)
    full = set(cover_polygon(polygon, length=7).astype(str))
    compact = set(cover_polygon(polygon, length=7, compact=True).astype(str))
    assert len(compact) < len(full) / 3
    assert {len(code) for code in compact} > {8}
    prefixes = {code[:-1] for code in compact}
    for code in full:
        assert sum(code[:length] in prefixes for length in range(1, 8)) == 1
    assert sum(31 ** (8 - len(code)) for code in compact) == len(full)


def test_cover_of_a_commune_sized_polygon_at_length_8() -> None:
    """The full-resolution cover of a ~0.1 km² polygon has ~25,000 cells of ~4 m²."""
    polygon = shapely.Point(*HOA_BINH).buffer(0.0017)
    found = cover_polygon(polygon, length=8)
    assert found.dtype == np.dtype("S9")
    assert 20_000 < found.size < 30_000
    assert len(set(found.tolist())) == found.size


def test_cover_rejects_geometry_outside_the_box() -> None:
    """Geometries outside the box raise OutOfTerritoryError; empty ones give nothing."""
    with pytest.raises(OutOfTerritoryError):
        cover_polygon(shapely.box(100.0, 20.0, 103.0, 21.0))
    assert cover_polygon(shapely.Polygon(), length=4).size == 0


# ------------------------------------------------------------------ registry


def test_registry_codes_vector_matches_scalar() -> None:
    """Vector and scalar registry codes agree; serials round-trip."""
    serials = np.random.default_rng(10).integers(0, 1_000_000_000, 5_000)
    vector = registry_codes_array(serials).astype(str).tolist()
    assert vector == [registry_code(serial) for serial in serials.tolist()]
    assert [registry_serial(code) for code in vector] == serials.tolist()


@pytest.mark.parametrize("typed", ["1234567894", "1234-567-894", " 1234 567 894 ", "12 34–56 78 94"])
def test_registry_input_tolerance(typed: str) -> None:
    """Spaces and dashes are ignored; display groups 4-3-3."""
    assert normalise_registry_code(typed) == "1234567894"
    assert format_registry_code(typed) == "1234-567-894"


@pytest.mark.parametrize(
    ("typed", "reason", "position"),
    [
        ("", "empty", None),
        ("123456789", "wrong_length", None),
        ("12345678940", "wrong_length", None),
        ("12345O7894", "invalid_character", 6),
        ("1234567895", "check_mismatch", None),
        ("2134567894", "check_mismatch", None),
    ],
)
def test_registry_errors(typed: str, reason: str, position: int | None) -> None:
    """Mistyped registry codes raise InvalidCodeError naming the problem."""
    with pytest.raises(InvalidCodeError) as caught:
        normalise_registry_code(typed)
    assert (caught.value.reason, caught.value.position) == (reason, position)


def test_parse_any_code_tells_the_kinds_apart() -> None:
    """Ten characters are a registry code, anything else a location code."""
    assert parse_any_code("1234 567 894").kind == "registry"
    assert parse_any_code("8vg-dhs-6hb").kind == "location"
    assert parse_any_code("8VG-DP").display == "8VG-DP"
    assert parse_any_code("1234567894").display == "1234-567-894"
    with pytest.raises(InvalidCodeError) as caught:
        parse_any_code("8VGDHS6HB23")
    assert caught.value.reason == "wrong_length"
    with pytest.raises(InvalidCodeError) as caught:
        parse_any_code("8VGDHS6HB2")
    assert (caught.value.reason, caught.value.position) == ("invalid_character", 2)


# ------------------------------------------------------------------ the spec


def _doc_block(name: str) -> list[list[str]]:
    """Return the rows of the fenced block whose info string is ``text name``."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"```text {name}\n(.*?)```", text, flags=re.DOTALL)
    assert match, f"no ```text {name} block in {DOC}"
    lines = [line for line in match.group(1).splitlines() if line.strip()]
    return [re.split(r"\s*\|\s*", line.strip().strip("|").strip()) for line in lines[1:]]


def test_location_vectors_in_the_spec() -> None:
    """Every location test vector of docs/codes.md holds."""
    rows = _doc_block("location-vectors")
    assert len(rows) >= 20
    for lon, lat, length, code, *_ in rows:
        assert format_location_code(encode(float(lon), float(lat), length=int(length))) == code
        assert decode(code).contains(float(lon), float(lat))


def test_registry_vectors_in_the_spec() -> None:
    """Every registry test vector of docs/codes.md holds."""
    rows = _doc_block("registry-vectors")
    assert len(rows) >= 5
    for serial, code, display in rows:
        assert registry_code(int(serial)) == code
        assert format_registry_code(code) == display
