"""The map viewer in a real headless Chromium: search, pick, click, popup with both codes.

The app runs with uvicorn in a thread on a free 127.0.0.1 port against the test
database; Debian's Chromium (never a downloaded browser) loads ``/``. The browser
needs nothing but this server: Leaflet and the tile renderer come from
``/static/node_modules`` (``npm ci``), and the OpenStreetMap layer is off. A
screenshot is left in ``test-artifacts/viewer.png``, and a smaller one replaces
``docs/img/viewer.png`` (the README's picture) when ``DIACHISO_UPDATE_SCREENSHOTS=1``
(set it and commit the image when the viewer changes).
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, delete

from addresses.codes import decode, encode
from addresses.schema import address, address_history, tile_invalidation
from addresses.settings import DatabaseSettings
from api.app import STATIC_DIR, create_app
from api.settings import ApiSettings
from tests.fresh_database import live_server
from tests.records import new_address

pytestmark = [pytest.mark.browser, pytest.mark.db]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
QUERY = "xom lac mai chau"
GUIDE_SCREENSHOT = ROOT / "docs" / "img" / "viewer.png"
GUIDE_SCREENSHOT_MAX_BYTES = 300_000


@pytest.fixture(scope="module")
def live_url(engine: Engine, database_url: str) -> Iterator[str]:
    """The app served by uvicorn in a thread on the test database."""
    app = create_app(DatabaseSettings(database_url=database_url), ApiSettings())
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def first_result(live_url: str) -> dict[str, Any]:
    """The first search result for the query, as the viewer will get it."""
    answer = httpx.get(f"{live_url}/search", params={"q": QUERY, "limit": 5}, timeout=30).json()
    assert answer["features"], f"no search result for {QUERY!r}: {answer}"
    feature: dict[str, Any] = answer["features"][0]
    return feature


@pytest.fixture(scope="module")
def registered_address(engine: Engine, first_result: dict[str, Any]) -> Iterator[str]:
    """An address registered at the first result's point (committed: the server must see it)."""
    lon, lat = first_result["geometry"]["coordinates"]
    with engine.begin() as conn:
        record = new_address(conn, lon, lat, house_number="7", village_name="Xóm Lác")
    yield record.registry_code
    with engine.begin() as conn:
        conn.execute(delete(address_history).where(address_history.c.address_id == record.id))
        conn.execute(delete(address).where(address.c.id == record.id))
        conn.execute(delete(tile_invalidation).where(tile_invalidation.c.layer == "address"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright; a clear failure when either is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (scripts/bootstrap.sh does)")
    if not (STATIC_DIR / "node_modules" / "leaflet" / "dist" / "leaflet.js").exists():
        pytest.fail("the viewer's JavaScript is missing: npm ci --prefix api/static (make install does it)")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 (fail clearly, not at import)
    except ImportError:
        pytest.fail("Playwright is missing: pip install playwright (its browser download is never needed)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _note_error_answer(problems: list[str], response: Any) -> None:
    if response.status >= 400:
        problems.append(f"{response.status}: {response.url}")


def _note_failure(problems: list[str], request: Any) -> None:
    if "ERR_ABORTED" not in str(request.failure):  # tiles of a zoom left behind are cancelled
        problems.append(f"failed: {request.url} {request.failure}")


def _watch(page: Any) -> list[str]:
    """Collect script errors, failed requests and error answers of the page."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("requestfailed", lambda request: _note_failure(problems, request))
    page.on("response", lambda response: _note_error_answer(problems, response))
    return problems


def _click_at(page: Any, lon: float, lat: float) -> None:
    """Click the map at a point (its pixel from Leaflet, plus the map's offset in the page)."""
    point = page.evaluate(
        "([lat, lon]) => { const p = window.diachiso.map.latLngToContainerPoint([lat, lon]);"
        " const box = document.getElementById('map').getBoundingClientRect();"
        " return {x: box.left + p.x, y: box.top + p.y}; }",
        [lat, lon],
    )
    page.mouse.click(point["x"], point["y"])


def test_search_pick_click_shows_both_codes(
    live_url: str, browser: Any, first_result: dict[str, Any], registered_address: str
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    problems = _watch(page)
    page.goto(live_url + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    assert page.locator("#layer-list input[data-layer=units]").is_checked()

    page.locator("#search-input").press_sequentially(QUERY, delay=30)
    page.wait_for_selector("#search-suggestions [role=option]", timeout=10_000)
    page.keyboard.press("ArrowDown")
    assert page.locator("#search-input").get_attribute("aria-activedescendant") == "suggestion-0"
    page.keyboard.press("Enter")
    page.wait_for_selector(".leaflet-popup .place-popup", timeout=10_000)

    lon, lat = first_result["geometry"]["coordinates"]
    centre = page.evaluate("(() => { const c = window.diachiso.map.getCenter(); return [c.lng, c.lat]; })()")
    assert centre == pytest.approx([lon, lat], abs=1e-4)
    page.wait_for_timeout(1500)  # tiles and labels
    _click_at(page, lon, lat)

    popup = page.locator(".leaflet-popup .place-popup[data-role=reverse]")
    popup.wait_for(timeout=10_000)
    location = popup.locator("[data-code=location]").inner_text()
    registry = popup.locator("[data-code=registry]").inner_text()
    clicked = page.evaluate("window.diachiso.lastClick")
    assert location.replace("-", "") == encode(clicked["lng"], clicked["lat"])
    assert registry.replace("-", "") == registered_address
    plate = popup.locator("a[href$='plate.svg']").get_attribute("href")
    assert plate == f"/addresses/{registered_address}/plate.svg"

    page.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 1")
    page.wait_for_timeout(400)  # the popup's fade-in
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer.png"))
    _save_guide_screenshot(page)
    assert not problems, problems
    page.close()


def _save_guide_screenshot(page: Any) -> None:
    """The README's and the guide's picture of the viewer: this very state, a small PNG."""
    page.set_viewport_size({"width": 960, "height": 600})
    page.wait_for_timeout(800)  # the map redraws for the new size
    shot = ARTIFACTS / "viewer-guide.png"
    page.screenshot(path=str(shot))
    size = shot.stat().st_size
    assert size < GUIDE_SCREENSHOT_MAX_BYTES, f"{shot} is {size} bytes"
    if os.environ.get("DIACHISO_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(shot, GUIDE_SCREENSHOT)


def test_the_viewer_grid_matches_the_reference_codes(live_url: str, browser: Any) -> None:
    rng = random.Random(7)
    points = [(rng.uniform(104.8, 105.9), rng.uniform(20.3, 21.2), rng.randint(1, 8)) for _ in range(300)]
    points += [(102.0, 5.5, 8), (117.999999, 23.499999, 8), (105.338, 20.817, 4)]
    page = browser.new_page()
    page.goto(live_url + "/health")  # a page of the app without the viewer; only the grid script is added
    page.add_script_tag(url=live_url + "/static/grid.js")
    encode_all = "(ps) => ps.map(([lon, lat, n]) => window.DiachisoGrid.encode(lon, lat, n))"
    codes = page.evaluate(encode_all, points)
    assert codes == [encode(lon, lat, length=n) for lon, lat, n in points]
    cells = page.evaluate("(codes) => codes.map((c) => window.DiachisoGrid.decode(c).bounds)", codes[:50])
    assert cells == [list(decode(code).bounds) for code in codes[:50]]
    page.close()


def test_go_to_code_language_switch_and_phone_panel(live_url: str, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 780}, is_mobile=True, has_touch=True)
    problems = _watch(page)
    page.goto(live_url + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    assert not page.locator("#panel").is_visible()  # collapsed on a phone
    page.locator("#panel-toggle").click()
    assert page.locator("#panel").is_visible()

    page.locator("#lang-switch button[data-lang=en]").click()
    placeholder = page.locator("#search-input").get_attribute("placeholder")
    assert placeholder == "Search an address, village, commune…"
    assert page.locator("#layer-list").inner_text().startswith("Communes and wards")

    page.locator("#code-input").fill("8vg dhs 6hb")
    page.locator("#code-form button").click()
    page.wait_for_function("document.getElementById('code-message').textContent.includes('8VG-DHS-6HB')")
    centre = page.evaluate("(() => { const c = window.diachiso.map.getCenter(); return [c.lng, c.lat]; })()")
    assert decode("8VGDHS6HB").contains(*centre) or centre == pytest.approx(
        [decode("8VGDHS6HB").lon, decode("8VGDHS6HB").lat], abs=1e-3
    )

    assert not page.locator("#panel").is_visible()  # the map shows what was found
    page.locator("#panel-toggle").click()
    page.locator("#code-input").fill("8VG-DHS-6HC")
    page.locator("#code-form button").click()
    page.wait_for_selector("#code-message.error")
    assert "check" in page.locator("#code-message").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer-phone.png"))
    assert [p for p in problems if not p.startswith("400:")] == [], problems
    page.close()
