"""An app on the test database, served through FastAPI's TestClient (real PostGIS behind it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from addresses.settings import DatabaseSettings
from api.app import create_app
from api.settings import ApiSettings
from tests.accounts import create_token


@pytest.fixture(scope="session")
def app_client(engine: Engine, database_url: str) -> Iterator[TestClient]:
    """A client of the app configured on the loaded test database (the app runs for the session)."""
    app = create_app(DatabaseSettings(database_url=database_url), ApiSettings())
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def client(app_client: TestClient) -> TestClient:
    """A client of the app, sending no credentials (a module may override it with staff_client)."""
    return app_client


@pytest.fixture(scope="session")
def staff_token(engine: Engine) -> str:
    """An API token of an admin account (every commune), committed."""
    with engine.begin() as conn:
        return create_token(conn, username="test-admin", role="admin", name="tests")


@pytest.fixture(scope="session")
def staff_client(app_client: TestClient, staff_token: str) -> TestClient:
    """A client of the same app sending the admin's API token with every request."""
    return TestClient(app_client.app, headers={"Authorization": f"Bearer {staff_token}"})
