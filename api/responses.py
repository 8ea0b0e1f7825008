"""Answers in one place: the media types, the GeoJSON response class, and the documented error answers.

The ``responses=`` of a route are built here from the one error table
(:data:`api.errors.STATUS_CODES`): a route names the statuses it may answer, and each
is documented with the one JSON error shape and what it means (a route may say more
about its own case with ``notes``). Every route also documents 422 (a parameter
FastAPI cannot read), 500 (a bug, in the same shape) and 503 (the database or a pool
is busy, with Retry-After). A status the table cannot answer is refused at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from fastapi.responses import JSONResponse

from api.errors import STATUS_CODES
from api.schemas import ErrorResponse

JSON: Final = "application/json"
GEOJSON: Final = "application/geo+json"

Responses = dict[int | str, dict[str, Any]]
"""The ``responses=`` of a route decorator (OpenAPI answers by status)."""


class GeoJSONResponse(JSONResponse):
    """A JSON answer labelled application/geo+json."""

    media_type = GEOJSON


STATUS_MEANINGS: Final[Mapping[int, str]] = {
    400: "A parameter has a value the service cannot use.",
    401: "No log-in or API token, or one that is not valid (expired, revoked, a disabled account).",
    403: "The caller is known but may not do this (its role, or a commune not assigned to it).",
    404: "No such collection, feature or unit.",
    409: "The change conflicts with what is stored.",
    410: "What was asked for is retired.",
    413: "The request body is larger than the server accepts.",
    414: "The request target (path and query string) is longer than the server accepts.",
    422: "A parameter has the wrong type (e.g. not a number).",
    429: "Too many failed log-ins for this account: wait Retry-After seconds.",
    428: "The edit does not say which version it changes: send If-Match (or expected_version).",
    431: "The request has too many header fields, or too many bytes of them.",
    500: "An internal error (a bug): it has been logged.",
    503: "The database is unavailable or every connection is busy: retry after Retry-After seconds.",
}
"""What each error status of the table means, as the OpenAPI document says it."""

ALWAYS: Final = (422, 500, 503)
"""The statuses any route may answer: an unreadable parameter, a bug, a busy or unreachable database."""

_CHALLENGE: Final = {
    "WWW-Authenticate": {"description": "Bearer: how to authenticate.", "schema": {"type": "string"}}
}


def _error_content() -> dict[str, Any]:
    """The JSON error shape by reference, for a route whose own media type is another."""
    return {JSON: {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}


def _answered(status: int) -> int:
    """The status, checked to be one the error table answers (or FastAPI's 422)."""
    if status not in STATUS_CODES.values():
        raise ValueError(f"no error of api.errors.STATUS_CODES answers {status}: add the error to the table")
    return status


def error_responses(
    *statuses: int, notes: Mapping[int, str] | None = None, json_route: bool = True
) -> Responses:
    """The documented error answers of a route: ``statuses`` and :data:`ALWAYS`, in the one JSON shape.

    ``notes`` replaces the meaning of a status for this route. A route whose success is
    not application/json (``json_route=False``: GeoJSON, MVT) still answers its errors in
    JSON, so they refer to the ErrorResponse schema instead of taking the route's media type.

    >>> documented = error_responses(404, notes={404: "No such code."})
    >>> sorted(documented), documented[404]["description"]
    ([404, 422, 500, 503], 'No such code.')
    >>> error_responses(418)
    Traceback (most recent call last):
    ValueError: no error of api.errors.STATUS_CODES answers 418: add the error to the table
    """
    meanings = {**STATUS_MEANINGS, **(notes or {})}
    documented: Responses = {}
    for status in sorted({*map(_answered, statuses), *ALWAYS}):
        shape: dict[str, Any] = {"model": ErrorResponse} if json_route else {"content": _error_content()}
        documented[status] = {"description": meanings[status], **shape}
    if 401 in documented:
        documented[401]["headers"] = _CHALLENGE
    return documented


ERROR_RESPONSES: Final = error_responses(400, 404)
"""The error answers of a JSON route that reads parameters and may not find what is named."""
GEOJSON_ROUTE_ERROR_RESPONSES: Final = error_responses(400, 404, json_route=False)
"""The same for a route whose success is not application/json (GeoJSON, vector tiles)."""
