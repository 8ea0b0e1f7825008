"""The administrative units API: list, one unit with geometry and lineage, conversion of old units."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == status
    return error


def test_list_units_filtered(client: TestClient) -> None:
    body = client.get("/units", params={"level": 3, "at": "2025-07-01", "limit": 100}).json()
    assert body["number_matched"] == body["number_returned"] == 46
    assert {unit["parent_code"] for unit in body["items"]} == {"25"}
    assert all(unit["is_current"] for unit in body["items"])


def test_list_units_by_parent_and_accent_free_name(client: TestClient) -> None:
    children = client.get("/units", params={"parent": "148", "limit": 50}).json()
    assert children["number_matched"] == 19 + 6  # and the periods of 6 communes ending in 2020 or 2021
    found = client.get("/units", params={"q": "thinh lang"}).json()["items"]
    assert [(unit["code"], unit["full_name"]) for unit in found] == [("04795", "Phường Thịnh Lang")]


def test_list_units_pages(client: TestClient) -> None:
    body = client.get("/units", params={"limit": 10, "offset": 200}).json()
    assert body["number_matched"] == 210 + 111
    assert body["number_returned"] == 10
    assert body["offset"] == 200


@pytest.mark.parametrize(
    ("params", "status", "parameter"),
    [
        ({"level": 4}, 422, "level"),
        ({"at": "2025-02-30"}, 422, "at"),
        ({"limit": 0}, 422, "limit"),
        ({"limit": 5000}, 400, "limit"),
        ({"parent": "x"}, 400, "parent"),
    ],
)
def test_list_units_bad_parameters(
    client: TestClient, params: dict[str, object], status: int, parameter: str
) -> None:
    assert _error(client.get("/units", params=params), status)["parameter"] == parameter


def test_one_unit_with_geometry_lineage_and_other_periods(client: TestClient) -> None:
    body = client.get("/units/04795").json()
    assert body["unit"]["full_name"] == "Phường Hòa Bình"
    assert body["resolution"] == "current"
    assert body["geometry"]["type"] == "MultiPolygon"
    assert [u["full_name"] for u in body["other_periods"]] == ["Phường Thịnh Lang"]
    assert "Phường Thịnh Lang" in body["note"]
    predecessors = {link["unit"]["full_name"]: link["kind"] for link in body["predecessors"]}
    assert predecessors["Phường Thịnh Lang"] == "full"
    assert len(predecessors) == 7
    assert body["successors"] == []


def test_one_unit_at_a_date(client: TestClient) -> None:
    body = client.get("/units/4795", params={"at": "2024-06-01"}).json()
    assert body["unit"]["full_name"] == "Phường Thịnh Lang"
    assert body["resolution"] == "at"
    assert body["geometry"] is None
    assert body["label_point"]["type"] == "Point"
    assert [(s["unit"]["code"], s["kind"]) for s in body["successors"]] == [("04795", "full")]


def test_unknown_and_malformed_codes(client: TestClient) -> None:
    assert _error(client.get("/units/99999"), 404)["type"] == "NotFoundError"
    assert _error(client.get("/units/abc"), 400)["parameter"] == "code"
    assert _error(client.get("/units/151", params={"at": "2024-01-01"}), 404)["type"] == "NotFoundError"


def test_convert_a_split_commune_by_code(client: TestClient) -> None:
    body = client.get("/units/convert", params={"code": "04891"}).json()
    assert body["source"]["full_name"] == "Xã Vầy Nưa"
    assert [(s["unit"]["full_name"], s["kind"], s["basis"]) for s in body["successors"]] == [
        ("Phường Thống Nhất", "partial", "lineage"),
        ("Xã Tiền Phong", "partial", "lineage"),
    ]


def test_convert_by_name_district_and_province(client: TestClient) -> None:
    params = {"name": "Cao Sơn", "district": "Lương Sơn", "province": "Hòa Bình"}
    body = client.get("/units/convert", params=params).json()
    assert body["source"]["code"] == "04957"
    assert {s["unit"]["code"] for s in body["successors"]} == {"04924", "04960"}


def test_convert_an_ambiguous_name_asks_for_the_district(client: TestClient) -> None:
    error = _error(client.get("/units/convert", params={"name": "Cao Sơn"}), 400)
    assert error["type"] == "AmbiguousUnitError"
    assert error["parameter"] == "district"
    assert "Huyện Đà Bắc" in error["message"]
    assert "Huyện Lương Sơn" in error["message"]


def test_convert_an_abolished_district_through_its_communes(client: TestClient) -> None:
    body = client.get("/units/convert", params={"code": "151"}).json()
    assert body["source"]["full_name"] == "Huyện Kỳ Sơn"
    assert {s["basis"] for s in body["successors"]} == {"communes"}
    assert {"04894", "04897"} <= {s["unit"]["code"] for s in body["successors"]}


def test_convert_a_2019_commune_through_2020_to_2025(client: TestClient) -> None:
    body = client.get("/units/convert", params={"name": "Hạ Bì", "district": "Kim Bôi"}).json()
    assert body["source"]["code"] == "05029"
    [successor] = body["successors"]
    steps = [(link["unit"]["full_name"], link["change"], link["effective_date"]) for link in successor["via"]]
    assert steps[0] == ("Thị trấn Bo", "merged", "2020-01-01")
    assert steps[1][1:] == ("merged", "2025-07-01")
    assert successor["unit"]["full_name"] == steps[1][0]
    assert successor["unit"]["is_current"]
    assert successor["confidence"] == "medium"  # Hạ Bì -> Bo rests on Wikipedia-derived sources
    assert "Xã Hạ Bì" in body["note"]
    assert "Thị trấn Bo" in body["note"]


def test_convert_a_code_of_several_periods_at_a_date(client: TestClient) -> None:
    body = client.get("/units/convert", params={"code": "04918", "at": "2008-01-01"}).json()
    assert (body["source"]["full_name"], body["source"]["parent_code"]) == ("Xã Trung Minh", "151")
    [successor] = body["successors"]
    assert [link["change"] for link in successor["via"]] == ["district_changed", "renamed", "merged"]


def test_convert_a_commune_that_left_the_province(client: TestClient) -> None:
    body = client.get("/units/convert", params={"name": "Yên Bình", "district": "Lương Sơn"}).json()
    assert body["successors"] == []
    assert body["departure"]["effective_date"] == "2008-08-01"
    assert "Thành phố Hà Nội" in body["note"]
    assert "no successor in this database" in body["note"]


def test_lineage_links_say_what_changed(client: TestClient) -> None:
    body = client.get("/units/05203", params={"at": "2019-06-01"}).json()  # Xã Tân Mai, split in 2020
    assert body["unit"]["full_name"] == "Xã Tân Mai"
    links = {link["unit"]["full_name"]: link for link in body["successors"]}
    assert set(links) == {"Xã Tân Thành", "Xã Sơn Thủy"}
    assert all(link["change"] == "split" and link["kind"] == "partial" for link in links.values())
    assert links["Xã Sơn Thủy"]["legal_basis"] == "830/NQ-UBTVQH14"
    assert "xóm" in links["Xã Sơn Thủy"]["note"]


@pytest.mark.parametrize(
    ("params", "status", "parameter"),
    [
        ({}, 400, "code"),
        ({"code": "04891", "name": "Vầy Nưa"}, 400, "name"),
        ({"name": "Atlantis"}, 404, None),
    ],
)
def test_convert_needs_one_way_to_name_the_unit(
    client: TestClient, params: dict[str, str], status: int, parameter: str | None
) -> None:
    assert _error(client.get("/units/convert", params=params), status)["parameter"] == parameter


def test_every_units_parameter_is_described_in_the_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/units", "/units/convert", "/units/{code}", "/ogc/collections/{collectionId}/items"):
        for parameter in paths[path]["get"]["parameters"]:
            assert parameter.get("description"), f"{path} {parameter['name']}"
            assert parameter["schema"].get("examples"), f"{path} {parameter['name']}"
        assert set(paths[path]["get"]["responses"]) >= {"200", "400", "404", "422"}
