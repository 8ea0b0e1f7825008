"""Apply edited addresses to an index state without rebuilding it (the change feed's fast path).

An address moved, retired or restored keeps its place in the house-number store: only
its point, its in-force flag and its successor change, which are plain array cells. A
change to its street, village name, commune, house number or alley moves it to another
group or key (the arrays are sorted by them), and a new address needs a new row: those
ask for a rebuild (:func:`patch_addresses` answers None).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from sqlalchemy import Connection

from addresses.schema import address
from geocoder.houses import group_name, house_key
from geocoder.index import IndexState
from geocoder.loading import address_query

__all__ = ["changed_rows", "patch_addresses"]


def changed_rows(conn: Connection, ids: set[int]) -> list[Any]:
    """The current rows of the addresses ``ids`` (the columns the index loads)."""
    return list(conn.execute(address_query().where(address.c.id.in_(sorted(ids)))))


def _group_of(state: IndexState, row: Any) -> int:
    """The group a row belongs to in the store (-1 without a house number or a known group)."""
    if house_key(row.house_number) is None or row.commune_id is None:
        return -1
    street = group_name(row.street)
    name = street if street is not None else group_name(row.village_name)
    if name is None:
        return -1
    return state.streets.ids.get((int(row.commune_id), name), -2)


def _same_place_in_store(state: IndexState, at: int, row: Any) -> bool:
    """Whether the row keeps its group and its house number and alley as written."""
    store = state.houses
    written = store.written.at(at)
    return _group_of(state, row) == int(store.groups[at]) and written == (row.house_number, row.alley)


def patch_addresses(state: IndexState, rows: list[Any]) -> IndexState | None:
    """The state with the rows' points, statuses and successors written in; None when a rebuild is needed."""
    store = state.houses
    lon, lat = store.lon.copy(), store.lat.copy()
    retired, successor = store.retired.copy(), store.successor.copy()
    for row in rows:
        at = store.row_of_id(int(row.id))
        if at is None or not _same_place_in_store(state, at, row):
            return None
        lon[at], lat[at] = float(row.lon), float(row.lat)
        retired[at] = row.status == "retired"
        successor[at] = -1 if row.successor_id is None else int(row.successor_id)
    patched = replace(store, lon=lon, lat=lat, retired=np.asarray(retired), successor=successor)
    return replace(state, addresses=replace(state.addresses, store=patched))
