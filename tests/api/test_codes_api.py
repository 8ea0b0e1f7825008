"""Codes, addresses, plates and edits over HTTP on the loaded test database.

Addresses are created through the API (committed, as a client would), each test at
its own point so look-ups by cell see only its own addresses; the module removes them
all at the end.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.core.failures import FailureGroup
from sqlalchemy import Engine, delete, select, update

from addresses import changes
from addresses.codes import decode, encode, format_location_code, registry_code, truncate
from addresses.schema import address, address_history

pytestmark = pytest.mark.db

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"
UNISSUED = registry_code(999_999_997)
MAI_CHAU = (105.0833, 20.6601)  # Xã Mai Châu (2025)
HOUSE = {"house_number": "12A", "alley": "3", "village_name": "Xóm Lác"}


@pytest.fixture(scope="module")
def client(staff_client: TestClient) -> TestClient:
    """The tests edit: their client sends an admin's API token (reads need none)."""
    return staff_client


def _point(n: int) -> tuple[float, float]:
    """A point in Phường Hòa Bình, a few tens of metres apart for each n (its own 60 m cell)."""
    return 105.3300 + 0.0007 * n, 20.8120


@pytest.fixture(scope="module")
def created(engine: Engine) -> Iterator[list[str]]:
    """Registry codes of the addresses the tests create; removed again at the end."""
    codes: list[str] = []
    yield codes
    ours = address.c.registry_code.in_(codes)
    with engine.begin() as conn:
        changes.record_rows(conn, table=address, where=ours)
        conn.execute(update(address).where(ours).values(successor_id=None))
        ids = [row.id for row in conn.execute(address.select().where(ours))]
        conn.execute(delete(address_history).where(address_history.c.address_id.in_(ids)))
        conn.execute(delete(address).where(ours))


def _new(lon: float, lat: float, **fields: Any) -> dict[str, Any]:
    """The body of a new address: a GeoJSON Feature (the defaults: a house in Xóm Lác)."""
    point = {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "geometry": point, "properties": {**HOUSE, **fields}}


def _change(**fields: Any) -> dict[str, Any]:
    """The body of a PATCH: the properties that change."""
    return {"properties": fields}


def _create(client: TestClient, created: list[str], lon: float, lat: float, **fields: Any) -> dict[str, Any]:
    """POST a new address (the defaults: a house in Xóm Lác); return its Feature."""
    response = client.post("/addresses", json=_new(lon, lat, **fields))
    assert response.status_code == 201, response.text
    feature: dict[str, Any] = response.json()
    created.append(feature["id"])
    return feature


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == status
    return error


def _grouped(code: str) -> str:
    return f"{code[:4]}-{code[4:7]}-{code[7:]}"


# --- create and read ---------------------------------------------------------------------------------


def test_create_answers_201_with_location_etag_and_both_codes(client: TestClient, created: list[str]) -> None:
    lon, lat = _point(1)
    response = client.post("/addresses", json=_new(lon, lat, street="  Trần  Hưng Đạo "))
    assert response.status_code == 201, response.text
    feature = response.json()
    created.append(feature["id"])
    props = feature["properties"]
    code = props["registry_code"]
    assert response.headers["location"] == f"/addresses/{code}"
    assert response.headers["etag"] == '"1"'
    assert response.headers["content-type"] == "application/geo+json"
    assert feature["type"] == "Feature"
    assert feature["id"] == code
    assert feature["geometry"] == {"type": "Point", "coordinates": [lon, lat]}
    assert len(code) == 10
    assert props["registry_code_display"] == _grouped(code)
    assert props["location_code"] == encode(lon, lat)
    assert props["location_code_display"] == format_location_code(encode(lon, lat))
    assert (props["house_number"], props["alley"], props["street"]) == ("12A", "3", "Trần Hưng Đạo")
    assert props["commune"]["code"] == "04795"
    assert props["province"]["full_name"] == "Tỉnh Phú Thọ"
    assert props["old_district"]["full_name"] == "Thành phố Hòa Bình"
    assert props["old_commune"]["code"].startswith("04")
    commune = props["commune"]["full_name"]
    assert props["label"] == f"Số 12A, ngõ 3, Trần Hưng Đạo, Xóm Lác, {commune}, Tỉnh Phú Thọ"
    assert (props["status"], props["version"], props["source"], props["is_generated"]) == (
        "active",
        1,
        "edit",
        False,
    )
    assert (props["retired"], props["successor"], props["retired_at"]) == (False, None, None)
    links = {(link["rel"], link["type"]): link["href"] for link in props["links"]}
    assert links == {
        ("self", "application/geo+json"): f"/addresses/{code}",
        ("plate", "image/svg+xml"): f"/addresses/{code}/plate.svg",
        ("plate", "image/png"): f"/addresses/{code}/plate.png",
    }


def test_get_address_in_any_spelling(client: TestClient, created: list[str]) -> None:
    feature = _create(client, created, *_point(2))
    code = feature["id"]
    spellings = [code, _grouped(code), f"{code[:4]} {code[4:7]} {code[7:]}", f" {code[:5]}–{code[5:]}"]
    for spelling in spellings:
        response = client.get(f"/addresses/{spelling}")
        assert response.status_code == 200, (spelling, response.text)
        assert response.headers["etag"] == '"1"'
        assert "link" not in response.headers
        assert response.json() == feature
    assert client.get(f"/addresses/{code[:4]}%20{code[4:]}").json()["id"] == code


def test_codes_answers_a_registry_code(client: TestClient, created: list[str]) -> None:
    feature = _create(client, created, *_point(3))
    code = feature["id"]
    body = client.get(f"/codes/{_grouped(code)}").json()
    assert (body["kind"], body["code"], body["display"]) == ("registry", code, _grouped(code))
    assert (body["retired"], body["reason"], body["successor"], body["chain"]) == (False, None, None, [])
    assert body["address"]["properties"]["label"] == feature["properties"]["label"]


def test_codes_answers_a_location_code_full_and_shorter(client: TestClient, created: list[str]) -> None:
    lon, lat = _point(4)
    first = _create(client, created, lon, lat)
    second = _create(client, created, lon + 0.00005, lat + 0.00005, house_number="14")
    full = encode(lon, lat)

    body = client.get(f"/codes/{full.lower()[:3]} {full.lower()[3:]}").json()
    assert (body["kind"], body["code"], body["display"], body["length"]) == (
        "location",
        full,
        format_location_code(full),
        8,
    )
    cell = decode(full)
    assert body["cell"]["center"] == [cell.lon, cell.lat]
    assert body["cell"]["bounds"] == list(cell.bounds)
    assert body["cell"]["size_m"] == pytest.approx([1.8, 2.16], abs=0.01)
    assert [feature["id"] for feature in body["addresses"]] == [first["id"]]
    assert body["truncated"] is False

    block = truncate(full, length=6)
    body = client.get(f"/codes/{format_location_code(block)}").json()
    assert (body["code"], body["length"]) == (block, 6)
    assert body["cell"]["size_m"] == pytest.approx([55.91, 66.9], abs=0.02)
    assert {feature["id"] for feature in body["addresses"]} == {first["id"], second["id"]}
    west, south, east, north = body["cell"]["bounds"]
    width, height = east - west, north - south
    steps = {"N": (0, 1), "NE": (1, 1), "E": (1, 0), "SE": (1, -1), "S": (0, -1), "SW": (-1, -1)}
    steps |= {"W": (-1, 0), "NW": (-1, 1)}
    assert set(body["cell"]["neighbours"]) == set(steps)  # inside the grid: all eight
    for direction, (dx, dy) in steps.items():  # each the same-size cell one step that way
        beside = decode(body["cell"]["neighbours"][direction])
        assert beside.length == 6
        assert beside.west == pytest.approx(west + dx * width)
        assert beside.south == pytest.approx(south + dy * height)
    one = client.get(f"/codes/{block}", params={"limit": 1}).json()
    assert len(one["addresses"]) == 1
    assert one["truncated"] is True


# --- plates ------------------------------------------------------------------------------------------


def test_plates_carry_both_codes(client: TestClient, created: list[str]) -> None:
    feature = _create(client, created, *_point(5))
    props = feature["properties"]
    svg = client.get(f"/addresses/{feature['id']}/plate.svg")
    assert svg.status_code == 200, svg.text
    assert svg.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(svg.content)
    assert root.tag == f"{SVG}svg"
    texts = " ".join(element.text or "" for element in root.iter(f"{SVG}text"))
    assert props["registry_code_display"] in texts
    assert props["location_code_display"] in texts

    png = client.get(f"/addresses/{_grouped(feature['id'])}/plate.png", params={"scale": 1})
    assert png.status_code == 200, png.text
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(PNG_SIGNATURE)
    assert int.from_bytes(png.content[16:20], "big") == 1200  # IHDR width at scale 1


# --- edits -------------------------------------------------------------------------------------------


def test_patch_needs_the_version_and_refuses_a_stale_one(client: TestClient, created: list[str]) -> None:
    code = _create(client, created, *_point(6))["id"]
    path = f"/addresses/{code}"

    missing = _error(client.patch(path, json=_change(house_number="12B")), 428)
    assert "If-Match" in missing["message"]
    stale = _error(client.patch(path, json=_change(house_number="12B"), headers={"If-Match": '"7"'}), 409)
    assert stale["type"] == "StaleVersionError"
    assert "version 1, not 7" in stale["message"]
    bad = _error(client.patch(path, json=_change(house_number="12B"), headers={"If-Match": "W/abc"}), 400)
    assert bad["parameter"] == "If-Match"
    assert client.get(path).json()["properties"]["version"] == 1  # nothing was written

    changed = client.patch(path, json=_change(house_number="12B", alley=None), headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    props = changed.json()["properties"]
    assert (props["version"], props["house_number"], props["alley"], props["village_name"]) == (
        2,
        "12B",
        None,
        "Xóm Lác",
    )
    assert props["label"].startswith("Số 12B, Xóm Lác, ")

    again = client.patch(path, json=_change(street="Cù Chính Lan"), headers={"If-Match": "2"})
    assert again.status_code == 200, again.text
    assert again.json()["properties"]["version"] == 3
    assert client.get(path).headers["etag"] == '"3"'


def test_patch_move_gives_a_new_location_code_and_keeps_the_registry_code(
    client: TestClient, created: list[str]
) -> None:
    feature = _create(client, created, *_point(7))
    code = feature["id"]
    point = {"type": "Point", "coordinates": list(MAI_CHAU)}
    moved = client.patch(f"/addresses/{code}", json={"geometry": point}, headers={"If-Match": "1"})
    assert moved.status_code == 200, moved.text
    props = moved.json()["properties"]
    assert props["registry_code"] == code
    assert props["location_code"] == encode(*MAI_CHAU) != feature["properties"]["location_code"]
    assert props["commune"]["full_name"] == "Xã Mai Châu"
    assert moved.json()["geometry"]["coordinates"] == list(MAI_CHAU)
    assert props["version"] == 2


def test_retire_leads_the_old_code_to_its_successor(client: TestClient, created: list[str]) -> None:
    old = _create(client, created, *_point(8))["id"]
    new = _create(client, created, *_point(9), house_number="12")["id"]

    retired = client.post(
        f"/addresses/{old}/retire",
        json={"comment": "house rebuilt", "successor": _grouped(new)},
        headers={"If-Match": '"1"'},
    )
    assert retired.status_code == 200, retired.text
    link = f'</addresses/{new}>; rel="successor-version"'
    assert retired.headers["link"] == link
    assert retired.headers["etag"] == '"2"'

    answer = client.get(f"/addresses/{old}")
    assert answer.status_code == 200
    assert answer.headers["link"] == link
    props = answer.json()["properties"]
    assert (props["status"], props["retired"], props["retirement_reason"]) == (
        "retired",
        True,
        "house rebuilt",
    )
    assert props["successor"]["id"] == new
    assert props["successor"]["properties"]["status"] == "active"
    assert [link["rel"] for link in props["links"]] == ["self"]  # no plate any more

    body = client.get(f"/codes/{old}").json()
    assert (body["kind"], body["retired"], body["reason"]) == ("registry", True, "house rebuilt")
    assert body["address"]["id"] == old
    assert body["successor"]["id"] == new
    assert [feature["id"] for feature in body["chain"]] == [new]

    gone = _error(client.get(f"/addresses/{old}/plate.svg"), 410)
    assert gone["type"] == "GoneError"
    assert _grouped(new) in gone["message"]
    assert _error(client.get(f"/addresses/{old}/plate.png"), 410)["type"] == "GoneError"
    refused = _error(
        client.patch(f"/addresses/{old}", json=_change(house_number="1"), headers={"If-Match": '"2"'}), 409
    )
    assert "restore it before editing it" in refused["message"]
    again = client.post(f"/addresses/{old}/retire", json={"comment": "again"}, headers={"If-Match": '"2"'})
    assert "cannot retire address" in _error(again, 409)["message"]


def test_merge_retires_several_into_one_all_or_nothing(client: TestClient, created: list[str]) -> None:
    first, second, third = (_create(client, created, *_point(10 + n))["id"] for n in range(3))
    start = client.get("/events", params={"after": 0, "limit": 1}).json()["last_seq"]

    merged = client.post(
        "/addresses/merge", json={"codes": [first, _grouped(second)], "into": third, "reason": "one house"}
    )
    assert merged.status_code == 200, merged.text
    events = client.get("/events", params={"after": start}).json()["events"]
    assert [(e["key"], e["version"], e["action"]) for e in events] == [
        (first, 2, "retire"),
        (second, 2, "retire"),
        (third, 2, "merge"),
    ]
    assert len({e["changeset_id"] for e in events}) == 1
    for code, action in ((first, "retire"), (third, "merge")):
        last = client.get(f"/addresses/{code}/history").json()["versions"][-1]
        assert (last["version"], last["action"], last["comment"]) == (2, action, "one house")
    body = merged.json()
    assert body["survivor"]["id"] == third
    assert [(f["id"], f["properties"]["status"]) for f in body["retired"]] == [
        (first, "retired"),
        (second, "retired"),
    ]
    assert client.get(f"/codes/{first}").json()["successor"]["id"] == third

    fourth = _create(client, created, *_point(13))["id"]
    refused = _error(client.post("/addresses/merge", json={"codes": [fourth, first], "into": third}), 409)
    assert refused["type"] == "StatusTransitionError"
    assert client.get(f"/addresses/{fourth}").json()["properties"]["status"] == "active"  # all or nothing


def test_bad_edits_are_refused_and_write_nothing(client: TestClient, created: list[str]) -> None:
    outside = _error(client.post("/addresses", json=_new(105.8522, 21.0287)), 422)
    assert (outside["type"], outside["parameter"]) == ("EditRefusedError", "geometry")
    assert "nằm ngoài tỉnh" in outside["message_vi"]
    assert _error(client.post("/addresses", json=_new(200, 20.8)), 422)["parameter"] == "geometry"
    assert (
        _error(client.post("/addresses", json=_new(105.33, 20.81, colour="blue")), 422)["parameter"]
        == "colour"
    )
    assert (
        _error(client.post("/addresses", json=_new(105.33, 20.81, street="a\x00b")), 422)["parameter"]
        == "street"
    )
    assert (
        _error(client.post("/addresses", json=_new(105.33, 20.81, status="retired")), 422)["parameter"]
        == "status"
    )
    code = _create(client, created, *_point(14))["id"]
    itself = client.post(f"/addresses/{code}/retire", json={"successor": code}, headers={"If-Match": "1"})
    assert (_error(itself, 409)["type"], _error(itself, 409)["parameter"]) == (
        "InvalidSuccessorError",
        "successor",
    )
    assert client.get(f"/addresses/{code}").json()["properties"]["status"] == "active"


# --- mistyped and unissued codes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("8VG-DHS-6HC", "check mismatch"),
        ("8VG-DHS-0HB", "invalid character at position 7"),
        ("8VG-DHS-6HBXYZ", "wrong length"),
        ("1000-000-006", "check mismatch"),
        ("1000-00O-005", "invalid character at position 7"),
    ],
)
def test_mistyped_codes_answer_400(client: TestClient, typed: str, reason: str) -> None:
    error = _error(client.get(f"/codes/{typed}"), 400)
    assert error["type"] == "InvalidCodeError"
    assert "mistyped" in error["message"]
    assert reason in error["message"]


def test_a_location_code_is_not_an_address(client: TestClient) -> None:
    error = _error(client.get("/addresses/8VG-DHS-6HB"), 400)
    assert "mistyped" in error["message"]
    assert "wrong length" in error["message"]


def test_unissued_codes_answer_404(client: TestClient) -> None:
    for path in ("/codes/{}", "/addresses/{}", "/addresses/{}/plate.svg", "/addresses/{}/plate.png"):
        error = _error(client.get(path.format(_grouped(UNISSUED))), 404)
        assert "has not been issued" in error["message"]
    missing = client.patch(
        f"/addresses/{UNISSUED}", json=_change(house_number="1"), headers={"If-Match": '"1"'}
    )
    assert _error(missing, 404)["type"] == "NotFoundError"


# --- who may edit -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def anonymous(staff_client: TestClient) -> TestClient:
    """A client of the same app sending no credentials."""
    return TestClient(staff_client.app)


def test_edits_need_credentials_reads_do_not(
    anonymous: TestClient, engine: Engine, staff_token: str, created: list[str]
) -> None:
    lon, lat = _point(15)
    new = _new(lon, lat)
    refused = anonymous.post("/addresses", json=new)
    assert "log-in" in _error(refused, 401)["message"]
    assert refused.headers["www-authenticate"] == 'Bearer realm="diachiso"'
    wrong = anonymous.post("/addresses", json=new, headers={"Authorization": "Bearer x"})
    assert "not valid" in _error(wrong, 401)["message"]
    assert anonymous.get(f"/codes/{encode(lon, lat)}").json()["addresses"] == []  # nothing written

    made = anonymous.post("/addresses", json=new, headers={"Authorization": f"Bearer {staff_token}"})
    assert made.status_code == 201, made.text
    code = made.json()["id"]
    created.append(code)
    assert anonymous.get(f"/addresses/{code}").status_code == 200  # reading needs no credentials
    patch = {"json": _change(house_number="9"), "headers": {"If-Match": '"1"'}}
    assert _error(anonymous.patch(f"/addresses/{code}", **patch), 401)
    assert _error(anonymous.post(f"/addresses/{code}/retire", json={"comment": "x"}), 401)
    assert _error(anonymous.post("/addresses/merge", json={"codes": [code], "into": code}), 401)
    patch["headers"]["Authorization"] = f"Bearer {staff_token}"
    assert anonymous.patch(f"/addresses/{code}", **patch).json()["properties"]["house_number"] == "9"
    with engine.connect() as conn:
        authors = conn.execute(
            select(address_history.c.changed_by)
            .join(address, address.c.id == address_history.c.address_id)
            .where(address.c.registry_code == code)
        ).scalars()
        assert set(authors) == {"test-admin"}  # the user name, not "api"


# --- answers match the OpenAPI document ------------------------------------------------------------------


def test_edit_answers_match_the_openapi_document(
    client: TestClient, anonymous: TestClient, created: list[str]
) -> None:
    """What schemathesis cannot do without writing (the editing routes answer it 401): real answers."""
    schema = schemathesis.openapi.from_dict(client.app.openapi())  # type: ignore[attr-defined]

    def check(method: str, path: str, response: httpx.Response, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.text
        schema[path][method].validate_response(response)
        body: dict[str, Any] = response.json() if "json" in response.headers["content-type"] else {}
        return body

    one, edit = "/addresses/{registry_code}", "/addresses/{key}"
    codes = []
    for n in (16, 17, 18):
        lon, lat = _point(n)
        codes.append(check("POST", "/addresses", client.post("/addresses", json=_new(lon, lat)), 201)["id"])
    created.extend(codes)
    with pytest.raises(FailureGroup):  # not vacuous: a code look-up is no answer of a merge
        schema["/addresses/merge"]["POST"].validate_response(client.get(f"/codes/{codes[0]}"))
    version = {"If-Match": '"1"'}
    check("PATCH", edit, client.patch(f"/addresses/{codes[0]}", json=_change(alley="5")), 428)
    check(
        "PATCH", edit, client.patch(f"/addresses/{codes[0]}", json=_change(alley="5"), headers=version), 200
    )
    check(
        "PATCH", edit, client.patch(f"/addresses/{codes[0]}", json=_change(alley="6"), headers=version), 409
    )
    check("PATCH", edit, client.patch(f"/addresses/{codes[0]}", json={"lon": "east"}, headers=version), 422)
    retire = client.post(
        f"/addresses/{codes[0]}/retire",
        json={"comment": "gone", "successor": codes[1]},
        headers={"If-Match": "2"},
    )
    check("POST", f"{edit}/retire", retire, 200)
    check("GET", one, client.get(f"/addresses/{codes[0]}"), 200)
    check("GET", "/codes/{code}", client.get(f"/codes/{codes[0]}"), 200)
    check("GET", "/codes/{code}", client.get(f"/codes/{encode(*_point(16))[:5]}"), 400)
    check("GET", f"{one}/plate.svg", client.get(f"/addresses/{codes[0]}/plate.svg"), 410)
    check("GET", f"{one}/plate.svg", client.get(f"/addresses/{codes[1]}/plate.svg"), 200)
    merged = check(
        "POST",
        "/addresses/merge",
        client.post("/addresses/merge", json={"codes": [codes[1]], "into": codes[2]}),
        200,
    )
    assert merged["survivor"]["id"] == codes[2]
    chained = check("GET", "/codes/{code}", client.get(f"/codes/{codes[0]}"), 200)
    assert [feature["id"] for feature in chained["chain"]] == codes[1:]  # retired, then merged
    assert chained["successor"]["id"] == codes[2]
    check("POST", "/addresses", anonymous.post("/addresses", json=_new(105.3, 20.81)), 401)
