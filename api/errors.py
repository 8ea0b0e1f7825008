"""One table maps domain errors to HTTP status codes; every error answers with one JSON shape.

{"error": {"status": 404, "type": "NotFoundError", "message": "...", "parameter": null}}
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from addresses.errors import (
    AmbiguousUnitError,
    ConflictError,
    DatabaseSetupError,
    DiachisoError,
    GoneError,
    ImportValidationError,
    InvalidCodeError,
    InvalidParameterError,
    NotFoundError,
    OutOfTerritoryError,
)

#: Domain error class -> HTTP status. The first matching class (in MRO order) wins.
STATUS_CODES: dict[type[DiachisoError], int] = {
    AmbiguousUnitError: 400,
    InvalidCodeError: 400,
    InvalidParameterError: 400,
    OutOfTerritoryError: 400,
    ImportValidationError: 422,
    NotFoundError: 404,
    ConflictError: 409,
    GoneError: 410,
    DatabaseSetupError: 503,
    DiachisoError: 400,
}


def status_for(error: DiachisoError) -> int:
    """The HTTP status of a domain error, from the table."""
    for cls in type(error).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500


def error_body(status: int, kind: str, message: str, parameter: str | None = None) -> dict[str, object]:
    """The one JSON shape of every error answer."""
    return {"error": {"status": status, "type": kind, "message": message, "parameter": parameter}}


async def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DiachisoError)
    status = status_for(error)
    parameter = getattr(error, "parameter", None)
    return JSONResponse(error_body(status, type(error).__name__, str(error), parameter), status_code=status)


def json_syntax_message(document: object, position: int, reason: str) -> str:
    """Where a request body's JSON breaks: line and column (1-based) from the character offset.

    >>> json_syntax_message('{"lon": 105.3,\\n "lat": }', 23, "Expecting value")
    'body: invalid JSON at line 2, column 9 (character 23): Expecting value'
    """
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else str(document)
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f"body: invalid JSON at line {line}, column {column} (character {position}): {reason}"


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {}
    if first.get("type") == "json_invalid":  # loc is ("body", character offset): say line and column
        position = int(first["loc"][-1]) if str(first["loc"][-1]).isdigit() else 0
        reason = str(first.get("ctx", {}).get("error", "JSON decode error"))
        message = json_syntax_message(error.body, position, reason)
        return JSONResponse(error_body(422, "ValidationError", message, "body"), status_code=422)
    location = [str(part) for part in first.get("loc", ()) if part not in ("query", "path", "body")]
    parameter = ".".join(location) or None
    message = f"{parameter}: {first.get('msg', 'invalid value')}" if parameter else str(first.get("msg"))
    return JSONResponse(error_body(422, "ValidationError", message, parameter), status_code=422)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    return JSONResponse(
        error_body(error.status_code, "HTTPError", str(error.detail)),
        status_code=error.status_code,
        headers=getattr(error, "headers", None),
    )


def add_exception_handlers(app: FastAPI) -> None:
    """Install the handlers that turn every error into the one JSON shape."""
    app.add_exception_handler(DiachisoError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
