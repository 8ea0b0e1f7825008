"""ASGI guards of the app, run before routing, authentication of edits and body parsing.

Each answers a bad request itself, in the app's JSON error shape, before anything
costly happens (gzip and CORS come from Starlette):

- :class:`HeaderLimits`: a request target (path and query) over 8 KiB: 414; too many or
  too large header fields: 431.
- :class:`TextParameterCheck`: a query parameter or the path that is not UTF-8 or holds
  a control character (NUL...): 400 naming the parameter. One rule for every route.
- :class:`CredentialGate`: a write with neither an API token nor a session cookie: 401,
  before the body is read.
- :class:`RequestSizeLimit`: a body over the limit: 413, by Content-Length and while it
  streams (chunked bodies too), so no more than the limit is ever read.

The app runs these four as one layer, :class:`RequestGuards` (same order, same answers).

And :class:`HeadAsGet` answers HEAD on every GET route as GET would, without the body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Final

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from addresses.errors import InvalidParameterError
from api.deps import SAFE_METHODS, SESSION_COOKIE
from api.errors import (
    HeaderFieldsTooLargeError,
    PayloadTooLargeError,
    UnauthorizedError,
    URITooLongError,
    error_answer,
)
from api.percent import unquote_bytes

MAX_TARGET_BYTES: Final = 8 * 1024
"""Most bytes of a request target (path and query string, percent-encoded)."""
MAX_HEADERS: Final = 100
"""Most header fields a request may carry."""
MAX_HEADER_BYTES: Final = 16 * 1024
"""Most bytes of all header names and values of a request together."""

OPEN_WRITES: Final = ("/batch",)
"""Path prefixes anyone may POST to (they change nothing); every other write needs credentials."""
OPEN_PATHS: Final = frozenset({"/auth/login", "/auth/logout"})
"""Paths of writes open to anyone: logging in, and out."""

BODY_FRAMED: Final = frozenset({"1.0", "1.1"})
"""HTTP versions where a request without Content-Length and not chunked has no body (RFC 9112, 6.3)."""

CONTROL_CHARACTER: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Characters no text parameter may hold: C0 controls but tab, line feed and carriage return; DEL."""


async def send_error(send: Send, error: Exception) -> None:
    """Answer an error as the app's error table says, in its JSON shape (the connection is closed after)."""
    status, document, headers = error_answer(error)
    body = json.dumps(document).encode()
    fields = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *((name.lower().encode(), value.encode()) for name, value in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": fields})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a header (names are lower case in ASGI)."""
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value)
    return None


class HeaderLimits:
    """Answer 414 to an over-long request target, 431 to too many or too large header fields."""

    def __init__(
        self, app: ASGIApp, *, max_count: int = MAX_HEADERS, max_bytes: int = MAX_HEADER_BYTES
    ) -> None:
        self.app = app
        self.max_count = max_count
        self.max_bytes = max_bytes

    def problem(self, scope: Scope) -> Exception | None:
        """The 414 or 431 of an HTTP request, or None."""
        target = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        if target > MAX_TARGET_BYTES:
            message = f"the request target has {target} bytes; the limit is {MAX_TARGET_BYTES}"
            return URITooLongError(message, parameter="path")
        headers = scope.get("headers") or []
        size = sum(len(name) + len(value) for name, value in headers)
        if len(headers) > self.max_count or size > self.max_bytes:
            message = (
                f"the request has {len(headers)} header fields of {size} bytes; "
                f"the limits are {self.max_count} fields and {self.max_bytes} bytes"
            )
            return HeaderFieldsTooLargeError(message, parameter="headers")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Measure the request target and the header fields before anything else."""
        if scope["type"] == "http" and (error := self.problem(scope)) is not None:
            await send_error(send, error)
            return
        await self.app(scope, receive, send)


def _decoded(raw: bytes) -> str | None:
    """A percent-encoded query component as text, or None when it is not UTF-8.

    >>> _decoded(b"x%C3%B3m+L%C3%A1c"), _decoded(b"%FF")
    ('xóm Lác', None)
    """
    try:
        return unquote_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return None


def text_problem(text: str) -> str | None:
    """What is wrong with a parameter's text (a control character, where), or None.

    >>> text_problem("xom lac"), text_problem("12\\x0034")
    (None, 'contains the control character U+0000 at position 3; remove it')
    """
    found = CONTROL_CHARACTER.search(text)
    if found is None:
        return None
    code, position = ord(found.group()), found.start() + 1
    return f"contains the control character U+{code:04X} at position {position}; remove it"


def query_problem(query_string: bytes) -> tuple[str, str] | None:
    """The first query parameter that is not UTF-8 or holds a control character: (name, message).

    >>> query_problem(b"q=xom&limit=5"), query_problem(b"q=a%00b")
    (None, ('q', 'contains the control character U+0000 at position 2; remove it'))
    >>> query_problem(b"unit=%FF")
    ('unit', 'is not UTF-8 text (percent-encode UTF-8 bytes)')
    >>> query_problem(b"q=%C3&lang=%A1vi")  # a character cut by '&' is the first parameter's fault
    ('q', 'is not UTF-8 text (percent-encode UTF-8 bytes)')
    """
    whole = _decoded(query_string)
    if whole is not None and text_problem(whole) is None:
        return None  # the usual case, in one look: a parameter's problem would be the whole query's
    for part in query_string.split(b"&"):
        raw_name, _, raw_value = part.partition(b"=")
        name = _decoded(raw_name)
        shown = name if name is not None and text_problem(name) is None else repr(raw_name.decode("latin-1"))
        for text in (name, _decoded(raw_value)):
            if text is None:
                return shown, "is not UTF-8 text (percent-encode UTF-8 bytes)"
            if (problem := text_problem(text)) is not None:
                return shown, problem
    return None


def path_problem(raw_path: bytes) -> str | None:
    """What is wrong with a request path (not UTF-8, a control character), or None.

    >>> path_problem(b"/codes/8VG-DHS"), path_problem(b"/codes/%00"), path_problem(b"/codes/%FF")
    (None, 'contains the control character U+0000 at position 8; remove it', 'is not UTF-8 text')
    """
    try:
        path = unquote_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    return text_problem(path)


class TextParameterCheck:
    """Answer 400, naming the parameter, to query text or a path that is not clean UTF-8 text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def problem(scope: Scope) -> Exception | None:
        """The 400 of an HTTP request whose query string or path is not clean text, or None."""
        problem = query_problem(scope.get("query_string", b""))
        raw_path = scope.get("raw_path") or str(scope.get("path", "")).encode()
        if problem is None and (found := path_problem(raw_path)) is not None:
            problem = ("path", found)
        if problem is None:
            return None
        parameter, message = problem
        return InvalidParameterError(parameter, message)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the query string and the path before routing."""
        if scope["type"] == "http" and (error := self.problem(scope)) is not None:
            await send_error(send, error)
            return
        await self.app(scope, receive, send)


CHALLENGE: Final = 'Bearer realm="diachiso"'
"""The WWW-Authenticate value of a 401 (RFC 6750)."""


def unauthorized(message: str) -> UnauthorizedError:
    """The 401 of a write without any credentials, with its challenge."""
    return UnauthorizedError(message, parameter="Authorization", headers={"WWW-Authenticate": CHALLENGE})


def has_credentials(authorization: bytes | None, cookie: bytes | None) -> bool:
    """Whether a request carries a bearer token or a session cookie (not whether they are valid).

    >>> has_credentials(b"Bearer abc", None), has_credentials(None, b"a=1; diachiso_session=xyz")
    (True, True)
    >>> has_credentials(b"Basic abc", None), has_credentials(b"Bearer ", b"diachiso_session=")
    (False, False)
    """
    scheme, _, given = (authorization or b"").decode("latin-1").partition(" ")
    if scheme.lower() == "bearer" and given.strip():
        return True
    return bool(cookie_parser((cookie or b"").decode("latin-1")).get(SESSION_COOKIE))


def is_open_write(path: str) -> bool:
    """Whether anyone may send this write (it changes no data, or it is the log-in itself).

    >>> is_open_write("/batch"), is_open_write("/auth/login"), is_open_write("/addresses")
    (True, True, False)
    """
    return path in OPEN_PATHS or path.startswith(OPEN_WRITES)


class CredentialGate:
    """Answer 401 to a write (not GET/HEAD/OPTIONS, not an open path) that carries no credentials.

    Checked on the headers alone, before any of the body is read: neither an
    ``Authorization: Bearer`` token nor the session cookie. Whether they are valid, and
    whether the role and communes allow the write, the routes check (api/deps.py).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def problem(scope: Scope) -> Exception | None:
        """The 401 of an HTTP write without credentials, or None."""
        if (
            scope.get("method") not in SAFE_METHODS
            and not is_open_write(str(scope.get("path", "")))
            and not has_credentials(_header(scope, b"authorization"), _header(scope, b"cookie"))
        ):
            message = "this write needs a log-in (POST /auth/login) or an API token (Authorization: Bearer)"
            return unauthorized(message)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an anonymous write before the app sees it."""
        if scope["type"] == "http" and (error := self.problem(scope)) is not None:
            await send_error(send, error)
            return
        await self.app(scope, receive, send)


class _BodyGuard:
    """The receive and send of one request, refusing the body once it passes ``limit`` bytes."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive = receive
        self._send = send
        self.limit = limit
        self.seen = 0
        self.started = False
        self.refused = False

    async def receive(self) -> Message:
        """The next message; past the limit, a 413 is sent and the app hears a disconnect."""
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                await self.refuse()
                return {"type": "http.disconnect"}
        return message

    async def refuse(self) -> None:
        """Answer 413 (unless the app already answered) and drop whatever the app sends later."""
        self.refused = True
        if not self.started:
            self.started = True
            message = f"the request body is larger than the limit of {self.limit} bytes"
            await send_error(self._send, PayloadTooLargeError(message, parameter="body"))

    async def send(self, message: Message) -> None:
        """Pass the app's answer on, unless the guard answered already."""
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


class RequestSizeLimit:
    """Answer 413 (in the app's JSON error shape) to a request body larger than the limit.

    The declared Content-Length is checked first; then the bytes actually received are
    counted as they stream in, so a chunked body (no Content-Length) is stopped at the
    limit too. Paths of ``own_limits`` (the CSV uploads of /batch) have their own limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, own_limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.own_limits = dict(own_limits or {})

    def limit_for(self, path: str) -> int:
        """The body limit of a path."""
        for prefix, limit in self.own_limits.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check Content-Length before the app reads the body, then count what it reads."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("path", "")))
        length = _header(scope, b"content-length")
        if length is not None and length.isascii() and length.isdigit() and int(length) > limit:
            message = f"request body of {int(length)} bytes is larger than the limit of {limit} bytes"
            await send_error(send, PayloadTooLargeError(message, parameter="body"))
            return
        chunked = _header(scope, b"transfer-encoding") is not None
        if length is None and not chunked and scope.get("http_version") in BODY_FRAMED:
            await self.app(scope, receive, send)  # HTTP/1, no Content-Length, not chunked: no body at all
            return
        guard = _BodyGuard(receive, send, limit)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            if not guard.refused:  # the app failed on a body cut at the limit: already answered
                raise


class RequestGuards:
    """:class:`HeaderLimits`, :class:`TextParameterCheck`, :class:`CredentialGate` and
    :class:`RequestSizeLimit` as one layer: the same checks in the same order, the same answers.

    One ASGI layer instead of four: every request (a tile, a search) passes them all, and
    each layer is a call and a coroutine more on the event loop.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        own_limits: Mapping[str, int] | None = None,
        max_headers: int = MAX_HEADERS,
        max_header_bytes: int = MAX_HEADER_BYTES,
    ) -> None:
        self.app = app
        self.header_limits = HeaderLimits(app, max_count=max_headers, max_bytes=max_header_bytes)
        self.size_limit = RequestSizeLimit(app, max_bytes=max_bytes, own_limits=own_limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the headers, the text, the credentials of a write, then the body size as it is read."""
        if scope["type"] == "http":
            error = self.header_limits.problem(scope)
            if error is None:
                error = TextParameterCheck.problem(scope)
            if error is None:
                error = CredentialGate.problem(scope)
            if error is not None:
                await send_error(send, error)
                return
        await self.size_limit(scope, receive, send)


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
