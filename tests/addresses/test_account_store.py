"""Accounts on the real database: argon2id passwords, slowed-down log-ins, sessions and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

import pytest
from sqlalchemy import Connection, func, select, update

from addresses import account_store
from addresses.account_store import (
    LoginPolicy,
    attempt_login,
    create_account,
    create_api_token,
    disable_account,
    open_session,
    resolve_communes,
    resolve_session,
    resolve_token,
    revoke_session,
    revoke_token,
)
from addresses.errors import (
    AuthenticationError,
    InvalidParameterError,
    LoginThrottledError,
    NotFoundError,
    PermissionDeniedError,
)
from addresses.schema import account, api_token, login_attempt, login_session

pytestmark = pytest.mark.db

HOA_BINH = "04795"  # Phường Hòa Bình
MAI_CHAU = "05200"  # Xã Mai Châu
PASSWORD = "correct horse battery staple"
HOUR = dt.timedelta(hours=1)


def _account(conn: Connection, username: str) -> dict[str, object]:
    return dict(conn.execute(select(account).where(account.c.username == username)).mappings().one())


def _attempts(conn: Connection, username: str) -> list[tuple[bool, str | None]]:
    query = select(login_attempt.c.succeeded, login_attempt.c.reason).where(
        login_attempt.c.username == username
    )
    return [(row.succeeded, row.reason) for row in conn.execute(query.order_by(login_attempt.c.id))]


def test_passwords_are_stored_as_argon2id_hashes(conn: Connection) -> None:
    create_account(conn, username="lan", role="editor", password=PASSWORD, communes=[HOA_BINH])
    stored = str(_account(conn, "lan")["password_hash"])
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert attempt_login(conn, username="lan", password=PASSWORD).account_id is not None
    assert attempt_login(conn, username="lan", password=PASSWORD + "x").account_id is None


def test_bad_accounts_are_refused_naming_what(conn: Connection) -> None:
    with pytest.raises(InvalidParameterError) as short:
        create_account(conn, username="a", role="admin", password="short")
    assert short.value.parameter == "password"
    with pytest.raises(InvalidParameterError) as role:
        create_account(conn, username="a", role="boss", password=PASSWORD)
    assert role.value.parameter == "role"
    with pytest.raises(InvalidParameterError) as communes:
        create_account(conn, username="a", role="editor", password=PASSWORD)
    assert communes.value.parameter == "commune"
    with pytest.raises(InvalidParameterError) as unknown:
        create_account(conn, username="a", role="editor", password=PASSWORD, communes=["99999"])
    assert "99999" in str(unknown.value)
    with pytest.raises(InvalidParameterError) as name:
        create_account(conn, username="two words", role="admin", password=PASSWORD)
    assert name.value.parameter == "username"
    create_account(conn, username="a", role="admin", password=PASSWORD)
    with pytest.raises(InvalidParameterError, match="taken"):
        create_account(conn, username="a", role="admin", password=PASSWORD)


def test_communes_are_current_ones_by_code_or_id(conn: Connection) -> None:
    [by_code] = resolve_communes(conn, [HOA_BINH])
    assert resolve_communes(conn, [by_code, HOA_BINH]) == (by_code,)
    with pytest.raises(InvalidParameterError):
        resolve_communes(conn, ["04"])  # a province code is no commune


def test_failed_log_ins_slow_down_and_every_attempt_is_logged(
    conn: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    create_account(conn, username="lan", role="editor", password=PASSWORD, communes=[HOA_BINH])
    policy = LoginPolicy(free_attempts=2, base_delay_s=10, max_delay_s=25)
    with caplog.at_level(logging.WARNING, logger="addresses.account_store"):
        first = attempt_login(conn, username="lan", password="wrong one", remote="10.0.0.7", policy=policy)
        assert (first.account_id, first.retry_after_s) == (None, 0)
        with pytest.raises(AuthenticationError, match="wrong user name or password"):
            first.raise_for_failure()
        assert attempt_login(conn, username="lan", password="wrong two", policy=policy).retry_after_s == 0
        third = attempt_login(conn, username="lan", password="wrong three", policy=policy)
        assert third.retry_after_s == 10  # past the free attempts: locked
        row = _account(conn, "lan")
        assert row["failed_logins"] == 3
        assert isinstance(row["locked_until"], dt.datetime)
        locked = attempt_login(conn, username="lan", password=PASSWORD, policy=policy)  # the right one
        assert locked.account_id is None
        assert 1 <= locked.retry_after_s <= 10
        with pytest.raises(LoginThrottledError) as throttled:
            locked.raise_for_failure()
        assert throttled.value.retry_after_s == locked.retry_after_s
        unknown = attempt_login(conn, username="nobody", password=PASSWORD, policy=policy)
        assert unknown.account_id is None
    assert _attempts(conn, "lan") == [(False, "wrong password")] * 3 + [(False, "locked")]
    assert _attempts(conn, "nobody") == [(False, "unknown user")]
    logged = [record.getMessage() for record in caplog.records]
    assert "failed log-in for 'lan' from 10.0.0.7: wrong password" in logged
    assert any("'nobody'" in message and "unknown user" in message for message in logged)

    # the lock runs out; then two more failures double it, up to the most
    conn.execute(update(account).where(account.c.username == "lan").values(locked_until=func.now()))
    assert attempt_login(conn, username="lan", password="wrong", policy=policy).retry_after_s == 20
    conn.execute(update(account).where(account.c.username == "lan").values(locked_until=func.now()))
    assert attempt_login(conn, username="lan", password="wrong", policy=policy).retry_after_s == 25
    conn.execute(update(account).where(account.c.username == "lan").values(locked_until=func.now()))
    assert attempt_login(conn, username="lan", password=PASSWORD, policy=policy).account_id is not None
    row = _account(conn, "lan")
    assert (row["failed_logins"], row["locked_until"]) == (0, None)  # a success resets it
    assert _attempts(conn, "lan")[-1] == (True, None)


def test_a_disabled_account_cannot_log_in_and_its_sessions_end(conn: Connection) -> None:
    account_id = create_account(conn, username="lan", role="editor", password=PASSWORD, communes=[HOA_BINH])
    session = open_session(conn, account_id=account_id, lifetime=HOUR)
    assert resolve_session(conn, session.token).principal.username == "lan"
    assert disable_account(conn, username="lan").disabled
    assert attempt_login(conn, username="lan", password=PASSWORD).account_id is None
    assert _attempts(conn, "lan") == [(False, "disabled")]
    with pytest.raises(AuthenticationError):
        resolve_session(conn, session.token)
    assert conn.execute(select(func.count()).select_from(account)).scalar_one() >= 1  # kept, not deleted
    with pytest.raises(NotFoundError):
        disable_account(conn, username="nobody")


def test_sessions_store_a_hash_expire_and_end_at_log_out(conn: Connection) -> None:
    account_id = create_account(conn, username="lan", role="approver", password=PASSWORD, communes=[HOA_BINH])
    session = open_session(conn, account_id=account_id, lifetime=HOUR, remote="10.0.0.7", user_agent="test")
    assert len(session.token) >= 43  # 32 random bytes, base64url
    row = conn.execute(select(login_session).where(login_session.c.account_id == account_id)).mappings().one()
    assert row["token_hash"] == hashlib.sha256(session.token.encode()).hexdigest()
    assert session.token not in {str(value) for value in row.values()}
    found = resolve_session(conn, session.token)
    assert (found.principal.role, found.principal.via, found.csrf_token) == (
        "approver",
        "session",
        session.csrf_token,
    )
    assert found.principal.commune_ids == frozenset(resolve_communes(conn, [HOA_BINH]))
    assert row["expires_at"] - row["created_at"] == pytest.approx(HOUR, abs=dt.timedelta(seconds=5))

    with pytest.raises(AuthenticationError):
        resolve_session(conn, session.token + "x")
    conn.execute(update(login_session).where(login_session.c.id == row["id"]).values(expires_at=func.now()))
    with pytest.raises(AuthenticationError, match="expired"):
        resolve_session(conn, session.token)

    other = open_session(conn, account_id=account_id, lifetime=HOUR)
    assert revoke_session(conn, other.token)
    assert not revoke_session(conn, other.token)  # once
    with pytest.raises(AuthenticationError):
        resolve_session(conn, other.token)


def test_tokens_are_shown_once_stored_hashed_scoped_and_revocable(conn: Connection) -> None:
    create_account(conn, username="lan", role="editor", password=None, communes=[HOA_BINH, MAI_CHAU])
    hoa_binh, mai_chau = resolve_communes(conn, [HOA_BINH, MAI_CHAU])
    made = create_api_token(conn, username="lan", name="sync", communes=[HOA_BINH], expires_days=30)
    row = conn.execute(select(api_token).where(api_token.c.id == made.id)).mappings().one()
    assert row["token_hash"] == hashlib.sha256(made.token.encode()).hexdigest()
    assert made.token not in {str(value) for value in row.values()}
    assert made.token.startswith(row["prefix"])
    assert row["last_used_at"] is None

    principal = resolve_token(conn, made.token)
    assert (principal.username, principal.role, principal.via) == ("lan", "editor", "token")
    assert principal.commune_ids == frozenset({hoa_binh})  # the token's communes, not all of lan's
    assert (
        conn.execute(select(api_token.c.last_used_at).where(api_token.c.id == made.id)).scalar() is not None
    )

    whole = create_api_token(conn, username="lan", name="all of lan's", role="viewer")
    assert resolve_token(conn, whole.token).role == "viewer"
    assert resolve_token(conn, whole.token).commune_ids == frozenset({hoa_binh, mai_chau})

    with pytest.raises(PermissionDeniedError):
        create_api_token(conn, username="lan", name="too high", role="admin")
    with pytest.raises(PermissionDeniedError):
        create_api_token(conn, username="lan", name="elsewhere", communes=["04924"])  # not lan's
    with pytest.raises(InvalidParameterError):
        create_api_token(conn, username="lan", name="  ")

    revoke_token(conn, token_id=made.id)
    with pytest.raises(AuthenticationError):
        resolve_token(conn, made.token)
    with pytest.raises(NotFoundError):
        revoke_token(conn, token_id=10**9)
    conn.execute(update(api_token).where(api_token.c.id == whole.id).values(expires_at=func.now()))
    with pytest.raises(AuthenticationError, match="expired"):
        resolve_token(conn, whole.token)


def test_a_token_never_outranks_its_account(conn: Connection) -> None:
    create_account(conn, username="boss", role="admin", password=None)
    made = create_api_token(conn, username="boss", name="ops")
    assert resolve_token(conn, made.token).commune_ids is None  # an admin's: every commune
    conn.execute(update(account).where(account.c.username == "boss").values(role="editor"))
    assert resolve_token(conn, made.token).role == "editor"  # demoted since: no more than editor
    disable_account(conn, username="boss")
    with pytest.raises(AuthenticationError):
        resolve_token(conn, made.token)
    with pytest.raises(PermissionDeniedError):
        create_api_token(conn, username="boss", name="again")


def test_token_hash_is_sha256() -> None:
    assert account_store.token_hash("dcs_x") == hashlib.sha256(b"dcs_x").hexdigest()
