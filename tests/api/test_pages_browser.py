"""Offline-complete pages in a real headless Chromium, with every request off 127.0.0.1 aborted.

``/docs`` and ``/redoc`` render from the npm packages the app serves; a batch output
CSV (made by POST /batch from development-set queries) dropped on the viewer shows
its points; a plate's QR code (decoded from the PNG) opens the viewer on its address.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import Engine, delete

from addresses.schema import address, address_history, tile_invalidation
from tests.api.test_viewer_browser import ARTIFACTS, browser, live_url  # noqa: F401 (fixtures)
from tests.records import new_address

pytestmark = [pytest.mark.browser, pytest.mark.db]

DEV_QUERIES = Path(__file__).resolve().parents[2] / "data" / "hoabinh" / "geocoding_dev_queries.jsonl"


def _offline_page(browser: Any, **options: Any) -> tuple[Any, list[str]]:  # noqa: F811 (fixture)
    """A page whose requests to anything but 127.0.0.1 are aborted (and listed)."""
    page = browser.new_page(**options)
    outside: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: outside.append(f"script error: {error}"))
    return page, outside


def test_swagger_ui_renders_offline(live_url: str, browser: Any) -> None:  # noqa: F811 (fixtures)
    page, outside = _offline_page(browser)
    page.goto(live_url + "/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("diachiso")
    assert page.locator(".swagger-ui .opblock-summary-path[data-path='/search']").count() == 1
    assert outside == []
    page.close()


def test_redoc_renders_offline(live_url: str, browser: Any) -> None:  # noqa: F811 (fixtures)
    page, outside = _offline_page(browser)
    page.goto(live_url + "/redoc")
    page.wait_for_selector("h1", timeout=20_000)
    page.wait_for_function("document.body.innerText.includes('/search')", timeout=20_000)
    assert page.locator("h1").first.inner_text().startswith("diachiso")
    assert outside == []
    page.close()


@pytest.fixture(scope="module")
def batch_output(live_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811 (fixture)
    """POST /batch on every 20th development query: the CSV an agency would drop on the viewer."""
    cases = [json.loads(line) for line in DEV_QUERIES.read_text(encoding="utf-8").splitlines()]
    queries = [case["query"] for case in cases if "query" in case][::20]  # reverse cases have none
    source = io.StringIO()
    writer = csv.writer(source, lineterminator="\n")
    writer.writerow(["stt", "dia_chi"])
    writer.writerows([i + 1, query] for i, query in enumerate(queries))
    answer = httpx.post(
        f"{live_url}/batch",
        files={"file": ("dev.csv", source.getvalue().encode(), "text/csv")},
        data={"column": "dia_chi"},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    path = tmp_path_factory.mktemp("batch") / "dev-geocoded.csv"
    path.write_bytes(answer.content)
    return path


def _drop_file(page: Any, path: Path, mime: str) -> None:
    """Drop a file on the map as a person would (a DataTransfer holding it, then drop events)."""
    handle = page.evaluate_handle(
        """([name, text, mime]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], name, { type: mime }));
            return transfer;
        }""",
        [path.name, path.read_text(encoding="utf-8"), mime],
    )
    page.dispatch_event("#map", "dragenter", {"dataTransfer": handle})
    page.dispatch_event("#map", "dragover", {"dataTransfer": handle})
    page.dispatch_event("#map", "drop", {"dataTransfer": handle})


def test_a_dropped_batch_output_shows_its_points(
    live_url: str,  # noqa: F811 (fixture)
    browser: Any,  # noqa: F811 (fixture)
    batch_output: Path,
) -> None:
    rows = list(csv.DictReader(io.StringIO(batch_output.read_text(encoding="utf-8"))))
    located = [row for row in rows if row["lon"] and row["lat"]]
    assert len(rows) >= 35
    assert len(located) >= 20, "the batch geocoder found too few points"
    page, outside = _offline_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(live_url + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    _drop_file(page, batch_output, "text/csv")
    page.wait_for_function("document.getElementById('file-message').textContent.includes('dev-geocoded.csv')")
    markers = page.locator(".leaflet-overlay-pane path.user-point")
    assert markers.count() == len(located)
    message = page.locator("#file-message").inner_text()
    skipped = len(rows) - len(located)
    assert message.startswith(f"{len(located)} điểm từ dev-geocoded.csv")
    assert (f"{skipped} dòng không có tọa độ" in message) == (skipped > 0)
    # the units are still drawn under the points
    assert page.locator("#layer-list input[data-layer=units]").is_checked()

    bounds = page.evaluate("window.diachiso.userPoints.getBounds().toBBoxString()").split(",")
    west, south, east, north = map(float, bounds)
    xs, ys = [float(row["lon"]) for row in located], [float(row["lat"]) for row in located]
    assert (west, south, east, north) == pytest.approx((min(xs), min(ys), max(xs), max(ys)), abs=1e-6)

    first = located[0]
    page.evaluate(
        "([lat, lon]) => window.diachiso.userPoints.getLayers()"
        ".find((m) => Math.abs(m.getLatLng().lat - lat) < 1e-7 && Math.abs(m.getLatLng().lng - lon) < 1e-7)"
        ".openPopup()",
        [float(first["lat"]), float(first["lon"])],
    )
    popup = page.locator(".leaflet-popup .user-popup")
    popup.wait_for(timeout=5_000)
    assert popup.locator("h3").inner_text() == first["label"]
    assert first["dia_chi"] in popup.inner_text()
    assert first["location_code"] in popup.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer-dropped-csv.png"))
    assert outside == [], outside
    page.close()


def test_a_chosen_geojson_file_shows_its_features(
    live_url: str,  # noqa: F811 (fixture)
    browser: Any,  # noqa: F811 (fixture)
    tmp_path: Path,
) -> None:
    points = [(105.338 + i / 1000, 20.817 + i / 2000) for i in range(7)]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": p},
                "properties": {"name": f"Nhà {i}"},
            }
            for i, p in enumerate(points)
        ]
        + [{"type": "Feature", "geometry": None, "properties": {"name": "không có điểm"}}],
    }
    path = tmp_path / "nha.geojson"
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    page, outside = _offline_page(browser)
    page.goto(live_url + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    page.locator("#file-input").set_input_files(str(path))
    page.wait_for_function("document.getElementById('file-message').textContent.includes('nha.geojson')")
    assert page.locator(".leaflet-overlay-pane path.user-point").count() == len(points)
    assert "1 dòng không có tọa độ" in page.locator("#file-message").inner_text()
    page.locator("#file-remove").click()
    assert page.locator(".leaflet-overlay-pane path.user-point").count() == 0
    assert outside == [], outside
    page.close()


@pytest.fixture(scope="module")
def plate_address(engine: Engine) -> Iterator[tuple[str, float, float]]:
    """An address registered for the plate test (committed: the server must see it)."""
    with engine.begin() as conn:
        record = new_address(conn, 105.3381, 20.8172, house_number="15", street="Trần Hưng Đạo")
    yield record.registry_code, record.lon, record.lat
    with engine.begin() as conn:
        conn.execute(delete(address_history).where(address_history.c.address_id == record.id))
        conn.execute(delete(address).where(address.c.id == record.id))
        conn.execute(delete(tile_invalidation).where(tile_invalidation.c.layer == "address"))


def test_the_qr_code_of_a_plate_opens_the_viewer_on_its_address(
    live_url: str,  # noqa: F811 (fixture)
    browser: Any,  # noqa: F811 (fixture)
    plate_address: tuple[str, float, float],
) -> None:
    registry_code, lon, lat = plate_address
    png = httpx.get(f"{live_url}/addresses/{registry_code}/plate.png", params={"scale": 1}, timeout=30)
    assert png.status_code == 200
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)).convert("L"))
    scanned = urlsplit(barcode.text)  # the public base URL (DIACHISO_PUBLIC_BASE_URL) + /?code=
    assert (scanned.path, scanned.query) == ("/", f"code={registry_code}")

    page, outside = _offline_page(
        browser, viewport={"width": 390, "height": 780}, is_mobile=True, has_touch=True
    )
    page.goto(f"{live_url}/?{scanned.query}")
    popup = page.locator(".leaflet-popup .place-popup")
    popup.wait_for(timeout=20_000)
    assert popup.locator("[data-code=registry]").inner_text().replace("-", "") == registry_code
    centre = page.evaluate("(() => { const c = window.diachiso.map.getCenter(); return [c.lng, c.lat]; })()")
    assert centre == pytest.approx([lon, lat], abs=1e-5)
    assert page.evaluate("window.diachiso.map.getZoom()") >= 18
    assert page.locator("#code-input").input_value() == registry_code
    assert outside == [], outside
    page.close()
