"""Addresses for tests, written through the real write path: the editing layer, one changeset each.

Every helper runs :mod:`addresses.editing` in a :class:`addresses.feed.Changeset` of its
own (closed, so its events are numbered) on the caller's connection, as an admin working
everywhere, and answers the address as the read side sees it (:class:`AddressRecord`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, func, insert

from addresses.accounts import Principal
from addresses.changes import check_bbox, check_layer
from addresses.editing import (
    Feature,
    FeatureEdit,
    StatusChange,
    change_status,
    create_feature,
    read_feature,
    update_feature,
)
from addresses.feed import Changeset
from addresses.queries import AddressRecord, address_records
from addresses.schema import SRID, tile_invalidation
from addresses.types import Status

TESTER: Final = Principal(account_id=None, username="tester", role="admin", commune_ids=None, via="cli")
"""Who writes the test data: an admin working in every commune."""

T = TypeVar("T")


def in_changeset(
    conn: Connection, work: Callable[[Changeset], T], *, comment: str | None = None, who: Principal = TESTER
) -> T:
    """Run one write in a changeset of its own (in a savepoint, like a request) and close it."""
    with conn.begin_nested():
        cs = Changeset(conn, who, comment=comment)
        result = work(cs)
        cs.close()
    return result


def _record(conn: Connection, feature: Feature) -> AddressRecord:
    return address_records(conn, ids=[feature.id])[0]


def point(lon: float, lat: float) -> dict[str, Any]:
    """A GeoJSON point."""
    return {"type": "Point", "coordinates": [lon, lat]}


def new_address(
    conn: Connection, lon: float, lat: float, *, status: Status = "active", **parts: str | None
) -> AddressRecord:
    """Register an address at a point with its parts (house_number "1" unless given), active by default.

    A probable duplicate is registered anyway (tests place addresses where they need them).
    """
    properties = {"house_number": "1", **parts, "status": status}

    def create(cs: Changeset) -> Feature:
        geometry = point(lon, lat)
        return create_feature(
            cs, "addresses", properties=properties, geometry=geometry, confirm_duplicate=True
        )

    return _record(conn, in_changeset(conn, create))


def _at_current_version(
    conn: Connection,
    registry_code: str,
    write: Callable[[Changeset, int], Feature],
    *,
    comment: str | None = None,
) -> AddressRecord:
    """Run a write of an address at the version it is at now, in a changeset of its own."""
    version = read_feature(conn, "addresses", registry_code).version
    return _record(conn, in_changeset(conn, lambda cs: write(cs, version), comment=comment))


def edit_address(
    conn: Connection,
    registry_code: str,
    *,
    properties: Mapping[str, Any],
    geometry: Mapping[str, Any] | None = None,
) -> AddressRecord:
    """Change an address at the version it is at now."""
    edit = FeatureEdit(properties=properties, geometry=geometry)

    def update(cs: Changeset, version: int) -> Feature:
        return update_feature(cs, "addresses", registry_code, expected_version=version, edit=edit)

    return _at_current_version(conn, registry_code, update)


def retire_address(
    conn: Connection, registry_code: str, *, reason: str, successor: str | None = None
) -> AddressRecord:
    """Retire an address (the reason is the changeset comment), optionally pointing to its successor."""
    change = StatusChange("retire", successor=successor)

    def retire(cs: Changeset, version: int) -> Feature:
        return change_status(cs, "addresses", registry_code, expected_version=version, change=change)

    return _at_current_version(conn, registry_code, retire, comment=reason)


def record_change(conn: Connection, *, layer: str, bbox: tuple[float, ...]) -> None:
    """Record that rows of ``layer`` changed inside ``bbox``, as a writer would (checked like its boxes)."""
    west, south, east, north = check_bbox(bbox)
    envelope = func.ST_MakeEnvelope(west, south, east, north, SRID)
    conn.execute(insert(tile_invalidation).values(layer=check_layer(layer), bbox=envelope))
