"""The one JSON shape of every error answer, in a module light enough to import anywhere.

:mod:`api.server` needs it, and every ``diachiso serve`` worker imports :mod:`api.server`
before it can answer its supervisor's health check (see :mod:`api.server`): nothing heavy here.
"""

from __future__ import annotations


def error_body(status: int, kind: str, message: str, parameter: str | None = None) -> dict[str, object]:
    """The one JSON shape of every error answer.

    >>> error_body(404, "NotFoundError", "no address 1", "code")
    {'error': {'status': 404, 'type': 'NotFoundError', 'message': 'no address 1', 'parameter': 'code'}}
    """
    return {"error": {"status": status, "type": kind, "message": message, "parameter": parameter}}
