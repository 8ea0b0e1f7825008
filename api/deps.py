"""Request dependencies: admission to the database, then a connection opened where the work runs; who asks.

A route that reads or writes the database declares ``db: Db`` and opens its connection
in its own body (``with db.connect() as conn`` or ``with db.begin() as conn``), so the
checkout happens in the thread that does the work: a request holds at most one worker
thread and one connection, and never holds a thread while it waits for a connection.

Admission is decided first, on the event loop (no thread held): each worker process
lets at most ``slots`` requests use the database at once, fewer than the pool holds,
so a checkout never waits on the pool. A request that finds every slot taken waits
up to the pool timeout (``DIACHISO_POOL_TIMEOUT``), then is refused with
:class:`ServiceBusyError` (503 with Retry-After). When the load drops, the slots free
up and requests are admitted again: nothing to reset.

Everything a request may use lives in one :class:`AppState`, made by the lifespan and
set once on ``app.state``; routes reach it only through the accessors below.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Annotated, Final

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from addresses.account_store import SessionPrincipal, resolve_session, resolve_token
from addresses.accounts import Principal, Role
from addresses.errors import AuthenticationError, PermissionDeniedError
from api.loop_turns import LoopTurns
from api.settings import ApiSettings
from geocoder.answer_cache import AnswerCache
from geocoder.batch_stream import BatchPool
from geocoder.index import GeocoderIndex
from geocoder.refresh import IndexRefresher
from tiles.retention import InvalidationPruner
from tiles.workers import TileWorkers

SESSION_COOKIE: Final = "diachiso_session"
"""The cookie of a viewer log-in (HttpOnly, SameSite=Strict): a random secret, stored hashed."""
CSRF_HEADER: Final = "X-CSRF-Token"
"""The header a write authenticated by the session cookie must carry (the csrf_token of /auth/login)."""
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing: no CSRF check, and an expired cookie only makes them anonymous."""

RETRY_AFTER_S: Final = 1
"""What a 503 answer tells the client to wait before trying again (Retry-After), seconds."""
BATCH_RETRY_AFTER_S: Final = 5 * RETRY_AFTER_S
"""Retry-After of a batch refused because every job slot is taken, seconds."""
SEARCH_THREADS: Final = 2
"""Reverse answers needing the database that one worker computes at once on worker threads (and
searches, with ``DIACHISO_GEOCODE_SEARCH_ON_LOOP=false``); the others wait their turn in arrival
order. (Searches and autocompletes, CPU-bound, otherwise take their turns on the event loop
itself: :class:`api.loop_turns.LoopTurns`.)"""


class ServiceBusyError(Exception):
    """Every database slot of this worker stayed taken for the whole pool timeout."""

    def __init__(self, waited_s: float) -> None:
        super().__init__(
            f"the service is busy: no database connection was free within {waited_s:g} s; "
            f"retry in {RETRY_AFTER_S} s"
        )


def request_slots(pool_capacity: int, *, reserved: int) -> int:
    """How many requests may use the database at once: the pool minus what others hold, at least 1.

    >>> request_slots(10, reserved=5), request_slots(4, reserved=6)
    (5, 1)
    """
    return max(1, pool_capacity - reserved)


class Database:
    """The engine of one worker process behind an admission gate of ``slots`` requests."""

    def __init__(self, engine: Engine, *, read: Engine | None = None, slots: int, wait_s: float) -> None:
        """Admit at most ``slots`` requests at once; a request waits ``wait_s`` at most.

        ``read`` is the engine of the read paths (a streaming replica); without it they use ``engine``.
        """
        self.engine = engine
        self.read_engine = read or engine
        self.slots = slots
        self.wait_s = wait_s
        self._free = asyncio.Semaphore(slots)

    async def admit(self) -> None:
        """Take a slot, waiting at most ``wait_s``; raise ServiceBusyError when none came free."""
        if not self._free.locked():
            await self._free.acquire()
            return
        try:
            await asyncio.wait_for(self._free.acquire(), timeout=self.wait_s)
        except TimeoutError:
            raise ServiceBusyError(self.wait_s) from None

    def release(self) -> None:
        """Give the slot back."""
        self._free.release()

    def connect(self) -> AbstractContextManager[Connection]:
        """A connection for reading, returned to the pool when the block ends (call it in the thread)."""
        return self.engine.connect()

    def read(self) -> AbstractContextManager[Connection]:
        """A connection to the read replica (or the primary when none is set), for read-only work."""
        return self.read_engine.connect()

    def begin(self) -> AbstractContextManager[Connection]:
        """A connection in one transaction: committed when the block ends, rolled back if it raises."""
        return self.engine.begin()


@dataclass(frozen=True, slots=True)
class AppState:
    """What the requests of one application share, made by its lifespan and set once on ``app.state``."""

    settings: ApiSettings
    database: Database
    geocoder: GeocoderIndex
    search_turns: anyio.CapacityLimiter
    """Turns on worker threads (:data:`SEARCH_THREADS` at once): reverse answers needing the database."""
    loop_turns: LoopTurns
    """The turn-taking of searches and autocompletes, computed on the event loop one per turn of it."""
    answer_cache: AnswerCache
    """Encoded answers of /search, /autocomplete and /reverse for the index snapshot they came from."""
    tiles: TileWorkers
    batches: BatchPool
    index_refresher: IndexRefresher
    invalidation_pruner: InvalidationPruner


def set_app_state(app: FastAPI, state: AppState | None) -> None:
    """Give the application its state (the lifespan, at start), or take it away (None, at the end)."""
    if state is not None and getattr(app.state, "diachiso", None) is not None:
        raise RuntimeError("the application state is set already: one lifespan at a time")
    app.state.diachiso = state


def app_state_of(app: FastAPI) -> AppState:
    """The state of a started application (its lifespan running)."""
    state: AppState | None = getattr(app.state, "diachiso", None)
    if state is None:
        raise RuntimeError("the application is not started: its lifespan sets its state")
    return state


def app_state(request: Request) -> AppState:
    """The state of the application serving the request."""
    return app_state_of(request.app)


def settings(request: Request) -> ApiSettings:
    """The settings the application was made with."""
    return app_state(request).settings


def database(request: Request) -> Database:
    """The application's admission-gated database (made by the lifespan)."""
    return app_state(request).database


async def admitted(request: Request) -> AsyncIterator[Database]:
    """Admission for one request (on the event loop): the slot is given back when the route returns."""
    db = database(request)
    await db.admit()
    try:
        yield db
    finally:
        db.release()


Db = Annotated[Database, Depends(admitted, scope="function")]
"""A route parameter: the database, once this request is admitted to it."""


async def _state(request: Request) -> AppState:
    """:func:`app_state` as a dependency (async: answered on the event loop, no thread taken)."""
    return app_state(request)


async def _max_limit(request: Request) -> int:
    """The largest page size of this app (ApiSettings.max_limit)."""
    return settings(request).max_limit


State = Annotated[AppState, Depends(_state)]
"""A route parameter: the application's state (settings, index, tile workers, batch pool)."""
MaxLimit = Annotated[int, Depends(_max_limit)]
"""A route parameter: the largest page size a client may ask for (ApiSettings.max_limit)."""


# --- who is asking --------------------------------------------------------------------------------------

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="An API token (diachiso token create): `Authorization: Bearer <token>`. No CSRF header.",
)
session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="SessionCookie",
    description="The cookie set by POST /auth/login; writes also need the X-CSRF-Token header.",
)


def check_csrf(request: Request, session: SessionPrincipal) -> None:
    """Refuse a cookie-authenticated write without the session's CSRF token (403)."""
    given = request.headers.get(CSRF_HEADER)
    if given is None or not secrets.compare_digest(given.encode(), session.csrf_token.encode()):
        raise PermissionDeniedError(
            f"a write authenticated by the session cookie needs the {CSRF_HEADER} header "
            "(the csrf_token /auth/login answered)"
        )


def _from_cookie(request: Request, db: Database, cookie: str) -> Principal | None:
    """The principal of a session cookie; an expired one is anonymous for reads, 401 for writes."""
    safe = request.method in SAFE_METHODS
    try:
        with db.begin() as conn:
            session = resolve_session(conn, cookie)
    except AuthenticationError:
        if safe:
            return None
        raise
    if not safe:
        check_csrf(request, session)
    request.state.session = session
    return session.principal


def principal(
    request: Request,
    db: Db,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(session_cookie)],
) -> Principal | None:
    """Who makes the request: an API token (Authorization: Bearer) first, else the session cookie.

    None when neither is sent. A bad token is refused (401); a cookie-authenticated write
    without the right X-CSRF-Token is refused (403).
    """
    if bearer is not None:
        with db.begin() as conn:
            return resolve_token(conn, bearer.credentials)
    if cookie is None:
        return None
    return _from_cookie(request, db, cookie)


OptionalPrincipal = Annotated[Principal | None, Depends(principal)]
"""A route parameter: the principal behind the request, or None when anonymous."""


@functools.cache
def require_role(role: Role) -> Callable[[Principal | None], Principal]:
    """A dependency letting through principals of ``role`` or above: 401 when anonymous, 403 below it."""

    def dependency(found: OptionalPrincipal) -> Principal:
        if found is None:
            raise AuthenticationError(
                "this needs a log-in (POST /auth/login) or an API token (Authorization: Bearer <token>)"
            )
        if not found.at_least(role):
            raise PermissionDeniedError(
                f"{found.username} is {found.role}: this needs the role {role} or above"
            )
        return found

    return dependency
