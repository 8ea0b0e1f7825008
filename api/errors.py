"""One table maps domain and service errors to HTTP status codes; every error answers with one JSON shape.

The web layer's own refusals (401 no credentials, 413 body, 414 target, 428 version, 431
headers) are classes here too, mapped in the same table, raised by routes and answered
by the ASGI guards of api/middleware.py through :func:`error_answer`; so is a request
FastAPI cannot read (422). :mod:`api.responses` documents the answers from this table.

{"error": {"status": 404, "type": "NotFoundError", "message": "...", "parameter": null}}

A 503 (the database is down, every connection or batch slot is busy) carries ``Retry-After``; an
error no entry of the table covers is a bug: 500, in the same shape, and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount

from addresses.errors import (
    AmbiguousUnitError,
    AuthenticationError,
    BusyError,
    ConflictError,
    DatabaseSetupError,
    DiachisoError,
    EditRefusedError,
    GoneError,
    ImportValidationError,
    InvalidCodeError,
    InvalidParameterError,
    LoginThrottledError,
    NotFoundError,
    OutOfTerritoryError,
    PermissionDeniedError,
)
from api.deps import RETRY_AFTER_S, ServiceBusyError
from api.error_shape import error_body

log = logging.getLogger(__name__)


class WebError(Exception):
    """An error of the web layer itself (not of the domain): the parameter at fault, extra headers."""

    def __init__(
        self, message: str, *, parameter: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        """Keep the message, the parameter it names and the headers the answer carries."""
        super().__init__(message)
        self.parameter = parameter
        self.headers = dict(headers or {})


class UnauthorizedError(WebError):
    """A write with no credentials at all (neither an API token nor a session cookie)."""


class PreconditionRequiredError(WebError):
    """An edit that does not say which version it was made on."""


class PayloadTooLargeError(WebError):
    """A request body over the limit of its path."""


class URITooLongError(WebError):
    """A request target (path and query string) over the limit."""


class HeaderFieldsTooLargeError(WebError):
    """Too many header fields, or too many bytes of them."""


class NotInstalledError(WebError):
    """A static file the server needs was not installed (npm ci was not run)."""


#: Error class -> HTTP status. The first matching class (in MRO order) wins.
STATUS_CODES: dict[type[Exception], int] = {
    AmbiguousUnitError: 400,
    InvalidCodeError: 400,
    InvalidParameterError: 400,
    OutOfTerritoryError: 400,
    ImportValidationError: 422,
    RequestValidationError: 422,
    EditRefusedError: 422,
    NotFoundError: 404,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    LoginThrottledError: 429,
    ConflictError: 409,
    GoneError: 410,
    DatabaseSetupError: 503,
    BusyError: 503,
    DiachisoError: 500,
    # the service, not the request: busy, or the database unreachable (down, restarting, timed out)
    ServiceBusyError: 503,
    sa_exc.TimeoutError: 503,
    sa_exc.OperationalError: 503,
    sa_exc.InterfaceError: 503,
    # the web layer's own refusals
    UnauthorizedError: 401,
    URITooLongError: 414,
    PayloadTooLargeError: 413,
    PreconditionRequiredError: 428,
    HeaderFieldsTooLargeError: 431,
    NotInstalledError: 503,
}

UNAVAILABLE_MESSAGE: Final = "the database is unavailable; retry shortly"


def status_for(error: Exception) -> int:
    """The HTTP status of an error, from the table (500 when no entry covers it).

    >>> status_for(NotFoundError("no such code")), status_for(ServiceBusyError(1.0)), status_for(KeyError())
    (404, 503, 500)
    >>> status_for(ValueError("a bug, not a bad request")), status_for(PreconditionRequiredError("If-Match"))
    (500, 428)
    """
    for cls in type(error).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500


def _message(error: Exception, status: int) -> tuple[str, str]:
    """The type and message shown for an error: a database failure says so, never its internals."""
    if isinstance(error, sa_exc.SQLAlchemyError) and status == 503:
        return "DatabaseUnavailable", UNAVAILABLE_MESSAGE
    if status == 500 and not isinstance(error, DiachisoError):
        return "InternalError", "an internal error happened; it has been logged"
    return type(error).__name__, str(error)


def error_answer(error: Exception) -> tuple[int, dict[str, object], dict[str, str]]:
    """The status, JSON body and headers answering an error (Retry-After on a 503), from the table.

    >>> status, body, _ = error_answer(PayloadTooLargeError("too big", parameter="body"))
    >>> status, body["error"]
    (413, {'status': 413, 'type': 'PayloadTooLargeError', 'message': 'too big', 'parameter': 'body'})
    >>> error_answer(BusyError("every batch slot is taken", retry_after_s=5))[2]
    {'Retry-After': '5'}
    """
    status = status_for(error)
    if status >= 500:
        log.error("%s answered %d", type(error).__name__, status, exc_info=status == 500)
    kind, message = _message(error, status)
    parameter = getattr(error, "parameter", None)
    retry = status in (429, 503)
    headers = {"Retry-After": str(getattr(error, "retry_after_s", RETRY_AFTER_S))} if retry else {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="diachiso"'
    headers.update(getattr(error, "headers", None) or {})
    return status, _with_extras(error_body(status, kind, message, parameter), error), headers


def _with_extras(body: dict[str, object], error: Exception) -> dict[str, object]:
    """Add what an editing error carries: the Vietnamese message, the feature as it now is (409)."""
    message_vi = getattr(error, "message_vi", None)
    if isinstance(message_vi, str) and isinstance(body["error"], dict):
        body["error"]["message_vi"] = message_vi
    current = getattr(error, "state", None)
    if current is not None:
        body["current"] = current
    return body


async def _table_error(_request: Request, error: Exception) -> JSONResponse:
    """Any error of the table (and, as 500, any other) in the one JSON shape."""
    status, body, headers = error_answer(error)
    return JSONResponse(body, status_code=status, headers=headers or None)


def json_syntax_message(document: object, position: int, reason: str) -> str:
    """Where a request body's JSON breaks: line and column (1-based) from the character offset.

    >>> json_syntax_message('{"lon": 105.3,\\n "lat": }', 23, "Expecting value")
    'body: invalid JSON at line 2, column 9 (character 23): Expecting value'
    """
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else str(document)
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f"body: invalid JSON at line {line}, column {column} (character {position}): {reason}"


def validation_message(error: RequestValidationError) -> tuple[str, str | None]:
    """What a request FastAPI could not read says, and the parameter (or ``body``) at fault."""
    first = error.errors()[0] if error.errors() else {}
    if first.get("type") == "json_invalid":  # loc is ("body", character offset): say line and column
        position = int(first["loc"][-1]) if str(first["loc"][-1]).isdigit() else 0
        reason = str(first.get("ctx", {}).get("error", "JSON decode error"))
        return json_syntax_message(error.body, position, reason), "body"
    location = [str(part) for part in first.get("loc", ()) if part not in ("query", "path", "body")]
    parameter = ".".join(location) or None
    message = f"{parameter}: {first.get('msg', 'invalid value')}" if parameter else str(first.get("msg"))
    return message, parameter


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    status = status_for(error)
    message, parameter = validation_message(error)
    return JSONResponse(error_body(status, "ValidationError", message, parameter), status_code=status)


HTTP_METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (for the Allow header of a 405).

    Routes are asked whether they would take the path with each method, so the answer is
    the same however the routers are nested (mounted files answer their own 405).
    """
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    return [
        method
        for method in HTTP_METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    headers = dict(getattr(error, "headers", None) or {})
    if error.status_code == 405 and (methods := allowed_methods(request)):
        headers["Allow"] = ", ".join(methods)
    return JSONResponse(
        error_body(error.status_code, "HTTPError", str(error.detail)),
        status_code=error.status_code,
        headers=headers or None,
    )


def add_exception_handlers(app: FastAPI) -> None:
    """Install the handlers that turn every error into the one JSON shape."""
    for error_class in STATUS_CODES:
        app.add_exception_handler(error_class, _table_error)
    app.add_exception_handler(Exception, _table_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
