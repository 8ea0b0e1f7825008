"""ASGI middleware of the app: request size limit, HEAD as GET (gzip and CORS come from Starlette)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body

#: Paths that check their own (larger) upload limit.
OWN_LIMIT_PREFIXES = ("/batch",)


class RequestSizeLimit:
    """Answer 413 (in the app's JSON error shape) to a request body larger than the limit."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check Content-Length before the app reads the body."""
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(OWN_LIMIT_PREFIXES):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send, int(length))
            return
        await self.app(scope, receive, send)

    async def _refuse(self, send: Send, length: int) -> None:
        """Send the 413 answer."""
        message = f"request body of {length} bytes is larger than the limit of {self.max_bytes} bytes"
        body = json.dumps(error_body(413, "PayloadTooLarge", message, "body")).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class HeadAsGet:
    """Answer HEAD on every GET route as GET would, without the body (FastAPI alone answers 405).

    The request goes through as GET, so status and headers (Content-Type, Content-Length,
    ETag...) are those of GET; only the body is dropped. The OpenAPI document keeps listing
    GET only.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass GET down for a HEAD request and keep the answer's body from the client."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
