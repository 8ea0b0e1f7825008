"""One validation of text and coordinates: the editing layer (every edit) and imports agree."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sqlalchemy import Connection, inspect

from addresses import validation
from addresses.errors import EditRefusedError, InvalidParameterError
from addresses.limits import MAX_TEXT
from tests.records import edit_address, new_address, point

POINT = (105.338, 20.817)


def _refused(conn: Connection, lon: Any = POINT[0], lat: Any = POINT[1], **parts: Any) -> str:
    """The message of the error the editing layer gives for a new address with these members."""
    with pytest.raises(EditRefusedError) as refused:
        new_address(conn, lon, lat, **parts)
    return str(refused.value)


@pytest.mark.parametrize("member", ["lon", "lat"])
@pytest.mark.parametrize("value", [True, False, "105", None])
def test_a_coordinate_must_be_a_json_number(conn: Connection, member: str, value: object) -> None:
    assert _refused(conn, **{member: value}) == f"geometry: coordinates must be finite numbers, not {value!r}"
    created = new_address(conn, *POINT, house_number="5")
    moved = [*POINT]
    moved[member == "lat"] = value  # type: ignore[call-overload]
    with pytest.raises(EditRefusedError, match="coordinates must be finite numbers"):
        edit_address(conn, created.registry_code, properties={}, geometry=point(*moved))


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e400])
def test_nan_and_infinity_are_refused_alike(conn: Connection, value: float) -> None:
    assert _refused(conn, lat=value) == f"geometry: coordinates must be finite numbers, not {value!r}"
    with pytest.raises(InvalidParameterError, match="must be a finite number"):
        validation.finite_number("lat", value)


def test_the_editing_layer_and_the_importer_share_the_length_limits(conn: Connection) -> None:
    assert validation.max_length("house_number") == 32
    assert _refused(conn, house_number="9" * 33) == "house_number: 33 characters, at most 32"
    assert new_address(conn, *POINT, street="Đ" * MAX_TEXT).street == "Đ" * MAX_TEXT
    assert _refused(conn, street="Đ" * (MAX_TEXT + 1)).startswith(f"street: {MAX_TEXT + 1} characters")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("12\u202e34", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("12\u200b", "U+200B (ZERO WIDTH SPACE)"),
        ("\ufeff12", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
        ("12\u2066A\u2069", "U+2066 (LEFT-TO-RIGHT ISOLATE), U+2069 (POP DIRECTIONAL ISOLATE)"),
        ("12\u00adA", "U+00AD (SOFT HYPHEN)"),
    ],
)
def test_an_edit_refuses_invisible_formatting_that_an_import_strips(
    conn: Connection, text: str, shown: str
) -> None:
    assert _refused(conn, house_number=text) == f"house_number: contains invisible formatting {shown}"
    assert validation.formatting_characters(validation.strip_formatting(text)) == []


@pytest.mark.parametrize("text", ["1\x002", "1\x1b2", "1\x852", "1\ud8002"])
def test_control_characters_and_lone_surrogates_are_refused(conn: Connection, text: str) -> None:
    assert _refused(conn, street=text).startswith("street: contains the control character U+")
    assert str(validation.text_problem("street", text)).startswith("contains the control character U+")


def test_an_update_applies_the_same_rules(conn: Connection) -> None:
    created = new_address(conn, *POINT, house_number="12A")
    with pytest.raises(EditRefusedError, match="street: contains the control character U\\+0000"):
        edit_address(conn, created.registry_code, properties={"street": "A\x00"})
    with pytest.raises(EditRefusedError, match="house_number: contains invisible formatting U\\+202E"):
        edit_address(conn, created.registry_code, properties={"house_number": "12\u202e34"})


def test_successor_links_are_indexed(conn: Connection) -> None:
    indexes = {index["name"]: index["column_names"] for index in inspect(conn).get_indexes("address")}
    assert indexes["ix_address_successor_id"] == ["successor_id"]
