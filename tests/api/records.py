"""Rows the app under test must see: committed on the test database, deleted afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, delete

from addresses.queries import AddressRecord
from addresses.schema import address, address_history, tile_invalidation
from tests.records import new_address

CITY_CENTRE = (105.338, 20.817)
"""A point in Hoa Binh city, lon and lat (the tiles and pages tests look there)."""


@contextmanager
def committed_address(
    engine: Engine, *, house_number: str, street: str = "Cù Chính Lan"
) -> Iterator[AddressRecord]:
    """An address in the city centre, committed (the app's pool has other connections), deleted after."""
    with engine.begin() as conn:
        lon, lat = CITY_CENTRE
        record = new_address(conn, lon, lat, house_number=house_number, street=street)
    try:
        yield record
    finally:
        with engine.begin() as conn:
            conn.execute(delete(address_history).where(address_history.c.address_id == record.id))
            conn.execute(delete(address).where(address.c.id == record.id))
            conn.execute(delete(tile_invalidation).where(tile_invalidation.c.layer == "address"))
