"""The viewer's "go to code" box in a real headless Chromium: a retired registry code leads to its successor.

The same set-up as ``test_viewer_browser.py`` (uvicorn in a thread on the test
database, Debian's Chromium through Playwright); the addresses are committed so the
server sees them, and removed at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete, update

from addresses import changes
from addresses.codes import decode
from addresses.schema import address, address_history
from addresses.settings import DatabaseSettings
from api.app import STATIC_DIR, create_app
from api.settings import ApiSettings
from tests.api.test_viewer_browser import CHROMIUM, CHROMIUM_ARGS, _watch
from tests.fresh_database import live_server
from tests.records import new_address, retire_address

pytestmark = [pytest.mark.browser, pytest.mark.db]

OLD_POINT = (105.3350, 20.8150)  # Phường Hòa Bình
NEW_POINT = (105.3352, 20.8151)


@pytest.fixture(scope="module")
def retired_pair(engine: Engine) -> Iterator[tuple[str, str]]:
    """(retired code, successor code): committed, so the server sees them."""
    with engine.begin() as conn:
        old = new_address(conn, OLD_POINT[0], OLD_POINT[1], house_number="3", village_name="Xóm Lác")
        new = new_address(conn, NEW_POINT[0], NEW_POINT[1], house_number="3A", village_name="Xóm Lác")
        retire_address(conn, old.registry_code, reason="rebuilt", successor=new.registry_code)
    yield old.registry_code_display, new.registry_code_display
    ours = address.c.id.in_([old.id, new.id])
    with engine.begin() as conn:
        changes.record_rows(conn, table=address, where=ours)
        conn.execute(update(address).where(ours).values(successor_id=None))
        conn.execute(delete(address_history).where(address_history.c.address_id.in_([old.id, new.id])))
        conn.execute(delete(address).where(ours))


@pytest.fixture(scope="module")
def page(engine: Engine, database_url: str) -> Iterator[Any]:
    """The viewer in Chromium, served by uvicorn in a thread on the test database."""
    if not CHROMIUM.exists() or not (STATIC_DIR / "node_modules" / "leaflet").exists():
        pytest.fail("Chromium or the viewer's JavaScript is missing (see test_viewer_browser.py)")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (only browser tests need it)

    app = create_app(DatabaseSettings(database_url=database_url), ApiSettings())
    with live_server(app) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        viewer = browser.new_page(viewport={"width": 1280, "height": 800})
        viewer.goto(f"{url}/")
        viewer.wait_for_selector("body[data-ready=true]", timeout=20_000)
        yield viewer
        browser.close()


def _go_to(page: Any, code: str) -> str:
    """Type a code in the box, submit it and return the message once it is no longer 'loading'."""
    page.locator("#code-message").evaluate("element => { element.textContent = ''; }")
    page.locator("#code-input").fill(code)
    page.locator("#code-form button").click()
    page.wait_for_function("document.getElementById('code-message').textContent.includes('-')")
    text: str = page.locator("#code-message").inner_text()
    return text


def _centre(page: Any) -> list[float]:
    centre: list[float] = page.evaluate(
        "(() => { const c = window.diachiso.map.getCenter(); return [c.lng, c.lat]; })()"
    )
    return centre


def test_a_retired_registry_code_opens_its_successor(page: Any, retired_pair: tuple[str, str]) -> None:
    old, new = retired_pair
    problems = _watch(page)
    assert old in _go_to(page, old.replace("-", " ").lower())
    popup = page.locator(".leaflet-popup .place-popup")
    popup.wait_for(timeout=10_000)
    assert popup.locator("[data-code=registry]").inner_text() == new
    assert old in popup.locator(".note").inner_text()
    assert _centre(page) == pytest.approx(list(NEW_POINT), abs=1e-6)
    assert problems == []
    page.wait_for_load_state("networkidle")  # let the popup's own requests finish before the next test


def test_a_location_code_prefix_flies_to_its_cell(page: Any) -> None:
    problems = _watch(page)
    assert "8VG-DP" in _go_to(page, "8vgdp")
    cell = decode("8VGDP")
    assert _centre(page) == pytest.approx([cell.lon, cell.lat], abs=2e-3)
    # the cell is shown without a popup (an earlier one is closed; Leaflet removes it on its next frame)
    page.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 0", timeout=5_000)
    assert problems == []
