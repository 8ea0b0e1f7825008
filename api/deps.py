"""Request dependencies: admission to the database, then a connection opened where the work runs.

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
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from typing import Annotated, Any, Final, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine, func, select, update

from addresses.accounts import ROLE_RANK, Principal, Role, Via
from addresses.errors import AuthenticationError, PermissionDeniedError
from addresses.schema import account, account_commune, api_token, login_session

RETRY_AFTER_S: Final = 1
"""What a 503 answer tells the client to wait before trying again (Retry-After), seconds."""


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


def engine(request: Request) -> Engine:
    """The application's engine (made by the lifespan)."""
    value: Engine = request.app.state.engine
    return value


def database(request: Request) -> Database:
    """The application's admission-gated database (made by the lifespan)."""
    value: Database = request.app.state.database
    return value


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


# --- who is asking (minimal until the "auth" branch is merged: same names, API tokens and sessions) ----

_bearer = HTTPBearer(
    auto_error=False, scheme_name="BearerToken", description="An API token (diachiso token create)."
)
SESSION_COOKIE: Final = "diachiso_session"
CSRF_HEADER: Final = "X-CSRF-Token"
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


def _digest(secret: str) -> str:
    """SHA-256 hex of a token or session cookie (how they are stored)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _account_communes(conn: Connection, account_id: int) -> frozenset[int]:
    rows = conn.execute(
        select(account_commune.c.commune_id).where(account_commune.c.account_id == account_id)
    )
    return frozenset(int(commune_id) for commune_id in rows.scalars())


def _principal_of(
    conn: Connection, row: Any, *, role: str, communes: list[int] | None, via: Via
) -> Principal:
    """The principal of an account row acting with ``role`` (at most the account's) and ``communes``."""
    acting = cast(Role, role if ROLE_RANK[role] <= ROLE_RANK[row.role] else row.role)
    scope = None if acting == "admin" else frozenset(communes or _account_communes(conn, int(row.id)))
    return Principal(
        account_id=int(row.id), username=str(row.username), role=acting, commune_ids=scope, via=via
    )


def _token_principal(conn: Connection, token: str) -> Principal:
    """The principal of an API token: valid, not revoked, not expired, on an enabled account."""
    now = func.now()
    query = (
        select(
            account.c.id,
            account.c.username,
            account.c.role,
            api_token.c.id.label("token_id"),
            api_token.c.role.label("token_role"),
            api_token.c.commune_ids,
        )
        .join(account, account.c.id == api_token.c.account_id)
        .where(
            api_token.c.token_hash == _digest(token),
            api_token.c.revoked_at.is_(None),
            (api_token.c.expires_at.is_(None)) | (api_token.c.expires_at > now),
            account.c.disabled_at.is_(None),
        )
    )
    row = conn.execute(query).first()
    if row is None:
        raise AuthenticationError("the API token is not valid (unknown, revoked or expired)")
    conn.execute(update(api_token).where(api_token.c.id == row.token_id).values(last_used_at=now))
    return _principal_of(conn, row, role=row.token_role, communes=row.commune_ids, via="token")


def _session_principal(conn: Connection, cookie: str, csrf: str | None, method: str) -> Principal:
    """The principal of a log-in session; a write must carry the session's CSRF token."""
    query = (
        select(account.c.id, account.c.username, account.c.role, login_session.c.csrf_token)
        .join(account, account.c.id == login_session.c.account_id)
        .where(
            login_session.c.token_hash == _digest(cookie),
            login_session.c.revoked_at.is_(None),
            login_session.c.expires_at > func.now(),
            account.c.disabled_at.is_(None),
        )
    )
    row = conn.execute(query).first()
    if row is None:
        raise AuthenticationError("the session has expired or was closed: log in again")
    if method not in _SAFE_METHODS and (csrf is None or not hmac.compare_digest(csrf, row.csrf_token)):
        raise PermissionDeniedError(f"a write with the session cookie needs the header {CSRF_HEADER}")
    return _principal_of(conn, row, role=row.role, communes=None, via="session")


def _find_principal(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if credentials is None and cookie is None:
        return None
    with database(request).engine.begin() as conn:
        if credentials is not None:
            return _token_principal(conn, credentials.credentials)
        assert cookie is not None
        return _session_principal(conn, cookie, request.headers.get(CSRF_HEADER), request.method)


def principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal | None:
    """Who is asking: the account of the bearer token or the session cookie, None when anonymous."""
    return _find_principal(request, credentials)


OptionalPrincipal = Annotated[Principal | None, Depends(principal)]
"""A route parameter: the principal, or None for an anonymous request."""


def require_role(role: Role) -> Callable[[Principal | None], Principal]:
    """A dependency: the principal when it has ``role`` or above; 401 when anonymous, 403 when lower."""

    def check(found: OptionalPrincipal) -> Principal:
        if found is None:
            raise AuthenticationError(f"log in or send an API token: this needs the role {role}")
        if not found.at_least(role):
            raise PermissionDeniedError(
                f"this needs the role {role} or above; {found.username} is {found.role}"
            )
        return found

    return check
