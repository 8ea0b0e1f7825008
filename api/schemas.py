"""Response models of the API (pydantic): the OpenAPI document is generated from them.

OGC API Features names its members in camelCase (``numberMatched``, ``conformsTo``):
those fields carry aliases and are written by alias, as FastAPI does by default.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from addresses.features import CRS84

ISO_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_day(value: object) -> object:
    """Let only a day written YYYY-MM-DD (or a date) through: no numbers, timestamps or times.

    >>> iso_day("2024-06-30")
    '2024-06-30'
    >>> iso_day("0")
    Traceback (most recent call last):
    ValueError: give a day as YYYY-MM-DD, not '0'
    """
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and ISO_DAY.fullmatch(value):
        return value
    raise ValueError(f"give a day as YYYY-MM-DD, not {value!r}")


IsoDate = Annotated[dt.date, BeforeValidator(iso_day)]
"""A day (query parameters, bodies): only the YYYY-MM-DD form is read as a date."""

GEOJSON_GEOMETRY_DESCRIPTION = "A GeoJSON geometry in the CRS asked for (Content-Crs), or null."


class ErrorDetail(BaseModel):
    """What went wrong: HTTP status, error class, message and the parameter at fault."""

    status: int = Field(examples=[404])
    type: str = Field(examples=["NotFoundError"])
    message: str = Field(examples=["no collection 'roads'; there are addresses, villages, places, units"])
    parameter: str | None = Field(default=None, examples=["bbox"])
    message_vi: str | None = Field(
        default=None, description="The message in Vietnamese (edits refused by validation or rights)."
    )


class ErrorResponse(BaseModel):
    """The one JSON shape of every error answer."""

    error: ErrorDetail
    current: dict[str, Any] | None = Field(
        default=None, description="A stale edit (409): the feature as it now is, to show beside yours."
    )


# --- OGC API Features -----------------------------------------------------------------------------


class Link(BaseModel):
    """A link of an OGC API resource."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPage(BaseModel):
    """The OGC API landing page: what the service is and where its parts are."""

    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    """The conformance classes the service implements."""

    model_config = ConfigDict(populate_by_name=True)

    conforms_to: list[str] = Field(alias="conformsTo")


class SpatialExtent(BaseModel):
    """Bounding box of a collection's features."""

    bbox: list[list[float]] = Field(examples=[[[104.83, 20.3, 105.86, 21.11]]])
    crs: str = CRS84


class TemporalExtent(BaseModel):
    """Validity of a collection's features: the whole interval first, then each period."""

    interval: list[list[str | None]] = Field(examples=[[[None, None], ["2025-07-01", None]]])
    trs: str = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"


class Extent(BaseModel):
    """Spatial and temporal extent of a collection."""

    spatial: SpatialExtent | None = None
    temporal: TemporalExtent | None = None


class CollectionModel(BaseModel):
    """One feature collection: extents, CRSs offered, links to its items."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(examples=["units"])
    title: str
    description: str
    links: list[Link]
    extent: Extent
    item_type: str = Field(default="feature", alias="itemType")
    crs: list[str]
    storage_crs: str = Field(alias="storageCrs")


class Collections(BaseModel):
    """Every collection of the service."""

    links: list[Link]
    collections: list[CollectionModel]
    crs: list[str] = Field(description="The CRSs every collection offers.")


class FeatureModel(BaseModel):
    """A GeoJSON feature."""

    type: Literal["Feature"] = "Feature"
    id: int | str = Field(description="The registry code in `addresses`, the database id elsewhere.")
    geometry: dict[str, Any] | None = Field(description=GEOJSON_GEOMETRY_DESCRIPTION)
    properties: dict[str, Any]


class FeatureItem(FeatureModel):
    """A GeoJSON feature fetched on its own, with links to itself and its collection."""

    links: list[Link]


class FeatureCollectionModel(BaseModel):
    """A page of features as a GeoJSON FeatureCollection."""

    model_config = ConfigDict(populate_by_name=True)

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[FeatureModel]
    number_matched: int = Field(alias="numberMatched", description="Features matching in all pages.")
    number_returned: int = Field(alias="numberReturned", description="Features in this page.")
    time_stamp: str = Field(alias="timeStamp", description="When the answer was made (RFC 3339).")
    links: list[Link]


# --- administrative units ---------------------------------------------------------------------------


class UnitModel(BaseModel):
    """One administrative unit in one period (``valid_to`` exclusive, null while it exists)."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Database id (a code may name units of two periods).")
    code: str = Field(examples=["04795"], description="GSO code.")
    level: int = Field(examples=[3], description="1 province, 2 district, 3 commune/ward.")
    level_name: str = Field(examples=["commune"])
    unit_type: str = Field(examples=["phường"])
    name: str = Field(examples=["Hòa Bình"])
    full_name: str = Field(examples=["Phường Hòa Bình"])
    name_en: str | None
    parent_code: str | None = Field(examples=["25"])
    parent_name: str | None = Field(examples=["Tỉnh Phú Thọ"])
    valid_from: dt.date | None = Field(description="First day; null when the sources do not say.")
    valid_to: dt.date | None = Field(description="Day it ceased (exclusive); null while it exists.")
    geom_quality: str | None = Field(description="polygon, point, bbox or none.")
    population: int | None
    area_km2: float | None
    is_current: bool


class UnitPageModel(BaseModel):
    """A page of units."""

    items: list[UnitModel]
    number_matched: int
    number_returned: int
    limit: int
    offset: int


class LineageLinkModel(BaseModel):
    """A predecessor or successor in a reorganisation."""

    model_config = ConfigDict(from_attributes=True)

    unit: UnitModel
    kind: Literal["full", "partial"] = Field(description="full: all of the old unit; partial: a part.")
    effective_date: dt.date
    change: Literal[
        "merged", "split", "renamed", "district_changed", "district_dissolved", "transferred_out"
    ] = Field(
        description="merged (whole) into the new unit, split between several, renamed or retyped keeping "
        "the code, moved to another district, its district dissolved."
    )
    legal_basis: str | None = Field(
        description="The act, e.g. 830/NQ-UBTVQH14.", examples=["830/NQ-UBTVQH14"]
    )
    confidence: Literal["high", "medium", "low"] | None = Field(
        description="How well the sources support the link (null when the source does not say)."
    )
    note: str | None = Field(description="Which part went where, for a split.")


class DepartureModel(BaseModel):
    """A unit transferred to another province (e.g. four Lương Sơn communes to Hà Nội in 2008)."""

    model_config = ConfigDict(from_attributes=True)

    effective_date: dt.date
    legal_basis: str | None
    note: str | None = Field(description="Where it went.")
    text: str = Field(description="The departure in words.")


class UnitDetailModel(BaseModel):
    """A unit with its geometry (WGS 84 GeoJSON), lineage and the other units of its code."""

    unit: UnitModel
    geometry: dict[str, Any] | None = Field(description="The polygon, when the sources have one.")
    label_point: dict[str, Any] | None
    resolution: Literal["at", "current", "latest"] = Field(
        description="How the unit was chosen among those of the code: valid on `at`, current, or latest."
    )
    note: str | None = Field(description="Set when the code names units of other periods too.")
    other_periods: list[UnitModel]
    predecessors: list[LineageLinkModel]
    successors: list[LineageLinkModel]
    departure: DepartureModel | None = Field(
        default=None, description="Set when the unit left the province: it has no successor here."
    )


class SuccessorModel(BaseModel):
    """A present-day unit holding all or part of an old unit."""

    model_config = ConfigDict(from_attributes=True)

    unit: UnitModel
    kind: Literal["full", "partial"]
    basis: Literal["unchanged", "lineage", "communes", "geometry"] = Field(
        description="unchanged: already current; lineage: recorded; communes: via an abolished "
        "district's communes; geometry: by area overlap (no recorded lineage)."
    )
    share: float | None = Field(description="For basis geometry: share of the old unit's area.")
    via: list[LineageLinkModel] = Field(
        description="The changes from the old unit to this one, in order (e.g. 2019 commune -> 2020 commune "
        "-> 2025 unit: two links)."
    )
    confidence: Literal["high", "medium", "low"] | None = Field(
        description="The weakest confidence along the chain (null when no link says)."
    )
    note: str | None = Field(description="Which part went where, when a change on the way was a split.")


class ConversionModel(BaseModel):
    """An old unit and the present-day unit(s) its area now belongs to."""

    model_config = ConfigDict(from_attributes=True)

    source: UnitModel
    successors: list[SuccessorModel]
    note: str
    departure: DepartureModel | None = Field(
        default=None, description="Set when the unit left the province: no successor in this database."
    )
