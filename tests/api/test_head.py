"""HEAD on every GET operation of the OpenAPI document: GET's status and headers, no body."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from addresses.feed import record_import
from tests.api.records import committed_address

PATH_VALUES = {"layer": "units", "z": "8", "x": "202", "y": "112"}
"""Path parameters the document gives no example for (a tile over Hoa Binh city)."""
COMPARED_HEADERS = ("content-type", "content-length", "etag", "cache-control", "link", "content-crs")


@pytest.fixture(scope="module")
def registry_code(engine: Engine) -> Iterator[str]:
    """An address committed for the app to see, deleted afterwards (and a changeset: /changesets/1)."""
    with committed_address(engine, house_number="3") as record:
        with engine.begin() as conn:
            record_import(conn, dataset="addresses", author="test")
        yield record.registry_code


def _example(parameter: dict[str, Any]) -> str:
    schema = parameter.get("schema", {})
    examples = parameter.get("examples") or schema.get("examples")
    if isinstance(examples, dict):
        examples = [value["value"] for value in examples.values()]
    if examples:
        return str(examples[0])
    return PATH_VALUES[parameter["name"]]


def _get_requests(client: TestClient, registry_code: str) -> list[tuple[str, dict[str, str]]]:
    """Each GET operation as a path and its required query parameters, filled with examples."""
    requests = []
    for template, operations in client.get("/openapi.json").json()["paths"].items():
        if "get" not in operations:
            continue
        path, query = template, {}
        for parameter in operations["get"].get("parameters", []):
            an_address = parameter["name"] == "registry_code" or template.startswith("/addresses/{key}")
            value = registry_code if an_address else _example(parameter)
            if parameter["in"] == "path":
                path = path.replace("{" + parameter["name"] + "}", value)
            elif parameter["in"] == "query" and parameter.get("required"):
                query[parameter["name"]] = value
        requests.append((path, query))
    return requests


def test_head_answers_every_get_route_like_get_without_a_body(
    staff_client: TestClient, registry_code: str
) -> None:
    client = staff_client  # with an API token: /auth/me answers 200 too
    requests = _get_requests(client, registry_code)
    assert len(requests) >= 20
    found = staff_only = 0
    for path, query in requests:
        got = client.get(path, params=query)
        head = client.head(path, params=query)
        assert head.status_code == got.status_code, (path, query, head.status_code, got.text[:200])
        assert head.content == b"", path
        for name in COMPARED_HEADERS:
            if name == "content-length" and "content-length" not in got.headers:
                continue  # a streamed answer
            assert head.headers.get(name) == got.headers.get(name), (path, name)
        found += got.status_code == 200
        staff_only += got.status_code == 401
    assert found >= len(requests) - staff_only - 1, "most examples should name something that exists"


def test_head_of_a_post_only_route_is_still_refused(client: TestClient) -> None:
    assert client.head("/batch").status_code == 405
