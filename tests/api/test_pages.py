"""The pages: the viewer URL of a code (negotiated on Accept) and the documentation served without a CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from addresses.codes import encode
from tests.api.records import committed_address

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.fixture
def registry_code(engine: Engine) -> Iterator[str]:
    """An address committed for the app to see (its pool has other connections), deleted afterwards."""
    with committed_address(engine, house_number="9") as record:
        yield record.registry_code


def test_a_browser_gets_the_viewer_and_a_program_gets_json(client: TestClient, registry_code: str) -> None:
    code = registry_code
    page = client.get("/", params={"code": code}, headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<div id="map"' in page.text

    as_json = client.get("/", params={"code": code}, headers={"Accept": "application/json"})
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json() == client.get(f"/codes/{code}").json()
    assert as_json.headers["etag"] == '"1"'

    as_geojson = client.get("/", params={"code": code}, headers={"Accept": "application/geo+json"})
    assert as_geojson.headers["content-type"] == "application/geo+json"
    assert as_geojson.json() == client.get(f"/addresses/{code}").json()

    ranked = client.get("/", params={"code": code}, headers={"Accept": "text/html;q=0.5, application/json"})
    assert ranked.headers["content-type"] == "application/json"


def test_a_location_code_and_errors_answer_json_too(client: TestClient) -> None:
    code = encode(105.338, 20.817)
    answer = client.get("/", params={"code": code}, headers={"Accept": "application/geo+json"})
    assert answer.status_code == 200
    assert answer.json()["code"] == code
    assert "cell" in answer.json()

    mistyped = client.get("/", params={"code": code[:-1] + "A"}, headers={"Accept": "application/json"})
    assert mistyped.status_code == 400
    assert mistyped.json()["error"]["type"] == "InvalidCodeError"
    # a browser never gets an error page for a code: the viewer says what is wrong
    assert client.get("/", params={"code": "nonsense"}, headers={"Accept": BROWSER_ACCEPT}).status_code == 200
    # no code: always the page
    assert (
        client.get("/", headers={"Accept": "application/json"})
        .headers["content-type"]
        .startswith("text/html")
    )


@pytest.mark.parametrize(("page", "assets"), [("/docs", 2), ("/redoc", 1)])
def test_documentation_pages_load_only_assets_of_this_server(
    client: TestClient, page: str, assets: int
) -> None:
    html = client.get(page).text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert all(url.startswith("/docs-assets/") for url in urls), urls
    assert "googleapis" not in html
    assert "cdn." not in html
    loaded = [url for url in urls if url.endswith((".js", ".css"))]
    assert len(loaded) == assets
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert len(answer.content) > 500


def test_only_the_named_documentation_assets_are_served(client: TestClient) -> None:
    assert client.get("/docs-assets/package.json").status_code == 404
    assert client.get("/docs-assets/..%2Fpackage.json").status_code == 404
