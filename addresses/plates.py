"""Printable address plates: SVG (and PNG) with both codes, the address and a QR code.

A plate is 300 mm x 200 mm (a house plate), white on blue: the registry code large
and grouped 4-3-3, the location code grouped in threes, the address written out in
Vietnamese, and a QR code of ``{base_url}/?code={registry_code}`` (the map viewer on the
address; a client asking for JSON there gets the code's JSON answer). Text is
escaped by the XML serializer; fonts are DejaVu Sans (which has every Vietnamese
letter) with the generic ``sans-serif`` behind it. Line breaks are placed from
DejaVu Sans's average glyph widths, so the text fits in any close sans-serif font.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

import cairosvg
import segno

from addresses.errors import InvalidParameterError, StatusTransitionError
from addresses.queries import AddressRecord

__all__ = [
    "PLATE_HEIGHT_MM",
    "PLATE_WIDTH_MM",
    "PX_PER_MM",
    "plate_png",
    "plate_size_px",
    "plate_svg",
    "plate_url",
]

PLATE_WIDTH_MM: Final = 300
PLATE_HEIGHT_MM: Final = 200
PX_PER_MM: Final = 4
"""PNG pixels per millimetre at ``scale=1`` (about 100 dpi; ``scale=2`` is about 200 dpi)."""

MAX_SCALE: Final = 10.0
SVG_NS: Final = "http://www.w3.org/2000/svg"
FONT_FAMILY: Final = "'DejaVu Sans', sans-serif"
BLUE: Final = "#0b4ea2"
WHITE: Final = "#ffffff"
INK: Final = "#000000"

# Advance widths in em of DejaVu Sans (average over Vietnamese addresses, rounded up) and
# of each code character in DejaVu Sans Bold, to break lines and shrink what would not fit.
_EM_REGULAR: Final = 0.58
_EM_CODE: Final = {
    **dict.fromkeys("0123456789", 0.70),
    **dict.fromkeys("JI", 0.38),
    **dict.fromkeys("EFTL", 0.69),
    **dict.fromkeys("PSYZC", 0.74),
    **dict.fromkeys("ABKRVX", 0.78),
    **dict.fromkeys("DGHNQUO", 0.85),
    "-": 0.42,
    "M": 1.0,
    "W": 1.11,
}

_MARGIN: Final = 18.0
_TEXT_RIGHT: Final = 200.0
_QR_BOX: Final = (206.0, 84.0, 78.0)  # x, y, side of the white square holding the QR code
_QR_BORDER: Final = 4  # quiet zone in modules, as the QR standard asks
_ADDRESS_TOP: Final = 132.0
_ADDRESS_BOTTOM: Final = 178.0
_ADDRESS_FONT: Final = 9.5
_MIN_ADDRESS_FONT: Final = 5.0


def plate_url(record: AddressRecord, *, base_url: str) -> str:
    """Return the URL a plate's QR code opens: the map viewer on the address, ``{base_url}/?code=...``.

    >>> from types import SimpleNamespace
    >>> plate_url(SimpleNamespace(registry_code="1000000005"), base_url="https://dc.example.vn/")
    'https://dc.example.vn/?code=1000000005'
    """
    base = base_url.strip().rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise InvalidParameterError("base_url", f"must start with https:// or http://, got {base_url!r}")
    return f"{base}/?code={record.registry_code}"


def _add_words(lines: list[str], words: list[str], max_chars: int) -> None:
    """Append words to the last line while they fit, then start new lines (in place)."""
    for word in words:
        candidate = f"{lines[-1]} {word}" if lines[-1] else word
        if lines[-1] and len(candidate) > max_chars:
            lines.append(word)
        else:
            lines[-1] = candidate


def wrap_parts(parts: Iterable[str], *, max_chars: int) -> list[str]:
    """Join address parts with ", " into lines of about ``max_chars``, breaking between parts if possible.

    A part that fits on no line is cut between words (a single word longer than a
    line stays whole).

    >>> wrap_parts(["Số 12A", "ngõ 3", "Xóm Lác", "Xã Mai Châu", "Tỉnh Phú Thọ"], max_chars=24)
    ['Số 12A, ngõ 3, Xóm Lác,', 'Xã Mai Châu,', 'Tỉnh Phú Thọ']
    >>> wrap_parts(["Số 5", "Tổ dân phố Đồng Tiến số 7"], max_chars=12)
    ['Số 5, Tổ dân', 'phố Đồng', 'Tiến số 7']
    """
    items = list(parts)
    lines = [""]
    for index, part in enumerate(items):
        piece = part + ("," if index < len(items) - 1 else "")
        if len(piece) > max_chars:
            _add_words(lines, piece.split(), max_chars)
        elif lines[-1] and len(f"{lines[-1]} {piece}") > max_chars:
            lines.append(piece)
        else:
            lines[-1] = f"{lines[-1]} {piece}".strip()
    return [line for line in lines if line]


def code_width_em(code: str) -> float:
    """Return the width of a (grouped) code in DejaVu Sans Bold, in em.

    >>> round(code_width_em("1000-000-005"), 2), round(code_width_em("WMW-MWM-WMW"), 2)
    (7.84, 10.39)
    """
    return sum(_EM_CODE.get(char, 1.11) for char in code)


def fitted_size(width_em: float, *, size: float, width: float) -> float:
    """Return ``size``, or the smaller font size at which text ``width_em`` wide fits in ``width`` mm.

    >>> fitted_size(7.84, size=32, width=264), fitted_size(10.39, size=19, width=182)
    (32, 17.51)
    """
    needed = width_em * size
    return size if needed <= width else math.floor(size * width / needed * 100) / 100


def _address_lines(record: AddressRecord) -> tuple[list[str], float]:
    """Break the address into lines that fit beside the QR code; return them and their font size."""
    parts = [part.strip() for part in record.label.split(",") if part.strip()]
    width = _TEXT_RIGHT - _MARGIN
    size = _ADDRESS_FONT
    while True:
        lines = wrap_parts(parts, max_chars=max(1, int(width / (_EM_REGULAR * size))))
        fits = len(lines) * size * 1.25 <= _ADDRESS_BOTTOM - _ADDRESS_TOP + size
        if fits or size <= _MIN_ADDRESS_FONT:
            return lines, size
        size = max(_MIN_ADDRESS_FONT, round(size - 0.5, 2))


def _number(value: float) -> str:
    """Write a length for SVG without needless digits.

    >>> _number(12.0), _number(1.904761904)
    ('12', '1.905')
    """
    return f"{value:.3f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class _Font:
    """How a line of plate text is set: size (mm), weight and other SVG attributes."""

    size: float
    bold: bool = False
    extra: Mapping[str, str] | None = None


def _text(parent: ET.Element, content: str, *, x: float, y: float, font: _Font) -> None:
    """Add one line of white text (escaped by the serializer)."""
    attributes = {
        "x": _number(x),
        "y": _number(y),
        "font-size": _number(font.size),
        "fill": WHITE,
        **(font.extra or {}),
    }
    if font.bold:
        attributes["font-weight"] = "bold"
    ET.SubElement(parent, "text", attributes).text = content


def _qr_path(matrix: Iterable[Iterable[int]]) -> str:
    """Return an SVG path drawing the dark modules of a QR matrix, one unit per module.

    >>> _qr_path([[1, 1, 0], [0, 0, 1]])
    'M0 0h2v1h-2z M2 1h1v1h-1z'
    """
    runs: list[str] = []
    for y, row in enumerate(matrix):
        x, cells = 0, list(row)
        while x < len(cells):
            if not cells[x]:
                x += 1
                continue
            start = x
            while x < len(cells) and cells[x]:
                x += 1
            runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return " ".join(runs)


def _add_qr(svg: ET.Element, url: str) -> None:
    """Draw the QR code of ``url`` (error correction M) on a white square with its quiet zone."""
    qr = segno.make(url, error="m", micro=False)
    left, top, side = _QR_BOX
    modules = qr.symbol_size(border=0)[0]
    module = side / (modules + 2 * _QR_BORDER)
    ET.SubElement(
        svg,
        "rect",
        {
            "x": _number(left),
            "y": _number(top),
            "width": _number(side),
            "height": _number(side),
            "rx": "3",
            "fill": WHITE,
        },
    )
    origin = (_number(left + _QR_BORDER * module), _number(top + _QR_BORDER * module))
    group = ET.SubElement(
        svg, "g", {"transform": f"translate({origin[0]} {origin[1]}) scale({_number(module)})"}
    )
    ET.SubElement(group, "path", {"d": _qr_path(qr.matrix), "fill": INK, "shape-rendering": "crispEdges"})


def _add_frame(svg: ET.Element) -> None:
    """Draw the blue plate with its white inner border."""
    ET.SubElement(
        svg, "rect", {"width": str(PLATE_WIDTH_MM), "height": str(PLATE_HEIGHT_MM), "rx": "10", "fill": BLUE}
    )
    border = {"x": "6", "y": "6", "width": str(PLATE_WIDTH_MM - 12), "height": str(PLATE_HEIGHT_MM - 12)}
    ET.SubElement(svg, "rect", {**border, "rx": "6", "fill": "none", "stroke": WHITE, "stroke-width": "1.5"})
    line = {"x1": _number(_MARGIN), "x2": _number(PLATE_WIDTH_MM - _MARGIN), "y1": "76", "y2": "76"}
    ET.SubElement(svg, "line", {**line, "stroke": WHITE, "stroke-width": "0.8"})


def _add_codes(svg: ET.Element, record: AddressRecord) -> None:
    """Write the heading, the registry code (large) and the location code."""
    heading = "MÃ ĐỊA CHỈ SỐ" + (" · ĐỀ XUẤT" if record.status == "proposed" else "")
    centre = {"text-anchor": "middle"}
    heading_font = _Font(9, bold=True, extra={**centre, "letter-spacing": "1.5"})
    _text(svg, heading, x=PLATE_WIDTH_MM / 2, y=27, font=heading_font)
    width = PLATE_WIDTH_MM - 2 * _MARGIN
    size = fitted_size(code_width_em(record.registry_code_display), size=32, width=width)
    _text(svg, record.registry_code_display, x=PLATE_WIDTH_MM / 2, y=64, font=_Font(size, True, centre))
    _text(svg, "MÃ VỊ TRÍ", x=_MARGIN, y=91, font=_Font(6.5, bold=True, extra={"letter-spacing": "1"}))
    size = fitted_size(code_width_em(record.location_code_display), size=19, width=_TEXT_RIGHT - _MARGIN)
    _text(svg, record.location_code_display, x=_MARGIN, y=112, font=_Font(size, bold=True))


def _add_address(svg: ET.Element, record: AddressRecord) -> None:
    """Write the address in Vietnamese, on as many lines as it needs, and the QR caption."""
    lines, size = _address_lines(record)
    for index, line in enumerate(lines):
        _text(svg, line, x=_MARGIN, y=_ADDRESS_TOP + index * size * 1.25, font=_Font(size))
    left, top, side = _QR_BOX
    _text(
        svg,
        "Quét mã để xem địa chỉ",
        x=left + side / 2,
        y=top + side + 11,
        font=_Font(5.5, extra={"text-anchor": "middle"}),
    )


def plate_svg(record: AddressRecord, *, base_url: str) -> str:
    """Return the SVG of an address plate (300 x 200 mm), as a UTF-8 XML document string.

    Retired addresses get no plate (StatusTransitionError); proposed ones are marked
    "ĐỀ XUẤT" (proposed).
    """
    if record.status == "retired":
        raise StatusTransitionError(
            record.registry_code,
            current="retired",
            action="print a plate for",
            detail="look up its successor",
        )
    url = plate_url(record, base_url=base_url)
    size = {"width": f"{PLATE_WIDTH_MM}mm", "height": f"{PLATE_HEIGHT_MM}mm"}
    svg = ET.Element("svg", {"xmlns": SVG_NS, **size, "viewBox": f"0 0 {PLATE_WIDTH_MM} {PLATE_HEIGHT_MM}"})
    svg.set("font-family", FONT_FAMILY)
    ET.SubElement(svg, "title").text = f"{record.registry_code_display} · {record.label}"
    _add_frame(svg)
    _add_codes(svg, record)
    _add_address(svg, record)
    _add_qr(svg, url)
    return ET.tostring(svg, encoding="unicode", xml_declaration=True)


def plate_size_px(*, scale: float = 2) -> tuple[int, int]:
    """Return the PNG size in pixels at a scale (``PX_PER_MM`` pixels per mm at scale 1).

    >>> plate_size_px(scale=2)
    (2400, 1600)
    """
    if not (isinstance(scale, int | float) and 0 < scale <= MAX_SCALE):
        raise InvalidParameterError("scale", f"must be a number in (0, {MAX_SCALE}], got {scale!r}")
    return round(PLATE_WIDTH_MM * PX_PER_MM * scale), round(PLATE_HEIGHT_MM * PX_PER_MM * scale)


def plate_png(record: AddressRecord, *, base_url: str, scale: float = 2) -> bytes:
    """Return the plate rendered as PNG (``plate_size_px(scale=scale)`` pixels)."""
    width, height = plate_size_px(scale=scale)
    document = plate_svg(record, base_url=base_url).encode("utf-8")
    png: bytes = cairosvg.svg2png(bytestring=document, output_width=width, output_height=height)
    return png
