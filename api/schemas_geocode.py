"""Response models of the geocoding routes: GeoJSON FeatureCollections in GeocodeJSON 0.1.0.

As the spec (https://github.com/geocoders/geocodejson-spec) has it, the collection
carries a ``geocoding`` member (spec version, licence, attribution, the query text) and
each feature a ``properties.geocoding`` member with only the spec's keys: ``type`` (one
of house, street, locality, city, county, state, country), ``label``, ``name``,
``housenumber``, ``street``, ``locality``, ``city``, ``state``, ``country``, ``admin``.
Everything diachiso adds - score, the finer match level, the digital codes, the
current (2025) unit and the pre-2025 units - is namespaced in ``properties.diachiso``
(and the query as understood in the collection's ``diachiso.query``). Units carry one
``level`` type everywhere in the API: an integer (1 province, 2 district, 3 commune) with
its name in ``level_name``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from geocoder.geocodejson import (
    ATTRIBUTION,
    GEOCODEJSON_VERSION,
    LICENCE,
    GeocodeJsonType,
    Lang,
)
from geocoder.results import (
    MatchLevel,
    ResultKind,
    UnitLevelName,
)


class UnitModel(BaseModel):
    """An administrative unit: GSO code, short name, full name (with its type) and level."""

    code: str = Field(examples=["05200"])
    name: str = Field(examples=["Mai Châu"])
    full_name: str = Field(examples=["Xã Mai Châu"])
    level: int = Field(ge=1, le=3, examples=[3], description="1 province, 2 district, 3 commune/ward.")
    level_name: UnitLevelName = Field(examples=["commune"])


class OldUnitModel(UnitModel):
    """A unit before 1 July 2025, and how sure the link to it is ("exact" or how it was guessed)."""

    precision: str = Field(examples=["exact"])


class NearbyModel(BaseModel):
    """A village or address near a reverse-geocoded point, with its distance in metres."""

    ref: str = Field(description="What it is in the database, e.g. 'village:434'.")
    name: str
    lon: float
    lat: float
    distance_m: float
    registry_code: str | None = Field(default=None, description="For an address: its registry code.")


class GeocodingProperties(BaseModel):
    """The ``geocoding`` member of a feature: the GeocodeJSON keys only (diachiso's are in ``diachiso``)."""

    type: GeocodeJsonType = Field(
        description="GeocodeJSON type: house (an address, a place or a code cell), street, locality (a "
        "village: thôn, xóm, bản), city (a commune or ward), county (a pre-2025 district), state (a "
        "province). diachiso.match_level says it more finely.",
        examples=["locality"],
    )
    label: str = Field(description="The whole address, finest part first.", examples=["Xóm Lác, Xã Mai Châu"])
    name: str = Field(description="The name of the thing found.", examples=["Xóm Lác"])
    housenumber: str | None = None
    street: str | None = None
    locality: str | None = Field(default=None, description="The village (thôn, xóm, bản), if known.")
    postcode: str | None = Field(default=None, description="Always null: no postcode data is loaded.")
    city: str | None = Field(default=None, description="The current commune or ward (full name).")
    county: str | None = Field(default=None, description="A pre-2025 district found as such.")
    state: str | None = Field(default=None, description="The current province (full name).")
    country: str = "Việt Nam"
    admin: dict[str, str] = Field(
        description="Administrative names by OpenStreetMap admin_level: level2 country, level4 "
        "province, level8 commune/ward (current units).",
        examples=[{"level2": "Việt Nam", "level4": "Tỉnh Phú Thọ", "level8": "Xã Mai Châu"}],
    )


class DiachisoProperties(BaseModel):
    """The ``diachiso`` member of a feature: score, match level, codes and units of both periods."""

    match_level: MatchLevel | Literal["point"] = Field(
        description="Match level: address, street, village, place, commune, district, province, "
        "or point (a bare location-code cell or a reverse-geocoded point without an address).",
        examples=["village"],
    )
    kind: ResultKind | Literal["reverse"] = Field(
        description="What was found: a 2025 unit, a pre-2025 one (old_*), a feature, a code, "
        "or 'reverse' for what lies at a point.",
        examples=["village"],
    )
    score: float | None = Field(
        description="How much of the text the answer explains, in [0, 1]; null for reverse geocoding. "
        "0.8 or more only for a first answer nothing ties; ties and alternatives score at most 0.75.",
        examples=[0.93],
    )
    location_code: str | None = Field(description="Location code of the point (mã vị trí), canonical.")
    location_code_display: str | None = Field(description="The same in groups of three, e.g. 8VG-DHS-6HB.")
    registry_code: str | None = Field(description="Registry code (mã địa chỉ số) when an address is there.")
    registry_code_display: str | None = Field(description="The same grouped 4-3-3, e.g. 1000-000-005.")
    current_unit: UnitModel | None = Field(description="The commune or ward (since 1 July 2025).")
    old_units: list[OldUnitModel] = Field(description="The units before 1 July 2025, finest first.")
    point_precision: str = Field(description="'exact' for a surveyed point, else why it is approximate.")
    note: str | None = Field(
        default=None, description="Anything unusual (a split commune, another answer that ties this one...)."
    )
    ref: str | None = Field(default=None, description="What was found in the database, e.g. 'village:434'.")
    distance_m: float | None = Field(
        default=None,
        description="Reverse: metres from the point to its commune/ward (0 inside; more when the point "
        "lies outside every ward and the nearest one answers).",
    )
    units: list[UnitModel] | None = Field(
        default=None, description="Reverse: the units in force on the day asked for (at), finest first."
    )
    village: NearbyModel | None = Field(
        default=None, description="Reverse: the nearest village within radius_m."
    )
    address: NearbyModel | None = Field(
        default=None, description="Reverse: the nearest address within radius_m."
    )


class FeatureProperties(BaseModel):
    """A feature's properties: the GeocodeJSON ``geocoding`` member and diachiso's own."""

    geocoding: GeocodingProperties
    diachiso: DiachisoProperties


class PointGeometry(BaseModel):
    """A GeoJSON Point in WGS 84 (longitude, latitude)."""

    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float] = Field(examples=[[105.0712, 20.6516]])


class GeocodeFeature(BaseModel):
    """One result as a GeoJSON Feature."""

    type: Literal["Feature"] = "Feature"
    geometry: PointGeometry
    properties: FeatureProperties


class QueryModel(BaseModel):
    """The query as the service understood it."""

    text: str | None = Field(default=None, description="The text searched for (search, autocomplete).")
    parsed: dict[str, Any] | None = Field(default=None, description="The text read into components.")
    limit: int | None = None
    lang: Lang = "vi"
    filters: dict[str, Any] = Field(default_factory=dict, description="The filters applied.")
    lon: float | None = Field(default=None, description="Reverse: the point asked for.")
    lat: float | None = None
    radius_m: float | None = None
    at: str | None = Field(default=None, description="Reverse: the day the units are read for.")


class GeocodingMeta(BaseModel):
    """The collection's ``geocoding`` member: spec version, attribution, licence and the query text."""

    version: str = GEOCODEJSON_VERSION
    attribution: str = ATTRIBUTION
    licence: str = LICENCE
    query: str | None = Field(description="The text searched for; null for reverse geocoding.")


class DiachisoMeta(BaseModel):
    """The collection's ``diachiso`` member: the query as the service understood it."""

    query: QueryModel


class GeocodeCollection(BaseModel):
    """Results as a GeocodeJSON FeatureCollection, best first."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    geocoding: GeocodingMeta
    diachiso: DiachisoMeta
    features: list[GeocodeFeature]


class ParsedModel(BaseModel):
    """An address text read into labelled components (no database involved)."""

    query: str
    parsed: dict[str, Any] = Field(
        description="Components by level (house_number ... province), unlabeled pieces."
    )


# --- building the answers as models ----------------------------------------------------------------
# The routes answer with the bytes of :mod:`geocoder.geocodejson` (serialised once, no validation);
# these builders make the same answers as models: the reference a test compares those bytes with.
