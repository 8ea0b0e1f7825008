"""GeocodeJSON 0.1.0 answers as plain dicts, serialised once to bytes (orjson).

The HTTP routes answer /search, /autocomplete and /reverse with the bytes
:func:`encode` makes from these dicts, without building and re-validating the
response models on every request (the models in :mod:`api.schemas_geocode` document
the shape in the OpenAPI schema, and a test checks both give the same JSON). Every
key the models define is present, ``null`` when empty, in the same nesting:

* the collection: ``type``, ``geocoding`` (spec version, attribution, licence, query
  text), ``diachiso.query`` (the query as understood), ``features``;
* a feature: ``geometry`` (a Point), ``properties.geocoding`` (the spec's keys only) and
  ``properties.diachiso`` (score, match level, codes, units of both periods).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final, Literal

import orjson

from addresses.codes import format_registry_code
from addresses.types import UnitRef
from addresses.vocabulary import ENGLISH_UNIT_NAMES, UnitLevel
from geocoder.results import GeocodeResult, MatchLevel, NearbyFeature, OldUnit, ReverseResult

GEOCODEJSON_VERSION: Final = "0.1.0"
ATTRIBUTION: Final = "diachiso; data: GSO, Who's On First, GeoNames, © OpenStreetMap contributors"
LICENCE: Final = "ODbL (OpenStreetMap data), CC-BY (GeoNames), see data/hoabinh/SOURCES.md"

Lang = Literal["vi", "en"]
Json = dict[str, Any]

LEVEL_NUMBERS: Final[dict[str, int]] = {
    level.key: int(level) for level in UnitLevel if level <= UnitLevel.COMMUNE
}
"""Unit levels as numbers, as /units and OGC give them (the vocabulary's levels)."""

GeocodeJsonType = Literal["house", "street", "locality", "city", "county", "state", "country"]
GEOCODEJSON_TYPES: Final[dict[str, GeocodeJsonType]] = {
    "address": "house",
    "place": "house",
    "point": "house",
    "street": "street",
    "village": "locality",
    "commune": "city",
    "district": "county",
    "province": "state",
}
"""diachiso's match levels as GeocodeJSON types (a commune or ward is the municipal level, OSM's
admin_level 8, hence "city"; a pre-2025 district is a county; a place or a code cell is a "house")."""

UNIT_WORDS_EN: Final[dict[str, str]] = dict(ENGLISH_UNIT_NAMES)
"""Administrative unit words and their English names (longest first is how they are tried)."""
_UNIT_WORDS_LONGEST_FIRST: Final = sorted(UNIT_WORDS_EN, key=len, reverse=True)


# --- labels ----------------------------------------------------------------------------------------


def english_unit_name(full_name: str) -> str:
    """A unit's full name the English way: the type word after the name.

    >>> english_unit_name("Xã Mai Hạ"), english_unit_name("Thành phố Hòa Bình"), english_unit_name("Xóm Lác")
    ('Mai Hạ Commune', 'Hòa Bình City', 'Xóm Lác')
    """
    lowered = full_name.lower()
    for word in _UNIT_WORDS_LONGEST_FIRST:
        if lowered.startswith(word + " "):
            return f"{full_name[len(word) + 1 :]} {UNIT_WORDS_EN[word]}"
    return full_name


def unique(parts: list[str | None]) -> list[str]:
    """The non-empty parts, each once, in order.

    >>> unique(["a", None, "b", "a", ""])
    ['a', 'b']
    """
    out: list[str] = []
    for part in parts:
        if part and part not in out:
            out.append(part)
    return out


def english_label(result: GeocodeResult) -> str:
    """A result's label in English: unit words translated, 'now' for a pre-2025 unit's successor."""
    name = english_unit_name(result.name)
    ward = english_unit_name(result.current_unit.full_name) if result.current_unit else None
    province = english_unit_name(result.current_province.full_name) if result.current_province else None
    if result.kind.startswith("old_"):
        old_province = next((u.full_name for u in result.old_units if u.level == "province"), None)
        before = ", ".join(unique([name, english_unit_name(old_province) if old_province else None]))
        now = ", ".join(unique([ward, province]))
        return f"{before} (now: {now})" if now else before
    return ", ".join(unique([name, ward if ward != name else None, province]))


def admin(current_unit: UnitRef | None, province: UnitRef | None) -> dict[str, str]:
    """GeocodeJSON ``admin``: names by OpenStreetMap admin_level (2 country, 4 province, 8 commune)."""
    names = {"level2": "Việt Nam"}
    if province is not None:
        names["level4"] = province.full_name
    if current_unit is not None:
        names["level8"] = current_unit.full_name
    return names


def reverse_label(result: ReverseResult, *, lang: Lang) -> str:
    """What is at the point in words: the address (or village), then the units in force."""
    units = [unit.full_name for unit in result.units]
    if lang == "en":
        units = [english_unit_name(name) for name in units]
    first = result.address.name if result.address and result.address.name else None
    if first is None and result.village is not None:
        first = result.village.name
    return ", ".join(unique([first, *units]))


def reverse_level(result: ReverseResult) -> MatchLevel:
    """The finest thing found at the point: an address, a village, else the commune/ward."""
    if result.address is not None:
        return "address"
    return "village" if result.village is not None else "commune"


def outside_note(result: ReverseResult) -> str | None:
    """Why the units may not be what is at the point: outside every ward, or old units not told apart."""
    notes = [] if result.note is None else [result.note]
    if not result.inside:
        notes.insert(
            0,
            f"the point is outside every commune/ward of the database; "
            f"the nearest, {result.current_unit.full_name}, is {result.distance_m:.0f} m away",
        )
    return "; ".join(notes) or None


# --- the JSON documents ----------------------------------------------------------------------------


def unit_json(unit: UnitRef | OldUnit) -> Json:
    """A unit as the answers give it: code, names and level (number and name)."""
    return {
        "code": unit.code,
        "name": unit.name,
        "full_name": unit.full_name,
        "level": LEVEL_NUMBERS[unit.level],
        "level_name": unit.level,
    }


def old_unit_json(unit: OldUnit) -> Json:
    """A pre-2025 unit with the precision of its link."""
    return {**unit_json(unit), "precision": unit.precision}


def _nearby(feature: NearbyFeature | None) -> Json | None:
    return None if feature is None else feature.to_dict()


def _geocoding(
    kind: GeocodeJsonType, label: str, name: str, *, city: UnitRef | None, state: UnitRef | None
) -> Json:
    """The spec's ``properties.geocoding`` member, every key present (the caller fills the others)."""
    return {
        "type": kind,
        "label": label,
        "name": name,
        "housenumber": None,
        "street": None,
        "locality": None,
        "postcode": None,
        "city": city.full_name if city else None,
        "county": None,
        "state": state.full_name if state else None,
        "country": "Việt Nam",
        "admin": admin(city, state),
    }


def _diachiso(level: str, kind: str, score: float | None, codes: tuple[str | None, ...]) -> Json:
    """The ``properties.diachiso`` member's common keys (the caller fills the units and the rest)."""
    location, location_display, registry, registry_display = codes
    return {
        "match_level": level,
        "kind": kind,
        "score": score,
        "location_code": location,
        "location_code_display": location_display,
        "registry_code": registry,
        "registry_code_display": registry_display,
    }


def _feature(lon: float, lat: float, geocoding: Json, extra: Json) -> Json:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
        "properties": {"geocoding": geocoding, "diachiso": extra},
    }


def search_feature(result: GeocodeResult, *, lang: Lang) -> Json:
    """One forward-geocoding result as a GeocodeJSON feature.

    The same document as :func:`_geocoding`, :func:`_diachiso`, :func:`unit_json` and
    :func:`old_unit_json` make (a reverse answer is built with them), written out in one
    piece: a search answer holds up to 50 features, each built on the event loop.
    """
    level = result.match_level
    name = result.name
    city, state, codes = result.current_unit, result.current_province, result.codes
    admin = {"level2": "Việt Nam"}
    if state is not None:
        admin["level4"] = state.full_name
    if city is not None:
        admin["level8"] = city.full_name
    geocoding = {
        "type": GEOCODEJSON_TYPES[level],
        "label": english_label(result) if lang == "en" else result.label,
        "name": name,
        "housenumber": result.house_number,
        "street": name if level == "street" else None,
        "locality": name if level == "village" else None,
        "postcode": None,
        "city": city.full_name if city else None,
        "county": name if level == "district" else None,
        "state": state.full_name if state else None,
        "country": "Việt Nam",
        "admin": admin,
    }
    extra = {
        "match_level": level,
        "kind": result.kind,
        "score": round(result.score, 4),
        "location_code": codes.location_code or None,
        "location_code_display": codes.location_code_display or None,
        "registry_code": codes.registry_code,
        "registry_code_display": codes.registry_code_display,
        "current_unit": None if city is None else unit_json(city),
        "old_units": [
            {
                "code": unit.code,
                "name": unit.name,
                "full_name": unit.full_name,
                "level": LEVEL_NUMBERS[unit.level],
                "level_name": unit.level,
                "precision": unit.precision,
            }
            for unit in result.old_units
        ],
        "point_precision": result.point_precision,
        "note": result.note,
        "ref": result.ref,
        "distance_m": None,
        "units": None,
        "village": None,
        "address": None,
    }
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [float(result.lon), float(result.lat)]},
        "properties": {"geocoding": geocoding, "diachiso": extra},
    }


def reverse_feature(result: ReverseResult, *, lang: Lang) -> Json:
    """What lies at a point as one GeocodeJSON feature located at the point asked for."""
    found = result.address or result.village
    registry = result.address.registry_code if result.address else None
    level = reverse_level(result)
    name = found.name if found and found.name else result.current_unit.full_name
    geocoding = _geocoding(
        GEOCODEJSON_TYPES[level],
        reverse_label(result, lang=lang),
        name,
        city=result.current_unit,
        state=result.current_province,
    )
    geocoding["locality"] = result.village.name if result.village else None
    registry_display = format_registry_code(registry) if registry else None
    codes = (result.location_code, result.location_code_display, registry, registry_display)
    extra = _diachiso(level, "reverse", None, codes)
    extra["current_unit"] = unit_json(result.current_unit)
    extra["old_units"] = [old_unit_json(unit) for unit in result.old_units]
    extra.update(point_precision="exact", note=outside_note(result), ref=found.ref if found else None)
    extra["distance_m"] = round(result.distance_m, 1)
    extra["units"] = [unit_json(unit) for unit in result.units]
    extra.update(village=_nearby(result.village), address=_nearby(result.address))
    return _feature(result.lon, result.lat, geocoding, extra)


_NO_QUERY: Final[Json] = dict.fromkeys(
    ("text", "parsed", "limit", "lang", "filters", "lon", "lat", "radius_m", "at")
)
"""Every key of ``diachiso.query``, in order, none given."""


def search_query_json(
    text: str,
    *,
    parsed: Mapping[str, Any] | None = None,
    limit: int | None = None,
    lang: Lang = "vi",
    filters: Mapping[str, Any] | None = None,
) -> Json:
    """A search's query as the service understood it (``diachiso.query``), every key present.

    >>> search_query_json("xom lac", limit=5)["filters"]
    {}
    """
    parts = {"parsed": None if parsed is None else dict(parsed), "filters": dict(filters or {})}
    return {**_NO_QUERY, "text": text, "limit": limit, "lang": lang, **parts}


def reverse_query_json(
    point: tuple[float, float], *, radius_m: float, at: dt.date | None = None, lang: Lang = "vi"
) -> Json:
    """A reverse query as the service understood it (``diachiso.query``), every key present.

    >>> reverse_query_json((105.1, 20.6), radius_m=100)["lon"]
    105.1
    """
    where = {"lon": point[0], "lat": point[1], "radius_m": radius_m}
    return {**_NO_QUERY, **where, "lang": lang, "filters": {}, "at": None if at is None else at.isoformat()}


def collection(features: list[Json], query: Json) -> Json:
    """The FeatureCollection answer: the query text in ``geocoding``, all of the query in ``diachiso``."""
    meta = {"version": GEOCODEJSON_VERSION, "attribution": ATTRIBUTION, "licence": LICENCE}
    return {
        "type": "FeatureCollection",
        "geocoding": {**meta, "query": query["text"]},
        "diachiso": {"query": query},
        "features": features,
    }


def encode(document: Json) -> bytes:
    """The document as compact UTF-8 JSON (numpy numbers allowed).

    >>> encode({"name": "Xóm Lác", "lon": 105.0}).decode()
    '{"name":"Xóm Lác","lon":105.0}'
    """
    return orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)
