"""Rough edges a newcomer hits: one type for ``level``, OGC addresses by registry code, JSON syntax
errors that say where, and a registry-code search that keeps the house number."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete

from addresses.codes import registry_code
from addresses.queries import AddressRecord
from addresses.schema import address, address_history, tile_invalidation
from api.deps import app_state_of
from tests.records import new_address

MAI_HA = "05200"


@pytest.fixture(scope="module")
def record(engine: Engine, client: TestClient) -> Iterator[AddressRecord]:
    """An address committed for the app to see, deleted afterwards (and forgotten by the app's index)."""
    with engine.begin() as conn:
        created = new_address(conn, 105.0717, 20.6512, house_number="12A", alley="3", village_name="Xóm Lác")
    yield created
    with engine.begin() as conn:
        conn.execute(delete(address_history).where(address_history.c.address_id == created.id))
        conn.execute(delete(address).where(address.c.id == created.id))
        conn.execute(delete(tile_invalidation).where(tile_invalidation.c.layer == "address"))
    _refresh_index(client, engine)


def _refresh_index(client: TestClient, engine: Engine) -> None:
    """Make the app's geocoder index read the data now."""
    with engine.connect() as conn:
        app_state_of(cast(FastAPI, client.app)).geocoder.refresh_if_stale(conn, force=True)


# --- level -------------------------------------------------------------------------------------------


def _levels(units: list[dict[str, Any]]) -> set[tuple[type, type]]:
    return {(type(unit["level"]), type(unit["level_name"])) for unit in units}


def test_level_is_an_integer_with_its_name_everywhere(client: TestClient) -> None:
    listed = client.get("/units", params={"limit": 50}).json()["items"]
    one = client.get(f"/units/{MAI_HA}").json()
    found = client.get("/search", params={"q": "xom lac mai chau", "limit": 3}).json()["features"]
    here = client.get("/reverse", params={"lon": 105.0833, "lat": 20.6601}).json()["features"][0]
    ogc = client.get("/ogc/collections/units/items", params={"limit": 20}).json()["features"]

    geocoded = [unit for f in found for unit in f["properties"]["diachiso"]["old_units"]]
    geocoded += [f["properties"]["diachiso"]["current_unit"] for f in found]
    extra = here["properties"]["diachiso"]
    reversed_units = [*extra["units"], *extra["old_units"], extra["current_unit"]]
    for units in (listed, [one["unit"]], geocoded, reversed_units, [f["properties"] for f in ogc]):
        assert units
        assert _levels(units) == {(int, str)}
    names = {1: "province", 2: "district", 3: "commune"}
    everything = [*listed, *geocoded, *reversed_units, *(f["properties"] for f in ogc)]
    assert all(names[unit["level"]] == unit["level_name"] for unit in everything)


# --- OGC addresses by registry code ------------------------------------------------------------------


def test_ogc_addresses_are_identified_by_registry_code(client: TestClient, record: AddressRecord) -> None:
    path = f"/ogc/collections/addresses/items/{record.registry_code}"
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    feature = answer.json()
    assert feature["id"] == record.registry_code
    assert feature["properties"]["registry_code"] == record.registry_code
    assert feature["links"][0]["href"].endswith(path)

    page = client.get(
        "/ogc/collections/addresses/items", params={"registry_code": record.registry_code}
    ).json()
    assert [f["id"] for f in page["features"]] == [record.registry_code]

    for other in (str(record.id), record.registry_code_display):  # the former numeric id, a dashed code
        moved = client.get(
            f"/ogc/collections/addresses/items/{other}", params={"crs": "EPSG:4326"}, follow_redirects=False
        )
        assert moved.status_code == 308
        assert moved.headers["location"].endswith(f"{path}?crs=EPSG%3A4326")
        assert client.get(f"/ogc/collections/addresses/items/{other}").json()["id"] == record.registry_code

    assert client.get(f"/ogc/collections/addresses/items/{registry_code(987654)}").status_code == 404
    assert client.get("/ogc/collections/villages/items/1").json()["id"] == 1  # other collections: numbers


# --- JSON syntax errors ------------------------------------------------------------------------------


def test_a_json_syntax_error_names_line_and_column(staff_client: TestClient) -> None:
    body = '{\n  "lon": 105.338,\n  "lat": 20.817,\n  "house_number": "5",,\n}'
    answer = staff_client.post("/addresses", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["parameter"] == "body"
    second_comma = body.index(",,") + 1  # where the JSON breaks: line 4, column 23
    assert (second_comma, second_comma - body.rindex("\n", 0, second_comma)) == (59, 23)
    assert error["message"] == (
        "body: invalid JSON at line 4, column 23 (character 59): "
        "Expecting property name enclosed in double quotes"
    )


# --- a registry code search keeps the house number ---------------------------------------------------


def test_a_search_by_registry_code_keeps_the_house_number(
    client: TestClient, engine: Engine, record: AddressRecord
) -> None:
    _refresh_index(client, engine)  # the app's index looks for changed data every 30 s: now
    for typed in (record.registry_code, record.registry_code_display):
        found = client.get("/search", params={"q": typed}).json()["features"]
        assert found, typed
        spec, extra = found[0]["properties"]["geocoding"], found[0]["properties"]["diachiso"]
        assert extra["registry_code"] == record.registry_code
        assert spec["housenumber"] == "12A"
        assert spec["label"].startswith("Số 12A, ngõ 3")
        assert spec["label"] == spec["name"] + ", " + ", ".join(
            part for part in (extra["current_unit"]["full_name"], spec["state"]) if part
        )
