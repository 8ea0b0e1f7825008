"""Every status the app answers comes from the one error table in api/errors.py."""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi.testclient import TestClient

from api import errors
from api.errors import STATUS_CODES, WebError
from api.settings import ApiSettings

API_DIR = Path(errors.__file__).resolve().parent


def _raised_http_exceptions(path: Path) -> list[int]:
    """The lines of ``path`` that build a Starlette/FastAPI HTTPException (a body beside the table)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "HTTPException"
    ]


def test_no_module_of_api_answers_an_http_exception_of_its_own() -> None:
    found = {
        str(path.relative_to(API_DIR)): lines
        for path in API_DIR.rglob("*.py")
        if "node_modules" not in path.parts and (lines := _raised_http_exceptions(path))
    }
    assert found == {}


def test_every_web_layer_error_has_its_status_in_the_table() -> None:
    kinds = WebError.__subclasses__()
    assert len(kinds) >= 6  # a busy batch pool is the domain's BusyError, in the table too
    assert {kind.__name__: STATUS_CODES.get(kind) for kind in kinds if kind not in STATUS_CODES} == {}


def test_a_428_and_a_413_answer_as_the_table_says(staff_client: TestClient) -> None:
    client = staff_client
    missing = client.patch("/addresses/1234567890", json={"properties": {"house_number": "1"}})
    assert missing.status_code == 428
    assert missing.json()["error"]["type"] == "PreconditionRequiredError"
    assert missing.json()["error"]["parameter"] == "If-Match"
    limit = ApiSettings().max_request_kb * 1024
    too_big = client.post(
        "/addresses", content=b"x" * (limit + 1), headers={"content-type": "application/json"}
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["type"] == "PayloadTooLargeError"
