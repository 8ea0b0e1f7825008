"""What an edit must pass before it is written: role and commune, geometry, fields, house numbers.

Every refusal names the field and says why in English and in Vietnamese
(:class:`addresses.errors.EditRefusedError`, :class:`addresses.errors.EditForbiddenError`),
so the viewer can show the message in the staff member's language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from addresses import validation
from addresses.accounts import Principal, Role
from addresses.datasets import DatasetSpec
from addresses.errors import EditForbiddenError, EditRefusedError, InvalidParameterError
from addresses.registry import clean_text

__all__ = [
    "HOUSE_NUMBER",
    "REQUIRED_ON_CREATE",
    "REQUIRED_ON_EDIT",
    "check_commune",
    "check_fields",
    "check_house_number",
    "check_required",
    "check_role",
    "parse_geometry",
]

HOUSE_NUMBER: Final = re.compile(
    r"^(?:(?:số|so|sn)\s*)?[0-9]{1,5}[A-Za-z]{0,4}(?:\s?[/-]\s?[0-9]{1,5}[A-Za-z]{0,4}){0,4}$", re.IGNORECASE
)
"""A house number: digits with up to four letters (12A, 40bis), parts joined by / or - (1806/127/2)."""

GEOMETRY_TYPES: Final[dict[str, frozenset[str]]] = {
    "addresses": frozenset({"Point"}),
    "places": frozenset({"Point"}),
    "villages": frozenset({"Point", "Polygon", "MultiPolygon"}),
    "units": frozenset({"Polygon", "MultiPolygon"}),
}
"""The geometry types an edit may give each dataset."""

WRITE_ROLE: Final[dict[str, Role]] = {
    "addresses": "editor",
    "villages": "editor",
    "places": "editor",
    "units": "admin",
}
"""The lowest role that may write each dataset."""

REQUIRED_ON_CREATE: Final[dict[str, tuple[str, ...]]] = {
    "addresses": ("house_number",),
    "villages": ("name",),
    "places": ("category", "kind"),
    "units": ("name", "full_name"),
}
"""The fields a new feature must have (a staff-registered address needs its house number)."""
REQUIRED_ON_EDIT: Final = frozenset({"villages", "places", "units"})
"""Datasets whose required fields an update may not clear (imported addresses may lack a number)."""

_NUMBER_FIELDS: Final = frozenset({"population", "area_km2", "level"})


def check_role(principal: Principal, role: Role, *, action: str) -> None:
    """Raise EditForbiddenError unless ``principal`` has ``role`` or one above it."""
    if not principal.at_least(role):
        raise EditForbiddenError(
            f"{action} needs the role {role} or above; {principal.username} is {principal.role}",
            f"{action}: cần vai trò {role} trở lên; tài khoản {principal.username} là {principal.role}",
        )


def check_commune(principal: Principal, commune_id: int | None, *, where: str, where_vi: str) -> None:
    """Raise EditForbiddenError unless ``principal`` works in the commune of ``where`` (in both languages)."""
    if not principal.works_in(commune_id):
        raise EditForbiddenError(
            f"{where} lies outside the communes assigned to {principal.username}",
            f"{where_vi} nằm ngoài các xã, phường được giao cho {principal.username}",
            parameter="geometry",
        )


def parse_geometry(spec: DatasetSpec, geojson: Mapping[str, Any] | None) -> BaseGeometry:
    """Return the GeoJSON geometry of an edit as shapely, valid and of a type the dataset takes.

    >>> from addresses.datasets import get_dataset
    >>> parse_geometry(get_dataset("addresses"), {"type": "Point", "coordinates": [105.3, 20.8]}).wkt
    'POINT (105.3 20.8)'
    >>> parse_geometry(get_dataset("addresses"), {"type": "LineString", "coordinates": [[0, 0], [1, 1]]})
    Traceback (most recent call last):
    ...
    addresses.errors.EditRefusedError: geometry: must be a Point, not a LineString
    """
    if geojson is None:
        raise EditRefusedError("geometry", "is required", "là bắt buộc")
    allowed = GEOMETRY_TYPES[spec.name]
    kind = geojson.get("type")
    if kind not in allowed:
        names = " or ".join(sorted(allowed))
        raise EditRefusedError(
            "geometry", f"must be a {names}, not a {kind}", f"phải là {names}, không phải {kind}"
        )
    _check_numbers(geojson.get("coordinates"))
    try:
        geometry = shape(geojson)
    except (ValueError, TypeError, IndexError, AttributeError) as error:
        raise EditRefusedError(
            "geometry", f"is not valid GeoJSON ({error})", "không phải GeoJSON hợp lệ"
        ) from None
    coordinates = shapely.get_coordinates(geometry)
    if geometry.is_empty or not bool(shapely.is_valid(geometry)) or not coordinates.size:
        raise EditRefusedError("geometry", "is empty or not valid", "rỗng hoặc không hợp lệ")
    lon, lat = coordinates[0]
    validation.finite_number("geometry", float(lon))
    validation.finite_number("geometry", float(lat))
    return geometry


def _check_numbers(coordinates: Any) -> None:
    """Raise EditRefusedError unless every coordinate is a finite JSON number (not text, not a boolean).

    >>> _check_numbers([[105.3, 20.8], [105.4, 20.9]])
    >>> _check_numbers([105.3, "20.8"])
    Traceback (most recent call last):
    ...
    addresses.errors.EditRefusedError: geometry: coordinates must be finite numbers, not '20.8'
    """
    if isinstance(coordinates, list):
        for value in coordinates:
            _check_numbers(value)
        return
    number = isinstance(coordinates, int | float) and not isinstance(coordinates, bool)
    if not number or not math.isfinite(coordinates):
        raise EditRefusedError(
            "geometry",
            f"coordinates must be finite numbers, not {coordinates!r}",
            f"tọa độ phải là số hữu hạn, không phải {coordinates!r}",
        )


def check_house_number(value: str | None) -> None:
    """Raise EditRefusedError unless ``value`` reads as a house number.

    >>> check_house_number("12A"), check_house_number("1806/127/2"), check_house_number("Số 40bis")
    (None, None, None)
    >>> check_house_number("twelve")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    addresses.errors.EditRefusedError: house_number: 'twelve' is not a house number (e.g. 12, ...
    """
    if value is not None and not HOUSE_NUMBER.match(value):
        raise EditRefusedError(
            "house_number",
            f"{value!r} is not a house number (e.g. 12, 12A, 40bis, 1806/127/2)",
            f"{value!r} không phải số nhà (ví dụ 12, 12A, 40bis, 1806/127/2)",
        )


def check_required(spec: DatasetSpec, values: Mapping[str, Any], required: tuple[str, ...]) -> None:
    """Raise EditRefusedError for the first of ``required`` that is missing or empty in ``values``."""
    for name in required:
        if values.get(name) in (None, ""):
            raise EditRefusedError(name, f"is required for {spec.name}", f"là bắt buộc với {spec.name}")


def _checked_value(name: str, value: Any) -> Any:
    """Return one attribute as stored: text checked (and empty text as None), numbers as numbers."""
    if value is None:
        return None
    if name in _NUMBER_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise EditRefusedError(
                name, f"must be a number, not {value!r}", f"phải là số, không phải {value!r}"
            )
        return value
    if not isinstance(value, str):
        raise EditRefusedError(name, f"must be text, not {value!r}", f"phải là chữ, không phải {value!r}")
    try:
        validation.check_text(name, value)
    except InvalidParameterError as error:
        reason = str(error).removeprefix(f"{name}: ")
        raise EditRefusedError(name, reason, f"không hợp lệ ({reason})") from None
    return clean_text(value)


def check_fields(spec: DatasetSpec, properties: Mapping[str, Any]) -> dict[str, Any]:
    """Return the editable attributes of ``properties`` checked; unknown fields are refused.

    Derived and lifecycle fields (``status``, ``version``, codes, communes) are skipped:
    the editing layer sets them.
    """
    values: dict[str, Any] = {}
    for name, value in properties.items():
        if name in spec.editable_fields:
            values[name] = _checked_value(name, value)
        elif name not in spec.table.c and name not in ("status", "version"):
            fields = ", ".join(spec.editable_fields)
            raise EditRefusedError(
                name,
                f"is not a field of {spec.name} (editable: {fields})",
                f"không phải trường của {spec.name} (sửa được: {fields})",
            )
    if "house_number" in values:
        check_house_number(values["house_number"])
    return values
