"""Staff accounts: passwords, log-ins (slowed down when they fail), sessions and API tokens.

Every function takes a connection (the caller owns the transaction) and keyword-only
options; nothing here knows HTTP. Passwords are hashed with argon2id; session cookies
and API tokens are random secrets of which only the SHA-256 is stored, so a copy of the
database gives nobody a way in. An account is never deleted, only disabled.

>>> token_hash("abc")[:16]
'ba7816bf8f01cfea'
>>> is_valid_username("lan.nguyen"), is_valid_username("two words"), is_valid_username("")
(True, False, False)
>>> policy = LoginPolicy()
>>> lock_seconds(3, policy=policy), lock_seconds(4, policy=policy), lock_seconds(6, policy=policy)
(0, 1, 4)
>>> lock_seconds(40, policy=policy)
900
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypedDict, Unpack

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, RowMapping, Table, func, insert, select, update

from addresses.accounts import ROLE_RANK, Principal, Role, Via
from addresses.errors import (
    AuthenticationError,
    InvalidParameterError,
    LoginThrottledError,
    NotFoundError,
    PermissionDeniedError,
)
from addresses.schema import (
    ROLES,
    account,
    account_commune,
    admin_unit,
    api_token,
    login_attempt,
    login_session,
)

__all__ = [
    "AccountInfo",
    "LoginPolicy",
    "LoginResult",
    "NewSession",
    "NewToken",
    "SessionPrincipal",
    "TokenInfo",
    "account_info",
    "attempt_login",
    "commune_ids_for",
    "create_account",
    "create_api_token",
    "disable_account",
    "hash_password",
    "list_accounts",
    "list_tokens",
    "open_session",
    "resolve_session",
    "resolve_token",
    "revoke_session",
    "revoke_token",
    "token_hash",
]

log = logging.getLogger(__name__)

MIN_PASSWORD_CHARS: Final = 10
"""Shortest password an account may get."""
TOKEN_PREFIX: Final = "dcs_"
"""Every API token starts with this, so a leaked one is recognisable (secret scanners)."""
SHOWN_PREFIX_CHARS: Final = 12
"""How many first characters of a token are kept in clear, to recognise it in lists."""
LAST_SEEN_EVERY: Final = dt.timedelta(minutes=1)
"""A session's last_seen_at and a token's last_used_at are written at most this often.

A busy machine sends many requests with one token: writing its row each time would
serialise them on that row's lock.
"""
GENERIC_FAILURE: Final = "wrong user name or password"
"""The one message of every refused log-in: it never says whether the user exists."""
_USERNAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_hasher: Final = PasswordHasher()  # argon2id, RFC 9106 low-memory parameters
_DUMMY_HASH: Final = _hasher.hash("an unknown user's password is checked against this")


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How failed log-ins slow the next ones down.

    The first ``free_attempts`` failures in a row cost nothing; each further failure locks
    the account for ``base_delay_s``, doubled per failure, at most ``max_delay_s``. A
    success resets the count.
    """

    free_attempts: int = 3
    base_delay_s: int = 1
    max_delay_s: int = 900


def lock_seconds(failed_logins: int, *, policy: LoginPolicy) -> int:
    """How long an account is locked after ``failed_logins`` failures in a row (0: not locked)."""
    extra = failed_logins - policy.free_attempts - 1
    if extra < 0:
        return 0
    delay: int = policy.base_delay_s * 2 ** min(extra, 30)
    return min(delay, policy.max_delay_s)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def token_hash(secret: str) -> str:
    """The SHA-256 (hex) under which a session cookie or API token is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    """The argon2id hash of a password (at least MIN_PASSWORD_CHARS characters)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidParameterError("password", f"must have at least {MIN_PASSWORD_CHARS} characters")
    return _hasher.hash(password)


def is_valid_username(username: str) -> bool:
    """Whether a user name is 1-64 letters, digits or ``. _ @ -``, starting with a letter or digit."""
    return _USERNAME.match(username) is not None


# --- accounts ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """An account as shown to its owner and to admins (never the password hash)."""

    id: int
    username: str
    display_name: str | None
    role: Role
    commune_ids: tuple[int, ...] | None
    language: str
    disabled: bool

    def as_json(self) -> dict[str, Any]:
        """The account in the answer of /auth/login and /auth/me."""
        communes = None if self.commune_ids is None else list(self.commune_ids)
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "commune_ids": communes,
            "language": self.language,
        }


def _check_role(role: str, parameter: str = "role") -> Role:
    if role not in ROLE_RANK:
        raise InvalidParameterError(parameter, f"must be one of {', '.join(ROLES)}, not {role!r}")
    return role  # type: ignore[return-value]


def resolve_communes(conn: Connection, communes: Iterable[int | str]) -> tuple[int, ...]:
    """Ids of current communes given by id or GSO code; an unknown one raises InvalidParameterError."""
    wanted = list(dict.fromkeys(communes))
    found: list[int] = []
    for item in wanted:
        column = admin_unit.c.id if isinstance(item, int) else admin_unit.c.code
        query = select(admin_unit.c.id).where(
            column == item, admin_unit.c.level == 3, admin_unit.c.valid_to.is_(None)
        )
        unit_id = conn.execute(query).scalar()
        if unit_id is None:
            raise InvalidParameterError("commune", f"{item!r} is not a current commune or ward")
        found.append(int(unit_id))
    return tuple(dict.fromkeys(found))


class AccountDetails(TypedDict, total=False):
    """What else an account may be given: its communes, a display name, the viewer's language."""

    communes: Iterable[int | str]
    display_name: str | None
    language: str


def create_account(
    conn: Connection, *, username: str, role: str, password: str | None, **details: Unpack[AccountDetails]
) -> int:
    """Create an account (password hashed with argon2id) with its communes; return its id.

    ``communes`` are commune ids or GSO codes; editors and approvers need at least one,
    admins none (they work everywhere). ``password`` None makes a token-only account.
    """
    communes = details.get("communes", ())
    display_name = details.get("display_name")
    language = details.get("language", "vi")
    if not is_valid_username(username):
        raise InvalidParameterError("username", f"{username!r}: use 1-64 letters, digits or . _ @ -")
    checked = _check_role(role)
    commune_ids = resolve_communes(conn, communes)
    if checked in ("editor", "approver") and not commune_ids:
        raise InvalidParameterError("commune", f"an {checked} needs at least one commune")
    if language not in ("vi", "en"):
        raise InvalidParameterError("language", f"must be vi or en, not {language!r}")
    taken = conn.execute(select(account.c.id).where(account.c.username == username)).first()
    if taken is not None:
        raise InvalidParameterError("username", f"{username!r} is taken")
    values = {
        "username": username,
        "role": checked,
        "display_name": display_name,
        "language": language,
        "password_hash": None if password is None else hash_password(password),
    }
    account_id = int(conn.execute(insert(account).values(values).returning(account.c.id)).scalar_one())
    if commune_ids and checked != "admin":
        rows = [{"account_id": account_id, "commune_id": commune_id} for commune_id in commune_ids]
        conn.execute(insert(account_commune), rows)
    return account_id


def commune_ids_for(conn: Connection, account_id: int, role: str) -> frozenset[int] | None:
    """The communes an account works in (None for an admin: every commune)."""
    if role == "admin":
        return None
    query = select(account_commune.c.commune_id).where(account_commune.c.account_id == account_id)
    return frozenset(int(value) for value in conn.execute(query).scalars())


def _account_row(conn: Connection, username: str) -> RowMapping:
    row = conn.execute(select(account).where(account.c.username == username)).mappings().first()
    if row is None:
        raise NotFoundError(f"no account is called {username!r}")
    return row


def _info(conn: Connection, row: RowMapping) -> AccountInfo:
    communes = commune_ids_for(conn, row["id"], row["role"])
    return AccountInfo(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        commune_ids=None if communes is None else tuple(sorted(communes)),
        language=row["language"],
        disabled=row["disabled_at"] is not None,
    )


def account_info(conn: Connection, account_id: int) -> AccountInfo:
    """One account by id."""
    row = conn.execute(select(account).where(account.c.id == account_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"no account has id {account_id}")
    return _info(conn, row)


def list_accounts(conn: Connection) -> list[AccountInfo]:
    """Every account (disabled ones too), by user name."""
    rows = conn.execute(select(account).order_by(account.c.username)).mappings().all()
    return [_info(conn, row) for row in rows]


def disable_account(conn: Connection, *, username: str) -> AccountInfo:
    """Disable an account (never deleted): its log-ins, sessions and tokens stop working at once."""
    row = _account_row(conn, username)
    now = _now()
    conn.execute(
        update(account)
        .where(account.c.id == row["id"], account.c.disabled_at.is_(None))
        .values(disabled_at=now, updated_at=now)
    )
    conn.execute(
        update(login_session)
        .where(login_session.c.account_id == row["id"], login_session.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return account_info(conn, row["id"])


# --- log-in --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What a log-in attempt came to: the account, or why not (and for how long it is locked).

    The attempt is recorded whatever the outcome, so the caller commits first and then
    calls :meth:`raise_for_failure`.
    """

    account_id: int | None
    reason: str | None = None
    retry_after_s: int = 0

    def raise_for_failure(self) -> int:
        """The account id of a success; LoginThrottledError or AuthenticationError otherwise."""
        if self.account_id is not None:
            return self.account_id
        if self.retry_after_s > 0:
            raise LoginThrottledError(self.retry_after_s)
        raise AuthenticationError(GENERIC_FAILURE)


def _record_attempt(conn: Connection, username: str, remote: str | None, reason: str | None) -> None:
    values = {"username": username, "remote": remote, "succeeded": reason is None, "reason": reason}
    conn.execute(insert(login_attempt).values(values))
    if reason is None:
        log.info("log-in of %r from %s", username, remote)
    else:
        log.warning("failed log-in for %r from %s: %s", username, remote, reason)


def _password_matches(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _failed(conn: Connection, row: RowMapping, *, now: dt.datetime, policy: LoginPolicy) -> int:
    """Count a wrong password; lock the account when the failures pass the free attempts."""
    failures = row["failed_logins"] + 1
    delay = lock_seconds(failures, policy=policy)
    locked_until = now + dt.timedelta(seconds=delay) if delay else None
    conn.execute(
        update(account)
        .where(account.c.id == row["id"])
        .values(failed_logins=failures, locked_until=locked_until)
    )
    return delay


def _succeeded(conn: Connection, row: RowMapping, password: str) -> None:
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
    if _hasher.check_needs_rehash(row["password_hash"]):
        values["password_hash"] = _hasher.hash(password)
    conn.execute(update(account).where(account.c.id == row["id"]).values(values))


def _locked_for(row: RowMapping, now: dt.datetime) -> int:
    """Seconds the account stays locked (0: not locked)."""
    until: dt.datetime | None = row["locked_until"]
    if until is None or until <= now:
        return 0
    return max(1, int((until - now).total_seconds() + 0.999))


def _check_account(conn: Connection, row: RowMapping, password: str, policy: LoginPolicy) -> LoginResult:
    now = _now()
    if (locked := _locked_for(row, now)) > 0:
        return LoginResult(None, "locked", retry_after_s=locked)
    if not _password_matches(row["password_hash"], password):
        delay = _failed(conn, row, now=now, policy=policy)
        return LoginResult(None, "wrong password", retry_after_s=delay)
    if row["disabled_at"] is not None:
        return LoginResult(None, "disabled")
    _succeeded(conn, row, password)
    return LoginResult(row["id"])


def attempt_login(
    conn: Connection,
    *,
    username: str,
    password: str,
    remote: str | None = None,
    policy: LoginPolicy | None = None,
) -> LoginResult:
    """Check a user name and password; record the attempt (and a failure's slow-down) either way.

    A locked account is refused without looking at the password; an unknown user name
    costs as much time as a known one (a dummy hash is checked).
    """
    query = select(account).where(account.c.username == username).with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        _password_matches(None, password)
        result = LoginResult(None, "unknown user")
    else:
        result = _check_account(conn, row, password, policy or LoginPolicy())
    _record_attempt(conn, username, remote, result.reason)
    return result


# --- sessions ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just opened: the cookie's secret (shown once), its CSRF token and end."""

    token: str
    csrf_token: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SessionPrincipal:
    """The principal behind a session cookie, with the CSRF token its writes must carry."""

    principal: Principal
    csrf_token: str
    expires_at: dt.datetime


def open_session(
    conn: Connection,
    *,
    account_id: int,
    lifetime: dt.timedelta,
    remote: str | None = None,
    user_agent: str | None = None,
) -> NewSession:
    """Open a log-in session: a random 32-byte cookie secret, stored as its SHA-256."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = _now()
    expires_at = now + lifetime
    values = {
        "account_id": account_id,
        "token_hash": token_hash(token),
        "csrf_token": csrf,
        "expires_at": expires_at,
        "last_seen_at": now,
        "remote": remote,
        "user_agent": None if user_agent is None else user_agent[:500],
    }
    conn.execute(insert(login_session).values(values))
    return NewSession(token, csrf, expires_at)


def _principal(conn: Connection, row: RowMapping, *, role: str, via: Via) -> Principal:
    communes = commune_ids_for(conn, row["account_id"], row["account_role"])
    return Principal(
        account_id=row["account_id"],
        username=row["username"],
        role=_check_role(role),
        commune_ids=communes,
        via=via,
    )


@dataclass(frozen=True, slots=True)
class _CredentialKind:
    """A table of hashed secrets (sessions, API tokens): what to read, when it was last seen, what to say."""

    table: Table
    columns: tuple[str, ...]
    seen: str
    invalid: str
    expired: str


SESSION_CREDENTIAL: Final = _CredentialKind(
    login_session,
    ("id", "account_id", "csrf_token", "expires_at", "last_seen_at", "revoked_at"),
    "last_seen_at",
    "the session is not valid (logged out or disabled): log in again",
    "the session has expired: log in again",
)
TOKEN_CREDENTIAL: Final = _CredentialKind(
    api_token,
    ("id", "account_id", "role", "commune_ids", "expires_at", "last_used_at", "revoked_at"),
    "last_used_at",
    "the API token is not valid (unknown, revoked, or its account disabled)",
    "the API token has expired",
)


def _live_credential(conn: Connection, kind: _CredentialKind, token: str) -> RowMapping:
    """The row of a secret with its account's name, role and state; its use recorded (to the minute).

    AuthenticationError when unknown, revoked, expired or its account disabled.
    """
    table = kind.table
    query = (
        select(
            *(table.c[name] for name in kind.columns),
            account.c.username,
            account.c.role.label("account_role"),
            account.c.disabled_at,
        )
        .join(account, account.c.id == table.c.account_id)
        .where(table.c.token_hash == token_hash(token))
    )
    row = conn.execute(query).mappings().first()
    now = _now()
    if row is None or row["revoked_at"] is not None or row["disabled_at"] is not None:
        raise AuthenticationError(kind.invalid)
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise AuthenticationError(kind.expired)
    if row[kind.seen] is None or now - row[kind.seen] >= LAST_SEEN_EVERY:
        conn.execute(update(table).where(table.c.id == row["id"]).values({kind.seen: now}))
    return row


def resolve_session(conn: Connection, token: str) -> SessionPrincipal:
    """The principal of a session cookie; AuthenticationError when unknown, expired, revoked or disabled."""
    row = _live_credential(conn, SESSION_CREDENTIAL, token)
    principal = _principal(conn, row, role=row["account_role"], via="session")
    return SessionPrincipal(principal, row["csrf_token"], row["expires_at"])


def revoke_session(conn: Connection, token: str) -> bool:
    """End a session (log-out); whether there was one still open."""
    done = conn.execute(
        update(login_session)
        .where(login_session.c.token_hash == token_hash(token), login_session.c.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    return done.rowcount > 0


# --- API tokens ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just created: ``token`` is shown this once and never stored."""

    id: int
    token: str
    prefix: str


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as listed (never the secret)."""

    id: int
    username: str
    name: str
    prefix: str
    role: Role
    commune_ids: tuple[int, ...] | None
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked: bool


def _token_scope(
    conn: Connection, row: RowMapping, role: str | None, communes: Sequence[int | str] | None
) -> tuple[Role, list[int] | None]:
    """The role and communes of a new token: at most the account's."""
    account_role: Role = row["role"]
    chosen = _check_role(role) if role is not None else account_role
    if ROLE_RANK[chosen] > ROLE_RANK[account_role]:
        raise PermissionDeniedError(
            f"a token of {row['username']!r} cannot have role {chosen}: above {account_role}"
        )
    if communes is None:
        return chosen, None
    ids = resolve_communes(conn, communes)
    allowed = commune_ids_for(conn, row["id"], account_role)
    outside = [unit for unit in ids if allowed is not None and unit not in allowed]
    if outside:
        raise PermissionDeniedError(f"communes {outside} are not among those of {row['username']!r}")
    return chosen, list(ids)


class TokenScope(TypedDict, total=False):
    """What a token may be narrowed to: a lower role, fewer communes, an expiry in days."""

    role: str | None
    communes: Sequence[int | str] | None
    expires_days: float | None


def create_api_token(conn: Connection, *, username: str, name: str, **scope: Unpack[TokenScope]) -> NewToken:
    """Create an API token for an account, at most its role and within its communes.

    The token is returned once; only its SHA-256 and first characters are stored.
    """
    role, communes, expires_days = scope.get("role"), scope.get("communes"), scope.get("expires_days")
    row = _account_row(conn, username)
    if row["disabled_at"] is not None:
        raise PermissionDeniedError(f"account {username!r} is disabled")
    if not name.strip():
        raise InvalidParameterError("name", "say what the token is for")
    if expires_days is not None and expires_days <= 0:
        raise InvalidParameterError("expires_days", f"must be positive, got {expires_days}")
    chosen, commune_ids = _token_scope(conn, row, role, communes)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = None if expires_days is None else _now() + dt.timedelta(days=expires_days)
    values = {
        "account_id": row["id"],
        "name": name.strip(),
        "token_hash": token_hash(secret),
        "prefix": secret[:SHOWN_PREFIX_CHARS],
        "role": chosen,
        "commune_ids": commune_ids,
        "expires_at": expires_at,
    }
    token_id = int(conn.execute(insert(api_token).values(values).returning(api_token.c.id)).scalar_one())
    return NewToken(token_id, secret, secret[:SHOWN_PREFIX_CHARS])


def _token_communes(conn: Connection, row: RowMapping) -> frozenset[int] | None:
    """The token's communes within the account's current ones (None: every commune)."""
    allowed = commune_ids_for(conn, row["account_id"], row["account_role"])
    scoped = row["commune_ids"]
    if scoped is None:
        return allowed
    mine = frozenset(int(unit) for unit in scoped)
    return mine if allowed is None else mine & allowed


def resolve_token(conn: Connection, token: str) -> Principal:
    """The principal of an API token, its last use recorded (to the minute); AuthenticationError if invalid.

    The role is the lower of the token's and the account's (an account demoted since keeps
    no more than its new role).
    """
    row = _live_credential(conn, TOKEN_CREDENTIAL, token)
    role = min(row["role"], row["account_role"], key=ROLE_RANK.__getitem__)
    return Principal(
        account_id=row["account_id"],
        username=row["username"],
        role=_check_role(role),
        commune_ids=_token_communes(conn, row),
        via="token",
    )


def list_tokens(conn: Connection) -> list[TokenInfo]:
    """Every API token (revoked ones too), newest first."""
    query = (
        select(api_token, account.c.username)
        .join(account, account.c.id == api_token.c.account_id)
        .order_by(api_token.c.id.desc())
    )
    return [
        TokenInfo(
            id=row["id"],
            username=row["username"],
            name=row["name"],
            prefix=row["prefix"],
            role=row["role"],
            commune_ids=None if row["commune_ids"] is None else tuple(row["commune_ids"]),
            expires_at=row["expires_at"],
            last_used_at=row["last_used_at"],
            revoked=row["revoked_at"] is not None,
        )
        for row in conn.execute(query).mappings()
    ]


def revoke_token(conn: Connection, *, token_id: int) -> None:
    """Revoke an API token for good (NotFoundError when there is none with that id)."""
    found = conn.execute(select(api_token.c.revoked_at).where(api_token.c.id == token_id)).first()
    if found is None:
        raise NotFoundError(f"no API token has id {token_id}")
    conn.execute(
        update(api_token)
        .where(api_token.c.id == token_id, api_token.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
