"""The one JSON shape of every error answer, in a module light enough for the server's workers.

``diachiso serve --workers N`` starts each worker by unpickling its uvicorn configuration,
which imports :mod:`api.server` (its HTTP protocol class) before the worker can answer its
supervisor's health check; so :mod:`api.server` and this module import nothing of the app.
"""

from __future__ import annotations


def error_body(status: int, kind: str, message: str, parameter: str | None = None) -> dict[str, object]:
    """The one JSON shape of every error answer.

    >>> error_body(404, "NotFoundError", "no such code")
    {'error': {'status': 404, 'type': 'NotFoundError', 'message': 'no such code', 'parameter': None}}
    """
    return {"error": {"status": status, "type": kind, "message": message, "parameter": parameter}}
