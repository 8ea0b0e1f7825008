"""Log-in over HTTP: the cookie's flags, CSRF, log-out, slowed-down failures, tokens, disabled accounts.

Accounts are committed (the app sees them) under names of their own; addresses made
here are removed at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select, update

from addresses.account_store import disable_account
from addresses.schema import (
    account,
    address,
    address_history,
    api_token,
    login_attempt,
    login_session,
    tile_invalidation,
)
from addresses.settings import DatabaseSettings
from api.app import create_app
from api.settings import ApiSettings
from tests.accounts import PASSWORD, create_account, create_token, login

pytestmark = pytest.mark.db

HOA_BINH = "04795"


def _feature(lon: float, lat: float, house_number: str) -> dict[str, object]:
    """A new address as the editing routes take it (these tests register it again and again)."""
    point = {"type": "Point", "coordinates": [lon, lat]}
    properties = {"house_number": house_number}
    return {"type": "Feature", "geometry": point, "properties": properties, "confirm_duplicate": True}


POINT = _feature(105.3446, 20.8121, "7")  # in Phường Hòa Bình
MAI_CHAU_POINT = _feature(105.0833, 20.6601, "7")  # Xã Mai Châu


def _name(role: str) -> str:
    return f"{role}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def made(engine: Engine) -> Iterator[list[str]]:
    """Registry codes of addresses created here, deleted at the end."""
    codes: list[str] = []
    yield codes
    with engine.begin() as conn:
        ids = list(conn.execute(select(address.c.id).where(address.c.registry_code.in_(codes))).scalars())
        conn.execute(delete(address_history).where(address_history.c.address_id.in_(ids)))
        conn.execute(delete(address).where(address.c.id.in_(ids)))
        conn.execute(delete(tile_invalidation).where(tile_invalidation.c.layer == "address"))


@pytest.fixture
def browser(app_client: TestClient) -> TestClient:
    """A client of its own (its own cookie jar) on the session's app."""
    return TestClient(app_client.app)


def _editor(engine: Engine, role: str = "editor") -> str:
    username = _name(role)
    with engine.begin() as conn:
        create_account(conn, username=username, role=role, communes=[HOA_BINH])  # type: ignore[arg-type]
    return username


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == status
    return error


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(address)).scalar_one())


def test_log_in_sets_a_strict_http_only_cookie_and_answers_the_account(
    engine: Engine, browser: TestClient
) -> None:
    username = _editor(engine)
    answer = browser.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["account"]["username"] == username
    assert body["account"]["role"] == "editor"
    assert len(body["account"]["commune_ids"]) == 1
    assert len(body["csrf_token"]) >= 40
    [header] = answer.headers.get_list("set-cookie")
    cookie = SimpleCookie(header)["diachiso_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "strict"
    assert cookie["path"] == "/"
    assert not cookie["secure"]  # plain http (tests): no Secure flag
    assert 12 * 3600 - 60 <= int(cookie["max-age"]) <= 12 * 3600
    assert len(cookie.value) >= 43
    with engine.connect() as conn:  # only the hash is stored
        stored = conn.execute(
            select(login_session.c.token_hash).where(login_session.c.token_hash == cookie.value)
        )
        assert stored.first() is None
    me = browser.get("/auth/me").json()
    assert me["account"]["username"] == username
    assert me["csrf_token"] == body["csrf_token"]


def test_the_cookie_is_secure_over_https_or_when_configured(engine: Engine, app_client: TestClient) -> None:
    username = _editor(engine)
    over_https = TestClient(app_client.app, base_url="https://testserver")
    answer = over_https.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert SimpleCookie(answer.headers["set-cookie"])["diachiso_session"]["secure"] is True
    settings = ApiSettings(cookie_secure=True, session_hours=1)
    app = create_app(
        DatabaseSettings(database_url=str(engine.url.render_as_string(hide_password=False))), settings
    )
    with TestClient(app) as proxied:  # plain http behind a TLS proxy
        answer = proxied.post("/auth/login", json={"username": username, "password": PASSWORD})
    cookie = SimpleCookie(answer.headers["set-cookie"])["diachiso_session"]
    assert cookie["secure"] is True
    assert 3600 - 60 <= int(cookie["max-age"]) <= 3600


def test_cookie_writes_need_the_csrf_header(engine: Engine, browser: TestClient, made: list[str]) -> None:
    csrf = login(browser, _editor(engine))
    before = _count(engine)
    missing = _error(browser.post("/addresses", json=POINT), 403)
    assert "X-CSRF-Token" in missing["message"]
    wrong = _error(browser.post("/addresses", json=POINT, headers={"X-CSRF-Token": "guess"}), 403)
    assert "X-CSRF-Token" in wrong["message"]
    assert _count(engine) == before  # nothing written
    elsewhere = _error(browser.post("/addresses", json=MAI_CHAU_POINT, headers={"X-CSRF-Token": csrf}), 403)
    assert "communes" in elsewhere["message"]  # CSRF passed; the commune did not
    assert _count(engine) == before
    created = browser.post("/addresses", json=POINT, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    made.append(created.json()["id"])
    assert _count(engine) == before + 1


def test_log_out_revokes_the_session_and_clears_the_cookie(engine: Engine, browser: TestClient) -> None:
    csrf = login(browser, _editor(engine))
    cookie = browser.cookies["diachiso_session"]
    refused = _error(browser.post("/auth/logout"), 403)  # the cookie needs its CSRF header here too
    assert "X-CSRF-Token" in refused["message"]
    assert browser.get("/auth/me").status_code == 200
    out = browser.post("/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    cleared = SimpleCookie(out.headers["set-cookie"])["diachiso_session"]
    assert cleared.value == ""
    assert int(cleared["max-age"]) == 0
    with engine.connect() as conn:
        revoked = conn.execute(
            select(login_session.c.revoked_at).order_by(login_session.c.id.desc()).limit(1)
        ).scalar()
    assert revoked is not None
    stolen = TestClient(browser.app, cookies={"diachiso_session": cookie})  # the old cookie, sent again
    assert _error(stolen.get("/auth/me"), 401)
    assert _error(stolen.post("/addresses", json=POINT, headers={"X-CSRF-Token": csrf}), 401)
    assert stolen.post("/auth/logout").status_code == 204  # an ended session: nothing to do


@pytest.fixture(scope="module")
def slow_locks(engine: Engine) -> Iterator[TestClient]:
    """An app whose first lock lasts 60 s (the default 1 s could pass before the next request)."""
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(DatabaseSettings(database_url=url), ApiSettings(login_first_lock_s=60))
    with TestClient(app) as test_client:
        yield test_client


def test_wrong_passwords_get_one_message_then_429_and_every_attempt_is_kept(
    engine: Engine, slow_locks: TestClient
) -> None:
    browser = slow_locks
    username = _editor(engine)
    unknown = _error(browser.post("/auth/login", json={"username": "x" + username, "password": "p"}), 401)
    for _ in range(3):  # the free attempts (DIACHISO_LOGIN_FREE_ATTEMPTS=3)
        wrong = _error(browser.post("/auth/login", json={"username": username, "password": "nope"}), 401)
        assert wrong["message"] == unknown["message"] == "wrong user name or password"
    fourth = browser.post("/auth/login", json={"username": username, "password": "nope"})
    assert _error(fourth, 429)["type"] == "LoginThrottledError"  # it locks the account: 1 s
    assert fourth.headers["retry-after"] == "60"
    locked = browser.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert _error(locked, 429)["type"] == "LoginThrottledError"  # even the right password, meanwhile
    assert 1 <= int(locked.headers["retry-after"]) <= 60
    assert "diachiso_session" not in browser.cookies
    with engine.connect() as conn:
        reasons = conn.execute(
            select(login_attempt.c.reason)
            .where(login_attempt.c.username == username)
            .order_by(login_attempt.c.id)
        ).scalars()
        assert list(reasons) == ["wrong password"] * 4 + ["locked"]
    with engine.begin() as conn:
        conn.execute(update(account).where(account.c.username == username).values(locked_until=func.now()))
    assert login(browser, username)  # the lock is over


def test_a_disabled_account_is_refused_at_once(engine: Engine, browser: TestClient) -> None:
    username = _editor(engine)
    csrf = login(browser, username)
    with engine.begin() as conn:
        disable_account(conn, username=username)
    assert _error(browser.get("/auth/me"), 401)
    assert _error(browser.post("/addresses", json=POINT, headers={"X-CSRF-Token": csrf}), 401)
    assert _error(browser.post("/auth/login", json={"username": username, "password": PASSWORD}), 401)
    assert browser.get("/units/04795").status_code == 200  # reads stay open (the cookie is ignored)


def test_tokens_authenticate_record_their_use_and_stop_when_revoked(
    engine: Engine, app_client: TestClient, made: list[str]
) -> None:
    with engine.begin() as conn:
        token = create_token(conn, username=_name("machine"), role="editor", communes=[HOA_BINH])
    machine = TestClient(app_client.app, headers={"Authorization": f"Bearer {token}"})
    me = machine.get("/auth/me").json()
    assert (me["account"]["role"], me["csrf_token"]) == ("editor", None)
    created = machine.post(
        "/addresses", json={**POINT, "properties": {"house_number": "9"}}
    )  # no CSRF for tokens
    assert created.status_code == 201, created.text
    made.append(created.json()["id"])
    with engine.connect() as conn:
        row = conn.execute(select(api_token).where(api_token.c.prefix == token[:12])).mappings().one()
    assert row["last_used_at"] is not None
    assert _error(machine.post("/addresses", json=MAI_CHAU_POINT), 403)  # outside its communes
    with engine.begin() as conn:
        conn.execute(update(api_token).where(api_token.c.id == row["id"]).values(revoked_at=func.now()))
    assert _error(machine.post("/addresses", json=POINT), 401)
    assert _error(machine.get("/auth/me"), 401)  # a bad token is refused, even on a read
    assert machine.get("/units/04795", headers={"Authorization": ""}).status_code == 200


def test_roles_below_editor_cannot_write(engine: Engine, app_client: TestClient) -> None:
    with engine.begin() as conn:
        viewer = create_token(conn, username=_name("viewer"), role="viewer", communes=[HOA_BINH])
        narrowed = _name("editor")
        create_account(conn, username=narrowed, role="editor", communes=[HOA_BINH])
        as_viewer = create_token(conn, username=narrowed, role="viewer", name="read only")
    before = _count(engine)
    for token in (viewer, as_viewer):
        answer = app_client.post("/addresses", json=POINT, headers={"Authorization": f"Bearer {token}"})
        assert "needs the role editor" in _error(answer, 403)["message"]
    assert _count(engine) == before


def test_anonymous_me_is_401_with_a_challenge(client: TestClient) -> None:
    answer = client.get("/auth/me")
    _error(answer, 401)
    assert answer.headers["www-authenticate"] == 'Bearer realm="diachiso"'
    assert _error(client.post("/auth/login", json={"username": "x"}), 422)["parameter"] == "password"


def test_an_editor_cannot_move_an_address_out_of_their_communes(
    engine: Engine, app_client: TestClient, made: list[str]
) -> None:
    with engine.begin() as conn:
        token = create_token(conn, username=_name("mover"), role="editor", communes=[HOA_BINH])
    editor = TestClient(app_client.app, headers={"Authorization": f"Bearer {token}"})
    created = editor.post("/addresses", json=_feature(105.3446 + 0.0003, 20.8121, "11"))
    assert created.status_code == 201, created.text
    code = created.json()["id"]
    made.append(code)
    away = {"geometry": MAI_CHAU_POINT["geometry"], "comment": "moved away"}
    moved = editor.patch(f"/addresses/{code}", json=away, headers={"If-Match": '"1"'})
    assert "communes" in _error(moved, 403)["message"]
    after = editor.get(f"/addresses/{code}").json()
    assert after["properties"]["version"] == 1  # rolled back: not moved
    assert after["geometry"]["coordinates"][0] == pytest.approx(105.3446 + 0.0003)
    with engine.connect() as conn:
        history = (
            select(func.count())
            .select_from(address_history)
            .join(address)
            .where(address.c.registry_code == code)
        )
        assert conn.execute(history).scalar_one() == 0
