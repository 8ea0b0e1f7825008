"""Models of the code, address and editing routes: addresses as GeoJSON Features, code look-ups, edits.

An address is a GeoJSON Feature whose ``id`` is its registry code and whose
properties carry both codes (canonical and grouped), the address parts, the
Vietnamese label, the 2025 commune and province, the pre-2025 commune and
district, its lifecycle (status, version) and links to itself and its plates.
The ``*_answer`` and ``*_feature`` functions turn library results into these models.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from functools import cache
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pyproj import Geod

from addresses.codes import Cell, Direction, neighbours
from addresses.limits import MAX_TEXT
from addresses.queries import AddressRecord
from addresses.registry import LocationLookup, RegistryLookup
from addresses.types import Status, UnitRef
from api.responses import GEOJSON
from api.schemas import Link
from api.schemas_geocode import PointGeometry

MAX_CODE_CHARS: Final = 40
"""The longest typed code accepted (a code with generous spaces and dashes)."""
MAX_MERGE: Final = 100
"""The most addresses one merge may retire."""

TEXT_FIELDS: Final = ("house_number", "alley", "street", "village_name")


# --- addresses as GeoJSON Features ---------------------------------------------------------------------


class AddressUnitModel(BaseModel):
    """An administrative unit named with an address: GSO code, short name and full name."""

    model_config = ConfigDict(from_attributes=True)

    code: str = Field(examples=["04795"])
    name: str = Field(examples=["Hòa Bình"])
    full_name: str = Field(examples=["Phường Hòa Bình"])


class AddressProperties(BaseModel):
    """What an address is: both codes, its parts and label, its units of both periods, its lifecycle."""

    registry_code: str = Field(
        description="Registry code (mã địa chỉ số): 10 digits, issued once, never changed or reused.",
        examples=["1000000005"],
    )
    registry_code_display: str = Field(
        description="The registry code grouped 4-3-3.", examples=["1000-000-005"]
    )
    location_code: str = Field(
        description="Location code (mã vị trí) of the point: the ≤ 2 m cell it lies in; follows the point "
        "when the address moves.",
        examples=["8VGDHS6HB"],
    )
    location_code_display: str = Field(
        description="The location code in groups of three.", examples=["8VG-DHS-6HB"]
    )
    house_number: str | None = Field(examples=["12A"])
    alley: str | None = Field(description="Ngõ, ngách, hẻm or kiệt.", examples=["3"])
    street: str | None = Field(examples=["Trần Hưng Đạo"])
    village_name: str | None = Field(description="Thôn, xóm, bản or tổ dân phố.", examples=["Xóm Lác"])
    label: str = Field(
        description="The address written out in Vietnamese, smallest part first (2025 units).",
        examples=["Số 12A, ngõ 3, Xóm Lác, Phường Hòa Bình, Tỉnh Phú Thọ"],
    )
    commune: AddressUnitModel | None = Field(description="The commune or ward since 1 July 2025.")
    province: AddressUnitModel | None = Field(description="The province since 1 July 2025 (Phú Thọ).")
    old_commune: AddressUnitModel | None = Field(
        description="The commune before 1 July 2025: the nearest of those merged into `commune` "
        "(a guess where an old commune was split)."
    )
    old_district: AddressUnitModel | None = Field(description="The district of `old_commune`.")
    status: Status = Field(description="proposed -> active -> retired, never back.", examples=["active"])
    version: int = Field(
        description="Goes up by one with every change; the ETag of the address.", examples=[1]
    )
    source: str = Field(description="Where the address came from ('edit' for the API).", examples=["edit"])
    is_generated: bool = Field(description="True for generated (not surveyed) addresses.")
    created_at: dt.datetime
    updated_at: dt.datetime
    retired_at: dt.datetime | None = Field(description="When it was retired; null while in use.")
    links: list[Link] = Field(description="The address itself (rel self) and its plates (rel plate).")


class AddressFeature(BaseModel):
    """One address as a GeoJSON Feature (WGS 84 point); ``id`` is its registry code."""

    type: Literal["Feature"] = "Feature"
    id: str = Field(description="The registry code.", examples=["1000000005"])
    geometry: PointGeometry
    properties: AddressProperties


class AddressDetailProperties(AddressProperties):
    """An address with what became of it: for a retired one, why, and the address in force now."""

    retired: bool = Field(description="True when the address is retired (status 'retired').")
    retirement_reason: str | None = Field(description="Why it was retired, as the editor wrote it.")
    successor: AddressFeature | None = Field(
        description="For a retired address: the address in force that replaced it (following successors "
        "of successors); null when there is none."
    )


class AddressDetailFeature(AddressFeature):
    """One address as a GeoJSON Feature, with its successor when it is retired."""

    properties: AddressDetailProperties


class MergeAnswer(BaseModel):
    """The address kept by a merge and the addresses retired into it (in the order given)."""

    survivor: AddressFeature
    retired: list[AddressFeature]


# --- code look-ups --------------------------------------------------------------------------------------


class CellModel(BaseModel):
    """The grid cell of a location code: centre, bounds and size."""

    center: tuple[float, float] = Field(
        description="[lon, lat] of the centre, WGS 84.", examples=[[105.338, 20.817]]
    )
    bounds: tuple[float, float, float, float] = Field(
        description="[west, south, east, north] in WGS 84 degrees (west and south inclusive).",
        examples=[[105.33799, 20.81700, 105.33801, 20.81702]],
    )
    size_m: tuple[float, float] = Field(
        description="[width, height] of the cell in metres, measured through its centre (WGS 84 ellipsoid).",
        examples=[[1.8, 2.16]],
    )
    neighbours: dict[Direction, str] = Field(
        description="The codes of the up to 8 cells around it at the same length, by direction (N, NE, "
        "E, SE, S, SW, W, NW; none beyond the edge of the code grid): to step to the next cell.",
        examples=[{"N": "8VGET", "E": "8VGDR", "S": "8VGCQ", "W": "8VGDM"}],
    )


class LocationCodeAnswer(BaseModel):
    """A location code: its cell and the active addresses in it."""

    kind: Literal["location"] = "location"
    code: str = Field(description="The code, canonical (upper case, no separators).", examples=["8VGDP"])
    display: str = Field(description="The code in groups of three.", examples=["8VG-DP"])
    length: int = Field(
        description="Data characters (1-8; 8 is a full code): the printed code has one more, the check.",
        examples=[4],
    )
    cell: CellModel
    addresses: list[AddressFeature] = Field(description="Active addresses in the cell, by location code.")
    truncated: bool = Field(description="True when more addresses lie in the cell than `limit` let through.")


class RegistryCodeAnswer(BaseModel):
    """A registry code: its address and, when it is retired, the address in force now."""

    kind: Literal["registry"] = "registry"
    code: str = Field(description="The code, canonical (10 digits).", examples=["1000000005"])
    display: str = Field(description="The code grouped 4-3-3.", examples=["1000-000-005"])
    address: AddressFeature = Field(description="The address the code was issued to (retired or not).")
    retired: bool = Field(description="True when that address is retired.")
    reason: str | None = Field(description="Why it was retired.")
    successor: AddressFeature | None = Field(
        description="For a retired address: the address in force that replaced it; null when none is."
    )
    chain: list[AddressFeature] = Field(
        description="The successors followed from the address to the one in force, in order."
    )


CodeAnswer = Annotated[LocationCodeAnswer | RegistryCodeAnswer, Field(discriminator="kind")]
"""The answer of GET /codes/{code}: ``kind`` says which."""


# --- edits ----------------------------------------------------------------------------------------------


def _plain_text(value: str) -> str:
    """Refuse text the database cannot store or nobody can read: control characters, lone surrogates.

    >>> _plain_text("Xóm Lác")
    'Xóm Lác'
    """
    if any(unicodedata.category(char) in ("Cc", "Cs") and char not in "\t\n\r" for char in value):
        raise ValueError("must not contain control characters or unpaired surrogates")
    return value


RequiredText = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_TEXT), AfterValidator(_plain_text)
]
TypedCode = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CODE_CHARS)]


class MergeRequest(BaseModel):
    """Addresses to retire all at once into one address that stays."""

    model_config = ConfigDict(extra="forbid")

    codes: list[TypedCode] = Field(
        min_length=1,
        max_length=MAX_MERGE,
        description="Registry codes of the addresses to retire (any spelling; repeats count once).",
        examples=[["1000-000-021"]],
    )
    into: TypedCode = Field(description="Registry code of the address that stays.", examples=["1000-000-013"])
    reason: RequiredText = Field(
        default="merged", description="Why, kept in the history.", examples=["merged"]
    )


# --- conversions ----------------------------------------------------------------------------------------


def address_path(registry_code: str) -> str:
    """Return the path of an address in this API.

    >>> address_path("1000000005")
    '/addresses/1000000005'
    """
    return f"/addresses/{registry_code}"


def _links(record: AddressRecord) -> list[Link]:
    """The address itself and, unless it is retired, its plates."""
    path = address_path(record.registry_code)
    links = [Link(href=path, rel="self", type=GEOJSON, title=record.registry_code_display)]
    if record.status != "retired":
        links += [
            Link(href=f"{path}/plate.svg", rel="plate", type="image/svg+xml", title="Plate (SVG)"),
            Link(href=f"{path}/plate.png", rel="plate", type="image/png", title="Plate (PNG)"),
        ]
    return links


def _unit(unit: UnitRef | None) -> AddressUnitModel | None:
    return None if unit is None else AddressUnitModel.model_validate(unit)


def _properties(record: AddressRecord) -> dict[str, Any]:
    """The properties of an address, as keyword arguments of AddressProperties."""
    return {
        "registry_code": record.registry_code,
        "registry_code_display": record.registry_code_display,
        "location_code": record.location_code,
        "location_code_display": record.location_code_display,
        **{name: getattr(record, name) for name in TEXT_FIELDS},
        "label": record.label,
        "commune": _unit(record.commune),
        "province": _unit(record.province),
        "old_commune": _unit(record.old_commune),
        "old_district": _unit(record.old_district),
        "status": record.status,
        "version": record.version,
        "source": record.source,
        "is_generated": record.is_generated,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "retired_at": record.retired_at,
        "links": _links(record),
    }


def address_feature(record: AddressRecord) -> AddressFeature:
    """Return an address as a GeoJSON Feature."""
    return AddressFeature(
        id=record.registry_code,
        geometry=PointGeometry(coordinates=(record.lon, record.lat)),
        properties=AddressProperties(**_properties(record)),
    )


def address_detail(found: RegistryLookup) -> AddressDetailFeature:
    """Return the address of a registry look-up as a Feature with its retirement and successor."""
    record = found.address
    properties = AddressDetailProperties(
        **_properties(record),
        retired=found.retired,
        retirement_reason=found.reason,
        successor=None if found.successor is None else address_feature(found.successor),
    )
    return AddressDetailFeature(
        id=record.registry_code,
        geometry=PointGeometry(coordinates=(record.lon, record.lat)),
        properties=properties,
    )


@cache
def _geod() -> Geod:
    return Geod(ellps="WGS84")


def cell_size_m(cell: Cell) -> tuple[float, float]:
    """Return the width and height of a cell in metres, measured through its centre.

    >>> from addresses.codes import decode
    >>> [round(side, 2) for side in cell_size_m(decode("8VG-DHS-6HB"))]
    [1.8, 2.16]
    """
    geod = _geod()
    width = geod.inv(cell.west, cell.lat, cell.east, cell.lat)[2]
    height = geod.inv(cell.lon, cell.south, cell.lon, cell.north)[2]
    return round(float(width), 3), round(float(height), 3)


def location_answer(found: LocationLookup) -> LocationCodeAnswer:
    """Return the answer to a location code."""
    cell = found.cell
    return LocationCodeAnswer(
        code=cell.code,
        display=found.display,
        length=cell.length,
        cell=CellModel(
            center=(cell.lon, cell.lat),
            bounds=cell.bounds,
            size_m=cell_size_m(cell),
            neighbours=neighbours(cell.code),
        ),
        addresses=[address_feature(record) for record in found.addresses],
        truncated=found.truncated,
    )


def registry_answer(found: RegistryLookup) -> RegistryCodeAnswer:
    """Return the answer to a registry code (a retired address answers with its successor)."""
    record = found.address
    return RegistryCodeAnswer(
        code=record.registry_code,
        display=record.registry_code_display,
        address=address_feature(record),
        retired=found.retired,
        reason=found.reason,
        successor=None if found.successor is None else address_feature(found.successor),
        chain=[address_feature(link) for link in found.chain],
    )
