"""Health answers with the schema revision and what is loaded."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from addresses import migrate


def test_health_counts_the_bundled_data(client: TestClient, engine: Engine) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["schema_revision"] == migrate.head_revision(engine)
    assert body["counts"]["admin_unit"] == 210
    assert body["counts"]["unit_lineage"] == 155


def test_unknown_route_answers_the_error_shape(client: TestClient) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


def test_index_page_is_served(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "diachiso" in response.text
