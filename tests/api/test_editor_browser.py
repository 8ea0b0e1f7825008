"""The staff editor of the viewer in a real headless Chromium (issue 12, item 6).

``diachiso serve`` runs in a subprocess (tests/api/live.py) on a fresh database of its own
with the bundled data (no other test sees what the editors write). Accounts and tokens come
from the auth helpers of tests/accounts.py. An editor logs in, opens an address from its
popup, drags it with Leaflet-Geoman and sees the new location code the server gave; another
session (an API token of another editor) changes the address meanwhile, so the editor's next
save gets the conflict dialog, theirs beside hers, and reapplies hers on top. The server's
validation message is shown in Vietnamese, then in English after the switch. An editor adds a
point (a proposal) with the Geoman marker tool; an approver logs in and approves it from the queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from addresses.codes import encode
from api.app import STATIC_DIR
from tests.accounts import create_account, create_token
from tests.api.live import live_server
from tests.api.test_viewer_browser import CHROMIUM, CHROMIUM_ARGS
from tests.databases import loaded_database

pytestmark = [pytest.mark.browser, pytest.mark.db]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "mật khẩu đủ dài 2025"
QUERY = "xom lac mai chau"
BAD_HOUSE_NUMBER = "số nhà ???"
"""A house number the server refuses (its format check), with a message in both languages."""
MARKER_AT = "(() => { const m = window.diachiso.editor.current.marker; return m.getLatLng(); })()"
"""Where the edited point's marker is now."""


@pytest.fixture(scope="module")
def database() -> Iterator[tuple[str, Engine]]:
    """A fresh database with the bundled data, for this module only."""
    with loaded_database("diachiso_editor_browser") as found:
        yield found


@pytest.fixture(scope="module")
def base_url(database: tuple[str, Engine]) -> Iterator[str]:
    """``diachiso serve`` on that database (no shared edit token: accounts decide)."""
    url, _engine = database
    with live_server(url, {"DIACHISO_EDIT_TOKEN": None}) as base:
        yield base


@pytest.fixture(scope="module")
def address(database: tuple[str, Engine], base_url: str) -> dict[str, Any]:
    """An active address near the first search result, registered through the API by an admin."""
    _url, engine = database
    with engine.begin() as conn:
        create_account(conn, username="quan-tri", role="admin", password=PASSWORD)
        admin = create_token(conn, username="quan-tri", role="admin")
    found = httpx.get(f"{base_url}/search", params={"q": QUERY, "limit": 1}, timeout=30).json()
    assert found["features"], f"no search result for {QUERY!r}"
    lon, lat = found["features"][0]["geometry"]["coordinates"]
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon + 0.0003, lat + 0.0002]},
        "properties": {"house_number": "7", "village_name": "Xóm Lác"},
        "comment": "địa chỉ cho phép thử",
    }
    answer = httpx.post(f"{base_url}/addresses", json=body, headers=_bearer(admin), timeout=30)
    assert answer.status_code == 201, answer.text
    feature: dict[str, Any] = answer.json()
    assert feature["properties"]["status"] == "active"
    return feature


@pytest.fixture(scope="module")
def commune_code(base_url: str, address: dict[str, Any]) -> str:
    """The GSO code of the address's commune (the communes the accounts work in)."""
    code = _server_feature(base_url, f"/addresses/{address['id']}")["properties"]["commune"]["code"]
    assert isinstance(code, str)
    return code


@pytest.fixture(scope="module")
def accounts(database: tuple[str, Engine], commune_code: str) -> dict[str, str]:
    """Two editors and an approver of that commune (log-in names), and a token of the second editor."""
    _url, engine = database
    with engine.begin() as conn:
        create_account(conn, username="bien-tap", role="editor", communes=(commune_code,), password=PASSWORD)
        create_account(
            conn, username="phe-duyet", role="approver", communes=(commune_code,), password=PASSWORD
        )
        create_account(
            conn, username="bien-tap-2", role="editor", communes=(commune_code,), password=PASSWORD
        )
        token = create_token(conn, username="bien-tap-2", role="editor", communes=(commune_code,))
    return {"editor": "bien-tap", "approver": "phe-duyet", "other_token": token}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright; a clear failure when either is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (scripts/bootstrap.sh does)")
    geoman = STATIC_DIR / "node_modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js"
    if not geoman.exists():
        pytest.fail("Leaflet-Geoman is missing: npm ci --prefix api/static (make install does it)")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (only browser tests need it)

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _watch(page: Any) -> list[str]:
    """Script errors and error answers of the page (the test says which error answers it expects)."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error} {error.stack}"))
    page.on("response", lambda response: _note_error_answer(problems, response))
    return problems


def _note_error_answer(problems: list[str], response: Any) -> None:
    if response.status >= 400:
        problems.append(f"{response.status} {response.request.method} {response.url}")


def _open(browser: Any, base_url: str) -> tuple[Any, list[str]]:
    """A page of its own (its own cookies) on the viewer, ready."""
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    problems = _watch(page)
    page.goto(base_url + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    return page, problems


def _log_in(page: Any, username: str) -> None:
    page.locator("#login-box summary").click()
    page.locator("#login-form input[name=username]").fill(username)
    page.locator("#login-form input[name=password]").fill(PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    page.wait_for_selector("#account-info:not([hidden])", timeout=10_000)
    assert username in page.locator("#account-name").inner_text()


def _open_address(page: Any, registry_code: str) -> None:
    """Go to the address by its code and choose Edit in its popup."""
    page.locator("#code-input").fill(registry_code)
    page.locator("#code-form button").click()
    page.locator(".leaflet-popup .edit-feature[data-dataset=addresses]").click(timeout=10_000)
    page.wait_for_selector("#feature-form:not([hidden])")


def _screen_point(page: Any, lat: float, lon: float) -> tuple[float, float]:
    """The page pixel of a map point."""
    point = page.evaluate(
        "([lat, lon]) => { const p = window.diachiso.map.latLngToContainerPoint([lat, lon]);"
        " const box = document.getElementById('map').getBoundingClientRect();"
        " return [box.left + p.x, box.top + p.y]; }",
        [lat, lon],
    )
    return point[0], point[1]


def _drag_marker(page: Any, dx: float, dy: float) -> dict[str, float]:
    """Drag the edited point by (dx, dy) pixels with the mouse; return where the marker ended."""
    start: dict[str, float] = page.evaluate(MARKER_AT)
    x, y = _screen_point(page, start["lat"], start["lng"])
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y + dy / 2, steps=5)
    page.mouse.move(x + dx, y + dy, steps=5)
    page.mouse.up()
    page.wait_for_selector("#feature-moved:not([hidden])")
    end: dict[str, float] = page.evaluate(MARKER_AT)
    assert end != start
    return end


def _save(page: Any, comment: str) -> None:
    page.locator("#feature-form textarea[name=comment]").fill(comment)
    page.locator("#feature-form button[type=submit]").click()


def _server_feature(base_url: str, path: str, token: str | None = None) -> dict[str, Any]:
    """The feature as the server has it (a staff token sees proposed ones too)."""
    answer = httpx.get(base_url + path, headers=_bearer(token) if token else {}, timeout=30)
    assert answer.status_code == 200, answer.text
    feature: dict[str, Any] = answer.json()
    return feature


def _move_and_check_the_code(page: Any, base_url: str, registry_code: str) -> None:
    """Drag, save, and the code shown is the one the server now has, a new one."""
    before = _server_feature(base_url, f"/addresses/{registry_code}")["properties"]
    end = _drag_marker(page, 70, -45)
    _save(page, "dời điểm cho đúng cổng nhà")
    page.wait_for_selector("#feature-location:not([hidden])", timeout=10_000)
    shown = page.locator("[data-code=new-location]").inner_text()
    after = _server_feature(base_url, f"/addresses/{registry_code}")["properties"]
    assert shown.replace("-", "") == after["location_code"] == encode(end["lng"], end["lat"])
    assert after["location_code"] != before["location_code"]
    assert after["version"] == before["version"] + 1


def _other_session_edits(base_url: str, registry_code: str, token: str) -> int:
    """Another editor (an API token) changes the house number first; return the version it made."""
    version = _server_feature(base_url, f"/addresses/{registry_code}")["properties"]["version"]
    answer = httpx.patch(
        f"{base_url}/addresses/{registry_code}",
        json={"properties": {"house_number": "9"}, "comment": "sửa từ phiên khác"},
        headers={**_bearer(token), "If-Match": f'"{version}"'},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    made: int = answer.json()["properties"]["version"]
    return made


def _conflict_then_reapply(page: Any, base_url: str, registry_code: str, theirs: int) -> None:
    page.locator("#field-house_number").fill("7A")
    _save(page, "số nhà mới")
    page.wait_for_selector("#conflict-dialog[open]", timeout=10_000)
    assert "9" in page.locator("#conflict-theirs").inner_text()
    assert "7A" in page.locator("#conflict-yours").inner_text()
    assert str(theirs) in page.locator("#conflict-text").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "editor-conflict.png"))
    page.locator("#conflict-reapply").click()
    page.wait_for_function("!document.getElementById('conflict-dialog').open")
    page.wait_for_function(
        "(v) => document.getElementById('feature-status').textContent.includes(v)", arg=f"{theirs + 1}"
    )
    assert "error" not in (page.locator("#feature-message").get_attribute("class") or "")
    final = _server_feature(base_url, f"/addresses/{registry_code}")["properties"]
    assert final["house_number"] == "7A"
    assert final["version"] == theirs + 1
    assert str(final["version"]) in page.locator("#feature-status").inner_text()


def _server_refusal(base_url: str, registry_code: str, token: str) -> dict[str, Any]:
    """What the server says of the bad house number (nothing is written: it is refused)."""
    version = _server_feature(base_url, f"/addresses/{registry_code}")["properties"]["version"]
    answer = httpx.patch(
        f"{base_url}/addresses/{registry_code}",
        json={"properties": {"house_number": BAD_HOUSE_NUMBER}, "comment": ""},
        headers={**_bearer(token), "If-Match": f'"{version}"'},
        timeout=30,
    )
    assert answer.status_code == 422, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["message_vi"] != error["message"]
    return error


def _validation_in_both_languages(page: Any, error: dict[str, Any]) -> None:
    page.locator("#field-house_number").fill(BAD_HOUSE_NUMBER)
    _save(page, "")
    page.wait_for_selector("#feature-message.error", timeout=10_000)
    assert page.locator("#feature-message").inner_text() == error["message_vi"]
    assert page.locator("#feature-form button[type=submit]").inner_text() == "Lưu"
    assert page.locator("#account-role").inner_text() == "biên tập viên"
    page.locator("#lang-switch button[data-lang=en]").click()
    assert page.locator("#feature-message").inner_text() == error["message"]
    assert page.locator("#feature-form button[type=submit]").inner_text() == "Save"
    assert page.locator("#account-role").inner_text() == "editor"
    assert page.locator("#feature-fields span[data-field=house_number]").inner_text() == "House number"
    page.locator("#lang-switch button[data-lang=vi]").click()
    assert page.locator("#feature-message").inner_text() == error["message_vi"]


def _history_matches_the_server(page: Any, base_url: str, registry_code: str) -> None:
    page.locator("#feature-history").click()
    answer = httpx.get(f"{base_url}/addresses/{registry_code}/history", timeout=30).json()
    versions = answer if isinstance(answer, list) else answer.get("versions") or answer.get("history")
    page.wait_for_function(f"document.querySelectorAll('#history-list li').length === {len(versions)}")
    shown = page.locator("#history-list").inner_text()
    assert "dời điểm cho đúng cổng nhà" in shown
    assert "số nhà mới" in shown


def test_editor_moves_a_point_then_reapplies_over_a_conflict(
    browser: Any, base_url: str, address: dict[str, Any], accounts: dict[str, str]
) -> None:
    registry_code = address["properties"]["registry_code"]
    page, problems = _open(browser, base_url)
    _log_in(page, accounts["editor"])
    assert page.locator("#account-role").inner_text() == "biên tập viên"
    assert page.locator(".leaflet-pm-toolbar").count() > 0  # the Geoman tools are on for an editor
    _open_address(page, registry_code)
    assert page.locator("#field-house_number").input_value() == "7"

    _move_and_check_the_code(page, base_url, registry_code)
    theirs = _other_session_edits(base_url, registry_code, accounts["other_token"])
    _conflict_then_reapply(page, base_url, registry_code, theirs)
    error = _server_refusal(base_url, registry_code, accounts["other_token"])
    _validation_in_both_languages(page, error)
    _history_matches_the_server(page, base_url, registry_code)
    page.screenshot(path=str(ARTIFACTS / "editor.png"))

    path = f"/addresses/{registry_code}"
    expected = {f"409 PATCH {base_url}{path}", f"422 PATCH {base_url}{path}"}
    assert set(problems) == expected, problems
    page.close()


def _add_point(page: Any, registry_code: str) -> str:
    """Add an address with the Geoman marker tool next to the address; return its registry code."""
    _open_address(page, registry_code)
    page.locator("#feature-close").click()
    page.locator(".leaflet-pm-toolbar .leaflet-pm-icon-marker").click()
    centre = page.evaluate("(() => { const c = window.diachiso.map.getCenter(); return [c.lat, c.lng]; })()")
    x, y = _screen_point(page, *centre)
    page.mouse.click(x + 120, y + 60)
    page.wait_for_selector("#feature-form:not([hidden])")
    page.locator("#field-house_number").fill("15")
    page.locator("#field-village_name").fill("Xóm Lác")
    _save(page, "nhà mới xây")
    page.wait_for_function(
        "window.diachiso.editor.current && window.diachiso.editor.current.key", timeout=10_000
    )
    key: str = page.evaluate("window.diachiso.editor.current.key")
    marker_class = page.evaluate("window.diachiso.editor.current.marker.getElement().className")
    assert "status-proposed" in marker_class  # an editor's point is a proposal, styled apart
    return key


def _retire_with_the_removal_tool(page: Any, registry_code: str) -> None:
    """Open the address, pick Geoman's removal tool, click its point: the retire dialog, then retire."""
    _open_address(page, registry_code)
    page.locator(".leaflet-pm-toolbar .leaflet-pm-icon-delete").click()
    at: dict[str, float] = page.evaluate(MARKER_AT)
    page.mouse.click(*_screen_point(page, at["lat"], at["lng"]))
    page.wait_for_selector("#retire-dialog[open]")
    page.locator("#retire-dialog textarea").fill("nhà đã phá dỡ")
    page.locator("#retire-dialog button[value=retire]").click()
    page.wait_for_function("document.getElementById('feature-status').textContent.includes('ngừng sử dụng')")
    assert "status-retired" in page.evaluate("window.diachiso.editor.current.marker.getElement().className")


def test_an_approver_approves_an_editors_proposal_from_the_queue(
    browser: Any, base_url: str, address: dict[str, Any], accounts: dict[str, str]
) -> None:
    page, problems = _open(browser, base_url)
    _log_in(page, accounts["editor"])
    proposed = _add_point(page, address["properties"]["registry_code"])
    staff = accounts["other_token"]
    assert _server_feature(base_url, f"/addresses/{proposed}", staff)["properties"]["status"] == "proposed"
    page.locator("#logout").click()
    page.wait_for_selector("#login-box:not([hidden])")
    assert page.locator("#editor-section").is_hidden()

    _log_in(page, accounts["approver"])
    assert page.locator("#account-role").inner_text() == "người phê duyệt"
    item = page.locator(f"#proposals-list li[data-key='{proposed}']")
    item.wait_for(timeout=10_000)
    item.locator("input[name=comment]").fill("đã kiểm tra tại thực địa")
    item.locator("button[data-action=approve]").click()
    item.wait_for(state="detached", timeout=10_000)
    assert _server_feature(base_url, f"/addresses/{proposed}", staff)["properties"]["status"] == "active"
    history = httpx.get(f"{base_url}/addresses/{proposed}/history", headers=_bearer(staff), timeout=30).text
    assert "đã kiểm tra tại thực địa" in history

    _retire_with_the_removal_tool(page, proposed)
    assert _server_feature(base_url, f"/addresses/{proposed}", staff)["properties"]["status"] == "retired"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "editor-approver.png"))
    assert problems == [], problems
    page.close()
