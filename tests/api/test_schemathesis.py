"""Property-based tests of the OGC, units, codes and addresses endpoints from their OpenAPI document.

Every operation under /ogc, /units, /codes and /addresses gets generated requests (schemathesis),
valid ones and invalid ones, a bounded number of each so the whole file runs in well under a
minute. No answer may be a server error; each must use a documented status code and content type
and match its response schema. Schemathesis sends no credentials, so the editing operations
answer 401 and never change the session's database.

schemathesis' lazy pytest loader (``from_fixture``) does not run under pytest 9, so the
schema is loaded in a fixture and each operation's strategy is driven with ``@given``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from addresses.settings import DatabaseSettings
from api.app import create_app
from api.settings import ApiSettings

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
OURS = re.compile(r"^/(ogc|units|codes|addresses)(/|$)")
EXAMPLES = 40


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation tested, read from an app that is never started."""
    app = create_app(DatabaseSettings(database_url="postgresql://unused@127.0.0.1/unused"), ApiSettings())
    paths = app.openapi()["paths"]
    return [(method.upper(), path) for path in paths if OURS.match(path) for method in paths[path]]


@pytest.fixture(scope="module")
def api_schema(engine: Engine, database_url: str) -> schemathesis.BaseSchema:
    """The app's OpenAPI document, the app running on the test database."""
    settings = ApiSettings(max_limit=50)  # edits answer 401: schemathesis sends no credentials
    app = create_app(DatabaseSettings(database_url=database_url), settings)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_the_operations_are_found() -> None:
    assert ("GET", "/ogc/collections/{collectionId}/items") in _operations()
    assert ("GET", "/units/convert") in _operations()
    assert ("PATCH", "/addresses/{key}") in _operations()


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_server_errors_and_answers_match_the_schema(
    api_schema: schemathesis.BaseSchema, method: str, path: str, mode: schemathesis.GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(checks=CHECKS)

    run()
