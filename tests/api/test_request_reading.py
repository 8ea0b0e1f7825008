"""The cheaper request reading and gzip layer answer exactly what the library code they replace answers.

:func:`api.routes.geocode_plain.query_values` reads a query string as
``urllib.parse.parse_qsl(..., keep_blank_values=True)`` does, and
:class:`api.compression.AnswerGZipMiddleware` answers as Starlette's ``GZipMiddleware``
(status, headers and bytes), for every kind of answer and ``Accept-Encoding``.
"""

from __future__ import annotations

import asyncio
import random
import urllib.parse
from typing import Any

import pytest
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.compression import AnswerGZipMiddleware
from api.percent import unquote_bytes, unquote_text
from api.routes.geocode_plain import Values, query_values

PIECES = [
    b"q",
    b"a",
    b"=",
    b"&",
    b"+",
    b" ",
    b"%",
    b"%2",
    b"%C3",
    b"%A1",
    b"%FF",
    b"%26",
    b"%3D",
    b"\xc3\xa1",
    b"\xff",
]


def _parse_qsl_values(query_string: bytes) -> Values:
    values: Values = {}
    for name, value in urllib.parse.parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        values.setdefault(name, []).append(value)
    return values


def test_query_values_reads_what_parse_qsl_reads() -> None:
    rng = random.Random(5)
    for _ in range(20_000):
        query = b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 14)))
        assert query_values(query) == _parse_qsl_values(query), query
    usual = b"limit=5&q=x%C3%B3m+L%C3%A1c%2C+M%E1%BA%A1i+H%E1%BA%A1&lang=en&type=village&type=street"
    assert query_values(usual) == _parse_qsl_values(usual)


def test_percent_decoding_is_urllibs() -> None:
    rng = random.Random(7)
    pieces = [
        "a",
        "+",
        " ",
        "%",
        "%2",
        "%C3",
        "%a1",
        "%FF",
        "%g1",
        "%25",
        "%5C",
        "\\",
        "\\x41",
        "é",
        "%E1%BA%A1",
    ]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert unquote_text(text) == urllib.parse.unquote(text), text
        raw = text.encode()
        assert unquote_bytes(raw) == urllib.parse.unquote_to_bytes(raw), raw


def _answering(
    body: bytes, headers: list[tuple[bytes, bytes]], *, status: int = 200, parts: int = 1
) -> ASGIApp:
    """An app answering ``body`` (in ``parts`` chunks) with these headers."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        size = -(-len(body) // parts) if body else 1
        chunks = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    return app


async def _answer(app: ASGIApp, request_headers: list[tuple[bytes, bytes]]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append({**message, "headers": list(message["headers"])} if "headers" in message else message)

    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": request_headers}
    await app(scope, receive, send)
    return sent


ACCEPT = [
    [],
    [(b"accept-encoding", b"gzip")],
    [(b"accept-encoding", b"gzip, deflate, br")],
    [(b"accept-encoding", b"br")],
    [(b"accept-encoding", b"br"), (b"accept-encoding", b"gzip")],
    [(b"host", b"x"), (b"accept-encoding", b"identity;q=1, GZIP;q=0.5")],
]
JSON = (b"content-type", b"application/json")


@pytest.mark.parametrize("accept", ACCEPT)
@pytest.mark.parametrize(
    ("size", "headers", "status", "parts"),
    [
        (10, [JSON], 200, 1),
        (999, [JSON], 200, 1),
        (1000, [JSON], 200, 1),
        (50_000, [JSON, (b"vary", b"Origin")], 200, 1),
        (50_000, [JSON], 200, 3),
        (50_000, [(b"content-type", b"image/png")], 200, 1),
        (50_000, [(b"content-type", b"application/x-protobuf"), (b"content-encoding", b"gzip")], 200, 1),
        (50_000, [JSON], 206, 1),
        (50_000, [(b"content-type", b"text/event-stream; charset=utf-8")], 200, 2),
        (0, [JSON], 204, 1),
    ],
)
def test_the_gzip_layer_answers_as_starlettes(
    accept: list[tuple[bytes, bytes]], size: int, headers: list[tuple[bytes, bytes]], status: int, parts: int
) -> None:
    body = bytes(random.Random(size).choices(b'{"name":"X\xc3\xb3m L\xc3\xa1c"},', k=size))
    fields = [*headers, (b"content-length", str(size).encode())]
    app = _answering(body, fields, status=status, parts=parts)
    ours = asyncio.run(_answer(AnswerGZipMiddleware(app, minimum_size=1000), accept))
    starlettes = asyncio.run(_answer(GZipMiddleware(app, minimum_size=1000), accept))
    assert ours == starlettes
