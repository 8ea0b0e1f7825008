"""An app on the test database, served through FastAPI's TestClient (real PostGIS behind it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from addresses.settings import DatabaseSettings
from api.app import create_app
from api.settings import ApiSettings


@pytest.fixture(scope="session")
def client(engine: Engine, database_url: str) -> Iterator[TestClient]:
    """A client of the app configured on the loaded test database."""
    app = create_app(DatabaseSettings(database_url=database_url), ApiSettings())
    with TestClient(app) as test_client:
        yield test_client
