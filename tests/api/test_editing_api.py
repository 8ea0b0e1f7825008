"""Staff edits over HTTP on the real database: rights, versions, refusals without trace, verbatim text."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from addresses.schema import change_event, changeset, feature_version, registry_counter, tile_invalidation
from tests.accounts import create_account, create_token, remove_rows_after, row_marks
from tests.addresses.test_editing import Commune, _communes
from tests.tilemath import tile_for

INJECTIONS = (
    "'; DROP TABLE address; --",
    "<script>alert('xss')</script>",
    'Robert"); DELETE FROM village WHERE (1=1',
    "{{7*7}} ${7*7} %s %(x)s' OR '1'='1",
    "<img src=x onerror=alert(1)>",
)


@pytest.fixture(scope="module", autouse=True)
def _cleanup(engine: Engine) -> Iterator[None]:
    """Remove what the module's edits committed (other tests of the session count rows)."""
    marks = row_marks(engine)
    yield
    remove_rows_after(engine, marks)


@dataclass(frozen=True)
class Staff:
    """Tokens of staff accounts (headers ready) and their communes."""

    viewer: dict[str, str]
    editor: dict[str, str]
    approver: dict[str, str]
    admin: dict[str, str]
    home: Commune
    away: Commune


@pytest.fixture(scope="module")
def staff(engine: Engine) -> Staff:
    suffix = uuid.uuid4().hex[:8]
    with engine.begin() as conn:
        home, away = _communes(conn, 3)[1:]
        headers = {}
        for role in ("viewer", "editor", "approver", "admin"):
            name = f"{role}-{suffix}"
            create_account(conn, username=name, role=role, communes=[home.id])
            headers[role] = {"Authorization": f"Bearer {create_token(conn, username=name, role=role)}"}
    return Staff(**headers, home=home, away=away)


def _feature(lon: float, lat: float, comment: str | None = None, **properties: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}}
    body["properties"] = properties
    if comment is not None:
        body["comment"] = comment
    return body


def _spot(commune: Commune) -> tuple[float, float]:
    """A fresh point inside the commune (a few metres from the last: no probable duplicates)."""
    offset = (uuid.uuid4().int % 400) * 0.000015
    return commune.lon + offset, commune.lat + (uuid.uuid4().int % 50) * 0.00001


def _traces(engine: Engine) -> tuple[int, ...]:
    """Rows an edit leaves: versions, events, tile marks, changesets, and the registry counter."""
    with engine.connect() as conn:
        counts = tuple(
            int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (feature_version, change_event, tile_invalidation, changeset)
        )
        serial = int(conn.execute(select(registry_counter.c.next_serial)).scalar_one())
    return (*counts, serial)


def _create(
    client: TestClient, headers: dict[str, str], commune: Commune, **properties: Any
) -> dict[str, Any]:
    answer = client.post("/addresses", json=_feature(*_spot(commune), **properties), headers=headers)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def _error(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    return error


def test_writes_need_a_principal_of_the_right_role_and_commune(client: TestClient, staff: Staff) -> None:
    body = _feature(*_spot(staff.home), house_number="15")
    assert _error(client.post("/addresses", json=body), 401)["type"] in {
        "AuthenticationError",
        "UnauthorizedError",
    }
    assert _error(client.post("/addresses", json=body, headers={"Authorization": "Bearer nope"}), 401)
    assert _error(client.post("/addresses", json=body, headers=staff.viewer), 403)
    away = _error(
        client.post("/addresses", json=_feature(*_spot(staff.away), house_number="15"), headers=staff.editor),
        403,
    )
    assert "outside the communes" in away["message"]
    assert "nằm ngoài các xã" in away["message_vi"]
    made = client.post("/addresses", json=body, headers=staff.editor)
    assert made.status_code == 201, made.text
    feature = made.json()
    assert feature["properties"]["status"] == "proposed"
    assert made.headers["etag"] == '"1"'
    assert made.headers["location"] == f"/addresses/{feature['id']}"
    got = client.get(f"/addresses/{feature['id']}")
    assert (got.headers["etag"], got.json()["properties"]["status"]) == ('"1"', "proposed")
    assert _error(
        client.post(f"/addresses/{feature['id']}/approve", headers={**staff.editor, "If-Match": '"1"'}), 403
    )
    assert _error(client.post("/changesets/1/revert", headers=staff.approver), 403)
    units = client.patch(
        f"/units/{staff.home.id}",
        json={"properties": {"name_en": "x"}},
        headers={**staff.approver, "If-Match": '"1"'},
    )
    assert _error(units, 403)


def test_a_stale_write_answers_409_with_the_current_feature_and_changes_nothing(
    client: TestClient, engine: Engine, staff: Staff
) -> None:
    feature = _create(client, staff.admin, staff.home, house_number="21")
    path = f"/addresses/{feature['id']}"
    assert (
        _error(client.patch(path, json={"properties": {"alley": "4"}}, headers=staff.admin), 428)["parameter"]
        == "If-Match"
    )
    changed = client.patch(
        path, json={"properties": {"alley": "4"}}, headers={**staff.admin, "If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    before = _traces(engine)
    stale = client.patch(
        path, json={"properties": {"alley": "9"}}, headers={**staff.admin, "If-Match": '"1"'}
    )
    error = _error(stale, 409)
    assert error["type"] == "StaleVersionError"
    current = stale.json()["current"]
    assert current["id"] == feature["id"]
    assert (current["properties"]["version"], current["properties"]["alley"]) == (2, "4")
    assert _traces(engine) == before
    assert client.get(path).json()["properties"]["alley"] == "4"


def test_a_refused_write_leaves_no_trace(client: TestClient, engine: Engine, staff: Staff) -> None:
    taken = _create(client, staff.admin, staff.home, house_number="33")
    lon, lat = taken["geometry"]["coordinates"]
    refusals: list[tuple[Callable[[], Any], int, str]] = [
        (
            lambda: client.post("/addresses", json=_feature(lon, lat, house_number="34")),
            401,
            "UnauthorizedError",
        ),
        (
            lambda: client.post(
                "/addresses", json=_feature(*_spot(staff.away), house_number="34"), headers=staff.editor
            ),
            403,
            "EditForbiddenError",
        ),
        (
            lambda: client.post(
                "/addresses", json=_feature(lon, lat, house_number="33"), headers=staff.admin
            ),
            409,
            "DuplicateFeatureError",
        ),
        (
            lambda: client.post(
                "/addresses", json=_feature(lon, lat, house_number="ba mươi"), headers=staff.admin
            ),
            422,
            "EditRefusedError",
        ),
        (
            lambda: client.post(
                "/addresses", json=_feature(105.85, 21.03, house_number="1"), headers=staff.admin
            ),
            422,
            "EditRefusedError",
        ),
        (
            lambda: client.post("/places", json=_feature(lon, lat, name="x"), headers=staff.admin),
            422,
            "EditRefusedError",
        ),
        (
            lambda: client.patch(
                f"/addresses/{taken['id']}",
                json={"properties": {"street": "x"}},
                headers={**staff.admin, "If-Match": '"9"'},
            ),
            409,
            "StaleVersionError",
        ),
        (
            lambda: client.post(
                f"/addresses/{taken['id']}/approve", headers={**staff.admin, "If-Match": '"1"'}
            ),
            409,
            "ConflictError",
        ),
        (
            lambda: client.post(
                f"/addresses/{taken['id']}/restore", headers={**staff.admin, "If-Match": '"1"'}
            ),
            409,
            "ConflictError",
        ),
    ]
    for request, status, kind in refusals:
        before = _traces(engine)
        error = _error(request(), status)
        assert error["type"] == kind
        assert _traces(engine) == before, error
    duplicate = _error(
        client.post("/addresses", json=_feature(lon, lat, house_number="33"), headers=staff.admin), 409
    )
    assert "confirm_duplicate" in duplicate["message"]
    assert "trùng" in duplicate["message_vi"]
    confirmed = {**_feature(lon, lat, house_number="33"), "confirm_duplicate": True}
    assert client.post("/addresses", json=confirmed, headers=staff.admin).status_code == 201


def test_injection_strings_are_stored_and_returned_verbatim(client: TestClient, staff: Staff) -> None:
    for text in INJECTIONS:
        lon, lat = _spot(staff.home)
        body = _feature(lon, lat, comment=text, house_number="5", street=text, alley=text, village_name=text)
        made = client.post("/addresses", json=body, headers=staff.editor)
        assert made.status_code == 201, made.text
        got = client.get(f"/addresses/{made.json()['id']}").json()["properties"]
        assert (got["street"], got["alley"], got["village_name"]) == (text, text, text)
        versions = client.get(f"/addresses/{made.json()['id']}/history").json()["versions"]
        assert versions[-1]["comment"] == text
        place = client.post(
            "/places",
            json=_feature(lon, lat, comment=text, name=text, category=text, kind=text, street=text),
            headers=staff.editor,
        )
        assert place.status_code == 201, place.text
        stored = client.get(f"/places/{place.json()['id']}").json()["properties"]
        assert [stored[name] for name in ("name", "category", "kind", "street")] == [text] * 4
        village = client.post(
            "/villages", json=_feature(lon, lat, name=text, village_type=text), headers=staff.editor
        )
        assert village.status_code == 201, village.text
        shown = client.get(f"/villages/{village.json()['id']}").json()["properties"]
        assert (shown["name"], shown["village_type"]) == (text, text)
    refused = _error(
        client.post(
            "/addresses", json=_feature(*_spot(staff.home), house_number=INJECTIONS[0]), headers=staff.editor
        ),
        422,
    )
    assert refused["parameter"] == "house_number"


def test_history_changeset_and_revert(client: TestClient, staff: Staff) -> None:
    feature = _create(client, staff.admin, staff.home, house_number="41", street="Phố Cũ")
    path = f"/addresses/{feature['id']}"
    lon, lat = feature["geometry"]["coordinates"]
    moved = {
        "properties": {"street": "Phố Mới"},
        "geometry": {"type": "Point", "coordinates": [lon + 0.0005, lat]},
        "comment": "đo lại",
    }
    answer = client.patch(path, json=moved, headers={**staff.admin, "If-Match": '"1"'})
    assert answer.status_code == 200, answer.text
    history = client.get(f"{path}/history").json()
    assert [v["action"] for v in history["versions"]] == ["create", "update"]
    last = history["versions"][-1]
    assert last["diff"]["fields"]["street"] == {"old": "Phố Cũ", "new": "Phố Mới"}
    assert last["diff"]["geometry_moved"] is True
    assert 40 < last["diff"]["moved_m"] < 65
    assert last["comment"] == "đo lại"
    view = client.get(f"/changesets/{last['changeset_id']}").json()
    assert view["writes"] == [
        {"dataset": "addresses", "key": feature["id"], "version": 2, "action": "update"}
    ]
    assert view["bbox"][0] <= lon <= view["bbox"][2]
    reverted = client.post(f"/changesets/{view['id']}/revert", json={"comment": "nhầm"}, headers=staff.admin)
    assert reverted.status_code == 201, reverted.text
    assert (reverted.json()["kind"], reverted.json()["reverts_id"]) == ("revert", view["id"])
    back = client.get(path).json()
    assert back["properties"]["street"] == "Phố Cũ"
    assert back["geometry"]["coordinates"] == pytest.approx([lon, lat])
    again = _error(client.post(f"/changesets/{view['id']}/revert", headers=staff.admin), 409)
    assert again["type"] == "RevertConflictError"
    assert _error(client.get("/changesets/999999999"), 404)


def test_the_approval_queue(client: TestClient, staff: Staff) -> None:
    proposed = _create(client, staff.editor, staff.home, house_number="52")
    rejected = _create(client, staff.editor, staff.home, house_number="54")
    queue = client.get("/proposals", params={"commune": staff.home.code}, headers=staff.approver)
    assert queue.status_code == 200, queue.text
    keys = {feature["id"] for feature in queue.json()["features"]}
    assert {proposed["id"], rejected["id"]} <= keys
    assert _error(client.get("/proposals", headers=staff.editor), 403)
    approve = client.post(
        f"/addresses/{proposed['id']}/approve",
        json={"comment": "ok"},
        headers={**staff.approver, "If-Match": '"1"'},
    )
    assert approve.json()["properties"]["status"] == "active"
    no_reason = _error(
        client.post(f"/addresses/{rejected['id']}/reject", headers={**staff.approver, "If-Match": '"1"'}), 422
    )
    assert no_reason["parameter"] == "comment"
    reject = client.post(
        f"/addresses/{rejected['id']}/reject",
        json={"comment": "không có nhà"},
        headers={**staff.approver, "If-Match": '"1"'},
    )
    assert reject.json()["properties"]["status"] == "retired"
    after = {feature["id"] for feature in client.get("/proposals", headers=staff.approver).json()["features"]}
    assert after.isdisjoint({proposed["id"], rejected["id"]})
    restored = client.post(
        f"/addresses/{rejected['id']}/restore", headers={**staff.editor, "If-Match": '"2"'}
    )
    assert restored.json()["properties"]["status"] == "proposed"


def test_the_change_feed(client: TestClient, staff: Staff) -> None:
    start = client.get("/events", params={"after": 0, "limit": 1}).json()["last_seq"]
    feature = _create(client, staff.admin, staff.home, house_number="61")
    client.patch(
        f"/addresses/{feature['id']}",
        json={"properties": {"alley": "2"}},
        headers={**staff.admin, "If-Match": '"1"'},
    )
    page = client.get("/events", params={"after": start}).json()
    assert [(e["dataset"], e["key"], e["version"], e["action"]) for e in page["events"]] == [
        ("addresses", feature["id"], 1, "create"),
        ("addresses", feature["id"], 2, "update"),
    ]
    assert page["last_seq"] == page["events"][-1]["seq"] == start + 2
    assert client.get("/events", params={"after": page["last_seq"]}).json()["events"] == []
    assert _error(client.get("/events", params={"limit": 0}), 422)


def _search_point(client: TestClient, query: str) -> list[float] | None:
    features = client.get("/search", params={"q": query, "limit": 1}).json()["features"]
    return features[0]["geometry"]["coordinates"] if features else None


def _tile_codes(client: TestClient, lon: float, lat: float) -> set[str]:
    answer = client.get(f"/tiles/addresses/{tile_for(lon, lat, 16)}.mvt")
    if answer.status_code != 200 or not answer.content:
        return set()
    layer = mapbox_vector_tile.decode(answer.content).get("addresses", {"features": []})
    return {f["properties"].get("registry_code") for f in layer["features"]}


def test_a_moved_point_shows_in_tiles_and_search_within_a_second(client: TestClient, staff: Staff) -> None:
    street = f"Phố Thử {uuid.uuid4().hex[:6]}"
    feature = _create(client, staff.admin, staff.home, house_number="7", street=street)
    lon, lat = feature["geometry"]["coordinates"]
    query = f"7 {street}"
    deadline = time.monotonic() + 60  # a new street needs a rebuild of the index (seconds)
    while _search_point(client, query) != pytest.approx([lon, lat], abs=1e-6) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _search_point(client, query) == pytest.approx([lon, lat], abs=1e-6)
    target = [lon + 0.002, lat + 0.001]
    moved = client.patch(
        f"/addresses/{feature['id']}",
        json={"geometry": {"type": "Point", "coordinates": target}},
        headers={**staff.admin, "If-Match": '"1"'},
    )
    assert moved.status_code == 200, moved.text
    deadline = time.monotonic() + 1.0
    seen_search = seen_tile = False
    while time.monotonic() < deadline and not (seen_search and seen_tile):
        found = _search_point(client, query)
        seen_search = seen_search or (found is not None and found == pytest.approx(target, abs=1e-6))
        seen_tile = seen_tile or feature["id"] in _tile_codes(client, *target)
        time.sleep(0.05)
    assert seen_search, "search still shows the old point a second after the edit"
    assert seen_tile, "the tile at the new point does not show it a second after the edit"
    same_tile = tile_for(lon, lat, 16) == tile_for(target[0], target[1], 16)
    assert same_tile or feature["id"] not in _tile_codes(client, lon, lat)


@pytest.mark.parametrize("key", ["%C2%B2", "%C2%B9", "%D9%A3", "12a"])
def test_a_key_of_digits_other_than_ascii_is_not_found(client: TestClient, key: str) -> None:
    """'²', '¹' and Arabic-Indic '٣' pass str.isdigit() but are no id: 404 naming the key, never a 500."""
    answer = client.get(f"/units/{key}/history")
    assert answer.status_code == 404, answer.text
    assert "is a number" in answer.json()["error"]["message"]
