"""Every write operation of the OpenAPI document refuses who may not write, and writes nothing.

The operations are read from ``app.openapi()``: a new POST, PATCH, PUT or DELETE route is
tested here the day it is added, unless it is put on the short list of open writes below
(log-in, log-out, and POSTs that change no data). For each one, sent with a body that
would be accepted:

- without credentials: 401 (before the body is read);
- with the session cookie but no X-CSRF-Token: 403;
- by a viewer (its API token): 403;
- by an editor of another commune than the one the write touches: 403;

and afterwards the row counts of every editable table and of the change log are those of
before (the address edited keeps its version and status).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, Table, delete, func, select

from addresses.schema import (
    address,
    address_history,
    admin_unit,
    change_event,
    changeset,
    feature_version,
    place,
    tile_invalidation,
    village,
)
from tests.accounts import create_account, create_token, login
from tests.records import new_address

pytestmark = pytest.mark.db

OPEN_WRITES: Final = {
    ("POST", "/auth/login"): "logging in is how one gets credentials",
    ("POST", "/auth/logout"): "ends the caller's own session; changes no data",
    ("POST", "/batch"): "geocodes an uploaded CSV and answers it; stores nothing",
}
"""Writes anyone may send, each with the reason. Keep this list short."""
WRITE_METHODS: Final = {"post", "patch", "put", "delete"}
EDITABLE: Final[tuple[Table, ...]] = (
    address,
    address_history,
    village,
    place,
    admin_unit,
    changeset,
    feature_version,
    change_event,
    tile_invalidation,
)
HOA_BINH: Final = "04795"  # the commune of the address written to
LUONG_SON: Final = "04924"  # the other editor's commune
POINT: Final = (105.3452, 20.8122)  # in Phường Hòa Bình


def write_operations(openapi: dict[str, Any]) -> list[tuple[str, str]]:
    """(METHOD, path) of every write operation of an OpenAPI document, open ones left out."""
    found = [
        (method.upper(), path)
        for path, operations in openapi["paths"].items()
        for method in operations
        if method in WRITE_METHODS
    ]
    return sorted(operation for operation in found if operation not in OPEN_WRITES)


@dataclass(frozen=True)
class Fixture:
    """The features the writes aim at (by dataset: key and version), and the address a merge folds in."""

    code: str
    other: str
    version: int
    keys: dict[str, str]
    versions: dict[str, int]


def _existing(conn: Connection, table: Table, commune_id: int) -> tuple[str, int]:
    """The id and version of an active row of ``table`` in the commune."""
    query = select(table.c.id, table.c.version).where(
        table.c.commune_id == commune_id, table.c.status == "active"
    )
    row = conn.execute(query.order_by(table.c.id).limit(1)).one()
    return str(row.id), int(row.version)


@pytest.fixture(scope="module")
def targets(engine: Engine) -> Iterator[Fixture]:
    """Two active addresses in Phường Hòa Bình, committed; removed at the end."""
    with engine.begin() as conn:
        one = new_address(conn, POINT[0], POINT[1], house_number="31", village_name="Xóm Lác")
        two = new_address(conn, POINT[0] + 0.0002, POINT[1], house_number="33")
        unit = conn.execute(
            select(admin_unit.c.id, admin_unit.c.version).where(
                admin_unit.c.code == HOA_BINH, admin_unit.c.level == 3, admin_unit.c.valid_to.is_(None)
            )
        ).one()
        village_key, village_version = _existing(conn, village, unit.id)
        place_key, place_version = _existing(conn, place, unit.id)
    keys = {
        "addresses": one.registry_code,
        "villages": village_key,
        "places": place_key,
        "units": str(unit.id),
    }
    versions = {"addresses": one.version, "villages": village_version, "places": place_version}
    yield Fixture(
        one.registry_code, two.registry_code, one.version, keys, {**versions, "units": unit.version}
    )
    with engine.begin() as conn:
        ids = [one.id, two.id]
        conn.execute(delete(address_history).where(address_history.c.address_id.in_(ids)))
        conn.execute(delete(address).where(address.c.id.in_(ids)))
        conn.execute(delete(tile_invalidation).where(tile_invalidation.c.layer == "address"))


def _dataset(path: str) -> str:
    """The dataset a path writes (its first segment)."""
    return path.strip("/").split("/")[0]


def _path(path: str, target: Fixture) -> str:
    """The path with its parameters filled: the target feature of the path's dataset."""
    key = target.keys.get(_dataset(path), target.code)
    known = {"registry_code": target.code, "key": key, "code": target.code}
    return re.sub(r"\{(\w+)\}", lambda found: known.get(found.group(1), "1"), path)


def _legacy_bodies(target: Fixture) -> dict[tuple[str, str], dict[str, Any]]:
    """Bodies of the address routes of today, which have their own shapes."""
    lon, lat = POINT
    del lon, lat
    return {
        ("POST", "/addresses/merge"): {"codes": [target.other], "into": target.code, "reason": "same house"}
    }


PROPERTIES: Final = {
    "addresses": {"house_number": "31B"},
    "villages": {"name": "Xóm Thử"},
    "places": {"name": "Chợ Thử", "category": "amenity", "kind": "marketplace"},
    "units": {"name_en": "Test Ward"},
}
"""Changed (or new) properties each dataset accepts."""


def _body(method: str, path: str, target: Fixture) -> dict[str, Any]:
    """A body the route would accept from someone allowed to write (the refusals come before it)."""
    legacy = _legacy_bodies(target).get((method, path))
    if legacy is not None:
        return legacy
    properties = PROPERTIES.get(_dataset(path), {})
    if method == "PATCH":  # the editing routes of every dataset: changed properties and a comment
        return {"properties": properties, "comment": "renumbered"}
    if method == "POST" and "{" not in path:
        point = {"type": "Point", "coordinates": list(POINT)}
        return {"type": "Feature", "geometry": point, "properties": properties, "comment": "new"}
    return {"comment": "tested"}


def _send(client: TestClient, operation: tuple[str, str], target: Fixture, **headers: str) -> httpx.Response:
    method, path = operation
    sent = {"If-Match": f'"{target.versions.get(_dataset(path), target.version)}"', **headers}
    answer: httpx.Response = client.request(
        method, _path(path, target), json=_body(method, path, target), headers=sent
    )
    return answer


def _state(engine: Engine, target: Fixture) -> dict[str, object]:
    """Row counts of every editable table, and the target address's version and status."""
    with engine.connect() as conn:
        counts: dict[str, object] = {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in EDITABLE
        }
        query = select(address.c.version, address.c.status, address.c.house_number).where(
            address.c.registry_code.in_([target.code, target.other])
        )
        counts["targets"] = sorted(tuple(row) for row in conn.execute(query))
        for table in (village, place):
            versions = select(table.c.version, table.c.status).where(table.c.commune_id.is_not(None))
            counts[f"{table.name} versions"] = sorted(tuple(row) for row in conn.execute(versions))
    return counts


@dataclass(frozen=True)
class Callers:
    """Clients of the app as each kind of caller."""

    anonymous: TestClient
    cookie_without_csrf: TestClient
    viewer: TestClient
    other_editor: TestClient


@pytest.fixture(scope="module")
def callers(engine: Engine, app_client: TestClient) -> Callers:
    """An anonymous client, a logged-in editor of the commune (no CSRF header), a viewer, another editor."""
    suffix = uuid.uuid4().hex[:8]
    with engine.begin() as conn:
        create_account(conn, username=f"cookie-{suffix}", role="editor", communes=[HOA_BINH])
        viewer = create_token(conn, username=f"viewer-{suffix}", role="viewer", communes=[HOA_BINH])
        other = create_token(conn, username=f"other-{suffix}", role="editor", communes=[LUONG_SON])
    app = app_client.app
    browser = TestClient(app)
    login(browser, f"cookie-{suffix}")
    return Callers(
        anonymous=TestClient(app),
        cookie_without_csrf=browser,
        viewer=TestClient(app, headers={"Authorization": f"Bearer {viewer}"}),
        other_editor=TestClient(app, headers={"Authorization": f"Bearer {other}"}),
    )


def _operations() -> list[tuple[str, str]]:
    from addresses.settings import DatabaseSettings  # noqa: PLC0415 (an app never started)
    from api.app import create_app  # noqa: PLC0415
    from api.settings import ApiSettings  # noqa: PLC0415

    unused = DatabaseSettings(database_url="postgresql://unused/none")
    return write_operations(create_app(unused, ApiSettings()).openapi())


def test_the_write_operations_are_found() -> None:
    found = _operations()
    assert ("POST", "/addresses") in found
    assert ("PATCH", "/addresses/{key}") in found
    assert ("POST", "/villages/{key}/approve") in found
    assert ("POST", "/addresses/merge") in found
    assert not set(found) & set(OPEN_WRITES)


def test_the_open_writes_exist() -> None:
    """An open write that no longer exists is taken off the list (it would hide a new one)."""
    from addresses.settings import DatabaseSettings  # noqa: PLC0415
    from api.app import create_app  # noqa: PLC0415
    from api.settings import ApiSettings  # noqa: PLC0415

    paths = create_app(DatabaseSettings(database_url="postgresql://unused/none"), ApiSettings()).openapi()[
        "paths"
    ]
    assert all(method.lower() in paths.get(path, {}) for method, path in OPEN_WRITES)


@pytest.mark.parametrize("operation", _operations(), ids=" ".join)
def test_who_may_not_write_is_refused_and_nothing_is_written(
    operation: tuple[str, str], callers: Callers, targets: Fixture, engine: Engine
) -> None:
    before = _state(engine, targets)
    anonymous = _send(callers.anonymous, operation, targets)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.json()["error"]["status"] == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    no_csrf = _send(callers.cookie_without_csrf, operation, targets)
    assert no_csrf.status_code == 403, no_csrf.text
    assert "X-CSRF-Token" in no_csrf.json()["error"]["message"]
    viewer = _send(callers.viewer, operation, targets)
    assert viewer.status_code == 403, viewer.text
    other = _send(callers.other_editor, operation, targets)
    assert other.status_code == 403, other.text
    assert other.json()["error"]["type"] in {"PermissionDeniedError", "EditForbiddenError"}
    assert _state(engine, targets) == before


def test_the_same_writes_succeed_for_an_editor_of_the_commune(
    callers: Callers, targets: Fixture, engine: Engine, app_client: TestClient
) -> None:
    """Not vacuous: the bodies sent above would have been written by someone allowed to."""
    with engine.begin() as conn:
        token = create_token(
            conn, username=f"editor-{uuid.uuid4().hex[:8]}", role="editor", communes=[HOA_BINH]
        )
    editor = TestClient(app_client.app, headers={"Authorization": f"Bearer {token}"})
    patch = _send(editor, ("PATCH", "/addresses/{key}"), targets)
    assert patch.status_code == 200, patch.text
    assert patch.json()["properties"]["house_number"] == "31B"
    with engine.connect() as conn:
        author = conn.execute(
            select(address_history.c.changed_by)
            .join(address, address.c.id == address_history.c.address_id)
            .where(address.c.registry_code == targets.code)
        ).scalar()
    assert author is not None
    assert author.startswith("editor-")
