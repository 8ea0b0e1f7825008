"""With DIACHISO_READ_DATABASE_URL set, the read paths answer from that database and edits go to the primary.

Two throwaway databases stand in for a primary and its replica: both loaded with the
bundled data, then the "replica" differs by one village's and one ward's name.
"""

from __future__ import annotations

from collections.abc import Iterator

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from addresses.schema import address, admin_unit, village
from addresses.settings import DatabaseSettings
from api.app import create_app
from api.settings import ApiSettings
from tests.accounts import create_token
from tests.databases import loaded_database
from tests.tilemath import tile_for

pytestmark = pytest.mark.db

REPLICA_VILLAGE = "Xóm Nhânbản"
REPLICA_WARD = "Phường Hòa Bình Bản Sao"


@pytest.fixture(scope="module")
def databases() -> Iterator[tuple[Engine, Engine, int]]:
    """(primary engine, replica engine, the renamed village's id)."""
    with (
        loaded_database("diachiso_primary") as (_, primary),
        loaded_database("diachiso_replica") as (_, replica),
    ):
        with replica.begin() as conn:
            village_id = conn.execute(select(func.min(village.c.id))).scalar_one()
            conn.execute(update(village).where(village.c.id == village_id).values(name=REPLICA_VILLAGE))
            conn.execute(
                update(admin_unit)
                .where(admin_unit.c.code == "04795", admin_unit.c.valid_to.is_(None))
                .values(full_name=REPLICA_WARD)
            )
        yield primary, replica, int(village_id)


@pytest.fixture(scope="module")
def client(databases: tuple[Engine, Engine, int]) -> Iterator[TestClient]:
    primary, replica, _ = databases
    settings = DatabaseSettings(
        database_url=primary.url.render_as_string(hide_password=False),
        read_database_url=replica.url.render_as_string(hide_password=False),
    )
    with TestClient(create_app(settings, ApiSettings())) as test_client:
        yield test_client


def test_search_and_reverse_answer_from_the_replica(
    client: TestClient, databases: tuple[Engine, Engine, int]
) -> None:
    found = client.get("/search", params={"q": REPLICA_VILLAGE, "limit": 1}).json()["features"]
    assert found
    assert REPLICA_VILLAGE in found[0]["properties"]["geocoding"]["label"]
    lon, lat = found[0]["geometry"]["coordinates"]
    reverse = client.get("/reverse", params={"lon": lon, "lat": lat}).text
    assert REPLICA_VILLAGE in reverse


def test_ogc_and_units_answer_from_the_replica(
    client: TestClient, databases: tuple[Engine, Engine, int]
) -> None:
    _, _, village_id = databases
    item = client.get(f"/ogc/collections/villages/items/{village_id}").json()
    assert item["properties"]["name"] == REPLICA_VILLAGE
    assert REPLICA_WARD in client.get("/units/04795").text


def test_edits_go_to_the_primary(client: TestClient, databases: tuple[Engine, Engine, int]) -> None:
    primary, replica, _ = databases
    with primary.begin() as conn:  # accounts live on the primary: a token is checked (and used) there
        token = create_token(conn, username="replica-admin", role="admin")
    answer = client.post(
        "/addresses",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [105.338, 20.817]},
            "properties": {"house_number": "12", "street": "Cù Chính Lan"},
            "confirm_duplicate": True,
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text
    code = answer.json()["properties"]["registry_code"]
    stored = select(func.count()).select_from(address).where(address.c.registry_code == code)
    with primary.connect() as conn:
        assert conn.execute(stored).scalar_one() == 1
    with replica.connect() as conn:
        assert conn.execute(stored).scalar_one() == 0


def test_tiles_are_drawn_from_the_replica(client: TestClient) -> None:
    found = client.get("/search", params={"q": REPLICA_VILLAGE, "limit": 1}).json()["features"]
    lon, lat = found[0]["geometry"]["coordinates"]
    tile = tile_for(lon, lat, 14)
    answer = client.get(f"/tiles/villages/{tile.z}/{tile.x}/{tile.y}.mvt")
    assert answer.status_code == 200
    features = mapbox_vector_tile.decode(answer.content)["villages"]["features"]
    names = {feature["properties"]["name"] for feature in features}
    assert REPLICA_VILLAGE in names
