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

from addresses.codes import format_registry_code
from addresses.types import UnitRef
from geocoder.geocodejson import (
    ATTRIBUTION,
    GEOCODEJSON_TYPES,
    GEOCODEJSON_VERSION,
    LEVEL_NUMBERS,
    LICENCE,
    GeocodeJsonType,
    Lang,
    admin,
    english_label,
    outside_note,
    reverse_label,
    reverse_level,
)
from geocoder.results import (
    GeocodeResult,
    MatchLevel,
    NearbyFeature,
    OldUnit,
    ResultKind,
    ReverseResult,
    UnitLevelName,
)


class UnitModel(BaseModel):
    """An administrative unit: GSO code, short name, full name (with its type) and level."""

    code: str = Field(examples=["05200"])
    name: str = Field(examples=["Mai Châu"])
    full_name: str = Field(examples=["Xã Mai Châu"])
    level: int = Field(ge=1, le=3, examples=[3], description="1 province, 2 district, 3 commune/ward.")
    level_name: UnitLevelName = Field(examples=["commune"])

    @classmethod
    def of(cls, unit: UnitRef) -> UnitModel:
        """The model of a unit found by the geocoder."""
        return cls(**_unit_fields(unit))


class OldUnitModel(UnitModel):
    """A unit before 1 July 2025, and how sure the link to it is ("exact" or how it was guessed)."""

    precision: str = Field(examples=["exact"])

    @classmethod
    def of_old(cls, unit: OldUnit) -> OldUnitModel:
        """The model of a pre-2025 unit found by the geocoder."""
        return cls(**_unit_fields(unit), precision=unit.precision)


def _unit_fields(unit: UnitRef | OldUnit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "full_name": unit.full_name,
        "level": LEVEL_NUMBERS[unit.level],
        "level_name": unit.level,
    }


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
        description="Relevance in [0, 1]; null for reverse geocoding.", examples=[0.93]
    )
    location_code: str | None = Field(description="Location code of the point (mã vị trí), canonical.")
    location_code_display: str | None = Field(description="The same in groups of three, e.g. 8VG-DHS-6HB.")
    registry_code: str | None = Field(description="Registry code (mã địa chỉ số) when an address is there.")
    registry_code_display: str | None = Field(description="The same grouped 4-3-3, e.g. 1000-000-005.")
    current_unit: UnitModel | None = Field(description="The commune or ward (since 1 July 2025).")
    old_units: list[OldUnitModel] = Field(description="The units before 1 July 2025, finest first.")
    point_precision: str = Field(description="'exact' for a surveyed point, else why it is approximate.")
    note: str | None = Field(default=None, description="Anything unusual (a split commune...).")
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


def _unit(unit: UnitRef | None) -> UnitModel | None:
    return None if unit is None else UnitModel.of(unit)


def _old_units(units: tuple[OldUnit, ...]) -> list[OldUnitModel]:
    return [OldUnitModel.of_old(unit) for unit in units]


def _feature(
    lon: float, lat: float, geocoding: GeocodingProperties, extra: DiachisoProperties
) -> GeocodeFeature:
    return GeocodeFeature(
        geometry=PointGeometry(coordinates=(lon, lat)),
        properties=FeatureProperties(geocoding=geocoding, diachiso=extra),
    )


def search_feature(result: GeocodeResult, *, lang: Lang) -> GeocodeFeature:
    """One forward-geocoding result as a GeocodeJSON feature."""
    codes = result.codes
    level = result.match_level
    geocoding = GeocodingProperties(
        type=GEOCODEJSON_TYPES[level],
        label=english_label(result) if lang == "en" else result.label,
        name=result.name,
        housenumber=result.house_number,
        street=result.name if level == "street" else None,
        locality=result.name if level == "village" else None,
        city=result.current_unit.full_name if result.current_unit else None,
        county=result.name if level == "district" else None,
        state=result.current_province.full_name if result.current_province else None,
        admin=admin(result.current_unit, result.current_province),
    )
    extra = DiachisoProperties(
        match_level=level,
        kind=result.kind,
        score=round(result.score, 4),
        location_code=codes.location_code or None,
        location_code_display=codes.location_code_display or None,
        registry_code=codes.registry_code,
        registry_code_display=codes.registry_code_display,
        current_unit=_unit(result.current_unit),
        old_units=_old_units(result.old_units),
        point_precision=result.point_precision,
        note=result.note,
        ref=result.ref,
    )
    return _feature(result.lon, result.lat, geocoding, extra)


def collection(features: list[GeocodeFeature], query: QueryModel) -> GeocodeCollection:
    """The FeatureCollection answer: the query text in ``geocoding``, all of the query in ``diachiso``."""
    return GeocodeCollection(
        geocoding=GeocodingMeta(query=query.text), diachiso=DiachisoMeta(query=query), features=features
    )


def _nearby(feature: NearbyFeature | None) -> NearbyModel | None:
    return None if feature is None else NearbyModel(**feature.to_dict())


def reverse_feature(result: ReverseResult, *, lang: Lang) -> GeocodeFeature:
    """What lies at a point as one GeocodeJSON feature located at the point asked for."""
    found = result.address or result.village
    registry = result.address.registry_code if result.address else None
    level = reverse_level(result)
    geocoding = GeocodingProperties(
        type=GEOCODEJSON_TYPES[level],
        label=reverse_label(result, lang=lang),
        name=found.name if found and found.name else result.current_unit.full_name,
        locality=result.village.name if result.village else None,
        city=result.current_unit.full_name,
        state=result.current_province.full_name if result.current_province else None,
        admin=admin(result.current_unit, result.current_province),
    )
    extra = DiachisoProperties(
        match_level=level,
        kind="reverse",
        score=None,
        location_code=result.location_code,
        location_code_display=result.location_code_display,
        registry_code=registry,
        registry_code_display=format_registry_code(registry) if registry else None,
        current_unit=_unit(result.current_unit),
        old_units=_old_units(result.old_units),
        point_precision="exact",
        note=outside_note(result),
        ref=found.ref if found else None,
        distance_m=round(result.distance_m, 1),
        units=[UnitModel.of(unit) for unit in result.units],
        village=_nearby(result.village),
        address=_nearby(result.address),
    )
    return _feature(result.lon, result.lat, geocoding, extra)
