"""One validation of text and coordinates: the registry, the API edit models and imports agree."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Connection, inspect

from addresses import registry, validation
from addresses.errors import InvalidParameterError
from addresses.limits import MAX_TEXT
from api.schemas_codes import AddressChanges, NewAddress

POINT = {"lon": 105.338, "lat": 20.817}


def _refused(**members: Any) -> str:
    """The message of the one error NewAddress gives for these members."""
    with pytest.raises(ValidationError) as refused:
        NewAddress.model_validate({**POINT, **members})
    errors = refused.value.errors()
    assert len(errors) == 1
    return f"{errors[0]['loc'][0]}: {errors[0]['msg']}"


@pytest.mark.parametrize("member", ["lon", "lat"])
@pytest.mark.parametrize("value", [True, False, "105", None])
def test_a_coordinate_must_be_a_json_number(member: str, value: object) -> None:
    assert _refused(**{member: value}).startswith(f"{member}: ")
    with pytest.raises(ValidationError):
        AddressChanges.model_validate({member: value} if value is not None else {member: True})


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e400])
def test_nan_and_infinity_are_refused_alike(value: float) -> None:
    assert _refused(lat=value) == f"lat: Value error, must be a finite number, got {float(value)}"
    with pytest.raises(InvalidParameterError, match="must be a finite number"):
        validation.finite_number("lat", value)


def test_the_api_and_the_importer_share_the_length_limits() -> None:
    schema = NewAddress.model_json_schema()["properties"]
    limits = {name: schema[name]["anyOf"][0]["maxLength"] for name in ("house_number", "street")}
    assert limits == {"house_number": validation.max_length("house_number"), "street": MAX_TEXT}
    assert NewAddress.model_validate({**POINT, "house_number": "9" * 32}).house_number == "9" * 32
    assert _refused(house_number="9" * 33).startswith(
        "house_number: String should have at most 32 characters"
    )


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
def test_an_edit_refuses_invisible_formatting_that_an_import_strips(text: str, shown: str) -> None:
    assert _refused(house_number=text) == f"house_number: Value error, contains invisible formatting {shown}"
    assert validation.formatting_characters(validation.strip_formatting(text)) == []


@pytest.mark.parametrize("text", ["1\x002", "1\x1b2", "1\x852", "1\ud8002"])
def test_control_characters_and_lone_surrogates_are_refused(text: str) -> None:
    assert _refused(street=text).startswith("street: ")  # pydantic refuses a lone surrogate itself
    assert str(validation.text_problem("street", text)).startswith("contains the control character U+")


def test_the_registry_applies_the_same_rules(conn: Connection) -> None:
    with pytest.raises(InvalidParameterError, match="house_number: contains invisible formatting U\\+202E"):
        registry.create_address(conn, lon=105.338, lat=20.817, house_number="12\u202e34")
    with pytest.raises(InvalidParameterError, match="house_number: 33 characters, at most 32"):
        registry.create_address(conn, lon=105.338, lat=20.817, house_number="9" * 33)
    with pytest.raises(InvalidParameterError, match="lon: must be a number, not bool"):
        registry.create_address(conn, lon=True, lat=20.817)
    created = registry.create_address(conn, lon=105.338, lat=20.817, house_number="12A")
    with pytest.raises(InvalidParameterError, match="street: contains the control character U\\+0000"):
        registry.update_address(conn, created.registry_code, expected_version=1, street="A\x00")


def test_successor_links_are_indexed(conn: Connection) -> None:
    indexes = {index["name"]: index["column_names"] for index in inspect(conn).get_indexes("address")}
    assert indexes["ix_address_successor_id"] == ["successor_id"]
