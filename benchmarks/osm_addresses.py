"""A tune-side check from the address tags OpenStreetMap mappers typed (OSM-derived, not the dev set).

The OSM points of interest bundled in ``data/hoabinh/pois_osm.geojson`` (© OpenStreetMap
contributors, ODbL: see SOURCES.md) carry a few real address tags typed by mappers:
``addr:full``, ``addr:housenumber``, ``addr:street``, ``addr:city`` ("Giếng Xạ Hamlet - Cư Yên
Commune", "Số 9, ngõ 1, tổ 3, xóm mỏ", "Trần Hưng Đaoj"). Each tag set is one query:

* its text is ``addr:full`` when present, else the housenumber and the street joined by a
  space, then ", " and the city (the order OSM's address formatting writes them);
* its truth is the 2025 ward containing the POI's point (commune level);
* it enters the check only when its text locates something at commune level, decided from
  the text and the bundled lists alone, never from the geocoder (:func:`locates_a_commune`):
  it has a village- or commune-level unit word followed or preceded by a name (xóm, bản, thôn,
  làng, xã, phường, thị trấn, hamlet, village, commune, ward, town), or one of its street or
  city parts is the name of a commune-level unit (GSO list of 2025-03-01, the communes
  abolished 2008-2024, the 2025 wards) or of a bundled village, with or without its marks,
  and is not the province's name. Left out so: a house number alone; a street or road
  alone (no street geometry is bundled: a street cannot be placed in one ward, and the
  national roads and the city's streets cross several); a numbered group ("Tổ 6") with only
  the city of Hòa Bình, which spans several wards.

The POIs are in the index too (the geocoder may find the POI itself by its own tags): this
is a check of reading real typed text, kept apart from the real-text development set, which
it never joins. Run: ``python benchmarks/osm_addresses.py`` prints the queries kept and left out.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import shapely

from benchmarks import devset

POIS: Final = devset.DATA / "pois_osm.geojson"
VILLAGES: Final = devset.DATA / "villages_geonames_wof.geojson"
ATTRIBUTION: Final = "© OpenStreetMap contributors (ODbL)"
KIND: Final = "osm address"

_UNIT_WORD_RE: Final = re.compile(
    r"(?<![a-z])(?:xom|ban|thon|lang|xa|phuong|thi tran|hamlet|village|commune|ward|town|township)"
    r"\s+[a-z]{2,}"
    r"|[a-z]{2,}\s+(?:hamlet|village|commune|ward|town|township)(?![a-z])"
)
"""A village- or commune-level unit word with a name (letters, not a number) after it, or an
English one after its name (folded text)."""
_UNIT_PREFIXES: Final = ("thi tran ", "xa ", "phuong ", "xom ", "ban ", "thon ", "lang ")
_PROVINCE: Final = "hoa binh"


def fold(text: str) -> str:
    """Lower-case ASCII words, single spaces ("Xóm Mỏ, Mai Châu" -> "xom mo mai chau").

    >>> fold("Bản Lác - Pom Coong, Viêt Nam")
    'ban lac pom coong viet nam'
    """
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", plain))


def _bare(name: str) -> str:
    """A folded name without its unit word ("Xã Mai Hịch" -> "mai hich")."""
    folded = fold(name)
    for prefix in _UNIT_PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix) :]
    return folded


@cache
def place_names() -> frozenset[str]:
    """Folded bare names of the commune-level units (2025-03-01, abolished 2008-2024, 2025) and villages."""
    gso = json.loads(devset.GSO_UNITS.read_text(encoding="utf-8"))
    names = {_bare(c["name"]) for d in gso["level2s"] for c in d["level3s"]}
    reorg = json.loads(devset.REORG_2020.read_text(encoding="utf-8"))
    names |= {_bare(u["name"]) for u in reorg["units_abolished"] if u.get("kind") != "district_dissolved"}
    wards = json.loads(devset.WARDS_2025.read_text(encoding="utf-8"))["features"]
    names |= {_bare(f["properties"]["name"]) for f in wards}
    villages = json.loads(VILLAGES.read_text(encoding="utf-8"))["features"]
    names |= {_bare(f["properties"].get("gn_name") or f["properties"]["name"]) for f in villages}
    return frozenset(names - {"", _PROVINCE})


def address_text(tags: Mapping[str, object]) -> str:
    """The text of one tag set: addr:full, else "housenumber street, city".

    >>> address_text({"addr:housenumber": "Nhà 28", "addr:street": "xóm Lác", "addr:city": "tỉnh Hòa bình"})
    'Nhà 28 xóm Lác, tỉnh Hòa bình'
    >>> address_text({"addr:street": "Quốc lộ 15"})
    'Quốc lộ 15'
    """
    full = tags.get("addr:full")
    if full:
        return str(full).strip()
    street = " ".join(str(tags[k]).strip() for k in ("addr:housenumber", "addr:street") if tags.get(k))
    return ", ".join(part for part in (street, str(tags.get("addr:city") or "").strip()) if part)


def locates_a_commune(text: str, names: frozenset[str] | None = None) -> bool:
    """Whether a tag text locates something at commune level (the rule of the module docstring).

    >>> locates_a_commune("Giếng Xạ Hamlet - Cư Yên Commune"), locates_a_commune("Số 9, ngõ 1, tổ 3, xóm mỏ")
    (True, True)
    >>> locates_a_commune("Mai Hich"), locates_a_commune("Mai Chàu")  # an old commune, a town
    (True, True)
    >>> locates_a_commune("215 Trần Hưng Đạo, Hòa Bình"), locates_a_commune("Tổ 6, Hòa Bình")
    (False, False)
    >>> locates_a_commune("QL 6, Hòa Bình"), locates_a_commune("09")
    (False, False)
    """
    names = place_names() if names is None else names
    if _UNIT_WORD_RE.search(fold(text)):
        return True
    parts = [fold(part) for part in re.split(r"[,;\u2013-]", text)]
    return any(_bare(part) in names for part in parts if part)


@dataclass(frozen=True)
class OsmAddress:
    """One tag set: its OSM id, text, point, and whether it enters the check."""

    osm_id: str
    text: str
    point: devset.Point
    kept: bool


def load_tag_sets(path: Path = POIS) -> list[OsmAddress]:
    """Every POI with an address tag, as a text and its point."""
    found = []
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        tags = feature["properties"]
        text = address_text(tags)
        if not text or feature["geometry"]["type"] != "Point":
            continue
        lon, lat = feature["geometry"]["coordinates"][:2]
        found.append(
            OsmAddress(str(tags.get("osm_id")), text, (float(lon), float(lat)), locates_a_commune(text))
        )
    return found


def ward_at(point: devset.Point, wards: devset.WardPolygons | None = None) -> str | None:
    """The 2025 ward containing a point (None outside every ward)."""
    wards = wards or devset.default_wards()
    inside = shapely.contains_xy(
        wards.geoms, np.full(len(wards.geoms), point[0]), np.full(len(wards.geoms), point[1])
    )
    by_index = {i: code for code, i in wards.codes.items()}
    hits = [by_index[int(i)] for i in np.flatnonzero(inside)]
    return hits[0] if hits else None


def load_queries(path: Path = POIS) -> list[devset.DevQuery]:
    """The kept tag sets as queries, the 2025 ward containing each POI their truth."""
    queries = []
    for address in load_tag_sets(path):
        code = ward_at(address.point) if address.kept else None
        if code is not None:
            truth = devset.Truth(wards=(code,))
            queries.append(devset.DevQuery(f"osm-{address.osm_id}", KIND, 3, truth, text=address.text))
    return queries


def main() -> None:
    """Print the tag sets kept and left out (OSM-derived, © OpenStreetMap contributors)."""
    print(f"OSM address tags ({ATTRIBUTION})")
    for address in load_tag_sets():
        print(f"{'kept' if address.kept else 'left'}\t{address.osm_id}\t{address.text}")


if __name__ == "__main__":
    main()
