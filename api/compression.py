"""Starlette's gzip of the answers, its per-request set-up cut to what a request needs.

:class:`AnswerGZipMiddleware` is Starlette's :class:`~starlette.middleware.gzip.GZipMiddleware`
(same responders, same decisions, same bytes and headers: ``Content-Encoding: gzip`` for a
client asking it, ``Vary: Accept-Encoding`` on every answer of ``minimum_size`` bytes or
more) without two costs Starlette pays on every request: parsing every request header into a
:class:`~starlette.datastructures.Headers` to read ``Accept-Encoding``, and normalising the
excluded content types again in each responder (they are normalised once, here). Measured
on the benchmark's searches (``benchmarks.bench_http_cpu``) these were most of what the gzip
layer cost a JSON answer sent to a client that does not ask for gzip (wrk, most API clients).
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware, GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Receive, Scope, Send


def accepts_gzip(scope: Scope) -> bool:
    """Whether the request's (first) Accept-Encoding names gzip, as Starlette's middleware reads it.

    >>> accepts_gzip({"headers": [(b"host", b"x"), (b"accept-encoding", b"gzip, br")]})
    True
    >>> accepts_gzip({"headers": [(b"accept-encoding", b"br"), (b"accept-encoding", b"gzip")]})
    False
    >>> accepts_gzip({"headers": []})
    False
    """
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return b"gzip" in value
    return False


class _Identity(IdentityResponder):
    """Starlette's identity responder, given the excluded types already normalised."""

    def __init__(self, app: ASGIApp, minimum_size: int, exclude_content_types: tuple[str, ...]) -> None:
        super().__init__(app, minimum_size, exclude_content_types=())
        self.exclude_content_types = exclude_content_types


class _GZip(GZipResponder):
    """Starlette's gzip responder, given the excluded types already normalised."""

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int,
        exclude_content_types: tuple[str, ...],
        *,
        compresslevel: int,
        thread_minimum_size: int,
    ) -> None:
        super().__init__(
            app,
            minimum_size,
            compresslevel=compresslevel,
            thread_minimum_size=thread_minimum_size,
            exclude_content_types=(),
        )
        self.exclude_content_types = exclude_content_types


class AnswerGZipMiddleware(GZipMiddleware):
    """Starlette's GZipMiddleware with its per-request set-up made cheaper (same answers)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer through the gzip responder when the client asks gzip, else through the identity one."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        excluded = self.exclude_content_types
        responder: IdentityResponder
        if accepts_gzip(scope):
            responder = _GZip(
                self.app,
                self.minimum_size,
                excluded,
                compresslevel=self.compresslevel,
                thread_minimum_size=self.thread_minimum_size,
            )
        else:
            responder = _Identity(self.app, self.minimum_size, excluded)
        await responder(scope, receive, send)
