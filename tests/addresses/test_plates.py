"""Address plates: well-formed SVG with both codes and the escaped address, a QR code that scans."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
import segno
import zxingcpp
from PIL import Image
from sqlalchemy import Connection

from addresses.errors import InvalidParameterError, StatusTransitionError
from addresses.plates import plate_png, plate_size_px, plate_svg, plate_url
from addresses.queries import AddressRecord
from tests.records import new_address, retire_address

BASE_URL = "https://diachiso.phutho.gov.vn"
SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def record(conn: Connection) -> AddressRecord:
    """A real address in Xã Mai Châu, with text that needs escaping."""
    return new_address(conn, 105.0833, 20.6601, house_number="12A", alley="3 <b>&", village_name="Xóm Lác")


def _texts(svg: str) -> list[str]:
    """The text lines of a plate, in document order."""
    root = ET.fromstring(svg.encode("utf-8"))
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def _qr_modules(svg: str) -> set[tuple[int, int]]:
    """The dark QR modules drawn by a plate's path, as (column, row)."""
    root = ET.fromstring(svg.encode("utf-8"))
    path = next(root.iter(f"{SVG}path")).attrib["d"]
    dark = set()
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path):
        dark |= {(int(x) + i, int(y)) for i in range(int(width))}
    return dark


def test_svg_is_well_formed_with_both_codes_and_the_address(record: AddressRecord) -> None:
    svg = plate_svg(record, base_url=BASE_URL)
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    assert (root.attrib["width"], root.attrib["height"], root.attrib["viewBox"]) == (
        "300mm",
        "200mm",
        "0 0 300 200",
    )
    assert "DejaVu Sans" in root.attrib["font-family"]
    assert root.attrib["font-family"].endswith("sans-serif")
    texts = _texts(svg)
    assert record.registry_code_display in texts
    assert record.location_code_display in texts
    assert record.label == "Số 12A, ngõ 3 <b>&, Xóm Lác, Xã Mai Châu, Tỉnh Phú Thọ"
    assert " ".join(line for line in texts if line.startswith(("Số", "Xã", "Xóm"))).startswith(
        "Số 12A, ngõ 3 <b>&,"
    )
    assert "Tỉnh Phú Thọ" in " ".join(texts)
    assert "ngõ 3 &lt;b&gt;&amp;," in svg  # escaped in the document
    assert "<b>" not in svg


def test_the_qr_code_is_the_viewer_url_of_the_address(record: AddressRecord) -> None:
    url = plate_url(record, base_url=BASE_URL + "/")
    assert url == f"{BASE_URL}/?code={record.registry_code}"
    expected = segno.make(url, error="m", micro=False)
    matrix = expected.matrix
    dark = {(x, y) for y, row in enumerate(matrix) for x, value in enumerate(row) if value}
    assert _qr_modules(plate_svg(record, base_url=BASE_URL)) == dark


def test_png_has_the_expected_size_and_its_qr_code_scans(record: AddressRecord) -> None:
    png = plate_png(record, base_url=BASE_URL)
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == plate_size_px(scale=2) == (2400, 1600)
    [barcode] = zxingcpp.read_barcodes(image.convert("L"))
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    assert barcode.text == f"{BASE_URL}/?code={record.registry_code}"


def test_png_scale(record: AddressRecord) -> None:
    image = Image.open(io.BytesIO(plate_png(record, base_url=BASE_URL, scale=1)))
    assert image.size == (1200, 800)
    with pytest.raises(InvalidParameterError, match="scale"):
        plate_png(record, base_url=BASE_URL, scale=0)


def test_proposed_plates_say_so_and_retired_addresses_get_none(conn: Connection) -> None:
    proposed = new_address(conn, 105.338, 20.817, house_number="5", status="proposed")
    assert _texts(plate_svg(proposed, base_url=BASE_URL))[0] == "MÃ ĐỊA CHỈ SỐ · ĐỀ XUẤT"
    active = new_address(conn, 105.338, 20.817, house_number="7")
    assert _texts(plate_svg(active, base_url=BASE_URL))[0] == "MÃ ĐỊA CHỈ SỐ"
    retired = retire_address(conn, active.registry_code, reason="demolished")
    with pytest.raises(StatusTransitionError, match="print a plate"):
        plate_svg(retired, base_url=BASE_URL)


def test_a_long_address_wraps_and_stays_left_of_the_qr_code(conn: Connection) -> None:
    record = new_address(
        conn,
        105.338,
        20.817,
        house_number="1806/127/2",
        alley="ngách 5/12",
        street="Đường Trần Hưng Đạo kéo dài",
        village_name="Tổ dân phố Đồng Tiến số 7 khu phía Bắc",
    )
    svg = plate_svg(record, base_url=BASE_URL)
    root = ET.fromstring(svg.encode("utf-8"))
    lines = [e for e in root.iter(f"{SVG}text") if e.attrib["x"] == "18" and float(e.attrib["y"]) >= 132]
    assert len(lines) >= 3
    assert " ".join(e.text or "" for e in lines) == record.label
    for element in lines:
        size = float(element.attrib["font-size"])
        assert len(element.text or "") * 0.58 * size <= 200 - 18 + 1e-9
        assert float(element.attrib["y"]) <= 190


def test_base_url_must_be_http(record: AddressRecord) -> None:
    with pytest.raises(InvalidParameterError, match="base_url"):
        plate_svg(record, base_url="diachiso.phutho.gov.vn")
