"""Staff log-in for the viewer: ``/auth/login``, ``/auth/logout``, ``/auth/me``.

A log-in sets the session cookie ``diachiso_session`` (HttpOnly, SameSite=Strict,
Path=/, Secure over https or when DIACHISO_COOKIE_SECURE says so) and answers the
CSRF token that every write made with that cookie sends back in ``X-CSRF-Token``.
Machines use API tokens instead (``Authorization: Bearer``, no CSRF). Thin glue over
:mod:`addresses.account_store`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from addresses.account_store import (
    LoginPolicy,
    LoginResult,
    NewSession,
    SessionPrincipal,
    account_info,
    attempt_login,
    open_session,
    resolve_session,
    revoke_session,
)
from addresses.errors import AuthenticationError
from api.deps import CSRF_HEADER, SESSION_COOKIE, Db, OptionalPrincipal, check_csrf, session_cookie
from api.settings import ApiSettings

router = APIRouter(prefix="/auth", tags=["auth"])

_ERROR: Final = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}


class LoginRequest(BaseModel):
    """A user name and password."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=200, examples=["lan.nguyen"])
    password: str = Field(min_length=1, max_length=1000)


class AccountOut(BaseModel):
    """The account logged in: role, communes (null: every commune) and the viewer's language."""

    id: int
    username: str
    display_name: str | None
    role: str
    commune_ids: list[int] | None
    language: str


class SessionAnswer(BaseModel):
    """The account, and for a session cookie the CSRF token its writes send and when it expires."""

    account: AccountOut
    csrf_token: str | None = Field(
        description=f"Send it in {CSRF_HEADER} with every write (null for tokens)."
    )
    expires_at: dt.datetime | None


def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.api_settings
    return settings


def _secure(request: Request) -> bool:
    """Whether the session cookie gets the Secure flag."""
    configured = _settings(request).cookie_secure
    return request.url.scheme == "https" if configured is None else configured


def _log_in(
    conn: Connection, request: Request, login: LoginRequest
) -> tuple[LoginResult, NewSession | None, AccountOut | None]:
    """Check the password (the attempt is recorded either way); open a session when it is right."""
    settings = _settings(request)
    policy = LoginPolicy(
        free_attempts=settings.login_free_attempts,
        base_delay_s=settings.login_first_lock_s,
        max_delay_s=settings.login_max_lock_s,
    )
    remote = request.client.host if request.client else None
    result = attempt_login(
        conn, username=login.username, password=login.password, remote=remote, policy=policy
    )
    if result.account_id is None:
        return result, None, None
    session = open_session(
        conn,
        account_id=result.account_id,
        lifetime=dt.timedelta(hours=settings.session_hours),
        remote=remote,
        user_agent=request.headers.get("user-agent"),
    )
    return result, session, AccountOut(**account_info(conn, result.account_id).as_json())


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        401: "Wrong user name or password (one message whatever was wrong), or not logged in.",
        403: f"A session cookie without the right {CSRF_HEADER} header.",
        422: "The body is not a user name and a password.",
        429: "Too many failed log-ins in a row: the account is locked for Retry-After seconds.",
    }
    return {status: {"description": described[status], "content": _ERROR} for status in statuses}


@router.post(
    "/login",
    response_model=SessionAnswer,
    summary="Log in (sets the session cookie)",
    responses=_responses(401, 422, 429),
)
def post_login(*, request: Request, response: Response, db: Db, login: LoginRequest) -> SessionAnswer:
    """Check the user name and password; set the session cookie and answer the CSRF token.

    Every attempt is recorded; after a few failures in a row each further one locks the
    account for a while that doubles (429 with Retry-After).
    """
    with db.begin() as conn:
        result, session, account = _log_in(conn, request, login)
    result.raise_for_failure()  # after the commit: a failure is recorded too
    assert session is not None
    assert account is not None
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=int((session.expires_at - dt.datetime.now(dt.UTC)).total_seconds()),
        expires=session.expires_at,
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    return SessionAnswer(account=account, csrf_token=session.csrf_token, expires_at=session.expires_at)


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    summary="Log out (ends the session, clears the cookie)",
    responses=_responses(403),
)
def post_logout(
    *, request: Request, db: Db, cookie: Annotated[str | None, Depends(session_cookie)]
) -> Response:
    """End the session of the cookie (which needs its X-CSRF-Token) and clear the cookie."""
    if cookie is not None:
        with db.begin() as conn:
            try:
                session: SessionPrincipal | None = resolve_session(conn, cookie)
            except AuthenticationError:
                session = None  # already ended: nothing to revoke, the cookie is cleared anyway
            if session is not None:
                check_csrf(request, session)
                revoke_session(conn, cookie)
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=_secure(request), httponly=True, samesite="strict"
    )
    return response


@router.get(
    "/me",
    response_model=SessionAnswer,
    summary="The account logged in",
    responses=_responses(401),
)
def get_me(*, request: Request, db: Db, who: OptionalPrincipal) -> SessionAnswer:
    """The account behind the session cookie or API token (its role and communes as they apply now)."""
    if who is None or who.account_id is None:
        raise AuthenticationError("not logged in")
    with db.connect() as conn:
        shown = account_info(conn, who.account_id).as_json()
    communes = None if who.commune_ids is None else sorted(who.commune_ids)
    account = AccountOut(**{**shown, "role": who.role, "commune_ids": communes})
    session: SessionPrincipal | None = getattr(request.state, "session", None)
    if session is None:
        return SessionAnswer(account=account, csrf_token=None, expires_at=None)
    return SessionAnswer(account=account, csrf_token=session.csrf_token, expires_at=session.expires_at)
