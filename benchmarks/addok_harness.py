"""Addok (PyPI) with its own Redis, loaded with the same Hoa Binh entities as diachiso.

Redis (Debian's ``redis-server``) runs on a free loopback port with a private temporary
folder and no persistence; Addok reads a generated config module through
``ADDOK_CONFIG_MODULE``. The documents come from the diachiso database, configured as a
careful operator would for Vietnamese data (see ``AddokOptions`` and ``config_text``):

* 2025 wards (``municipality``): name with and without the type word, context "Tỉnh Phú
  Thọ, Việt Nam" (optionally also the names of the communes they were formed from);
* pre-2025 communes (``locality``): context old district, "Tỉnh Hòa Bình", "Việt Nam"; at
  their centre, or at their 2025 ward's label point when the centre lies outside it (5 of 151);
* villages and named places (``village``, ``poi``): the 2025 ward as ``city``, context the
  former commune (nearest pre-2025 commune centre among the ward's predecessors), the
  former district (polygon that covers the point), both provinces and "Việt Nam";
* streets from the places' ``addr:street`` (``street``), with their ``addr:housenumber``s.

Text pipeline: NFC first (NFD input would split words at combining marks), then Addok's
tokenizer and ASCII folding (unidecode: "Hòa" -> "hoa", "Đ" -> "d"), house-number flagging,
and a synonym file for the Vietnamese abbreviations (tp, tx, tt, h, x, p, ql, vn). Results
are scored against labels that spell out the context the way people write it. Reverse
answers with the 2025 ward of the nearest document, which is what an Addok user gets.

Run ``python -m benchmarks.addok_harness serve CONFIG PORT`` (from the repository root) to
serve a loaded instance over HTTP (Addok's own WSGI app on a stdlib server).
``AddokOptions.naive()`` is the same data with Addok's defaults, for comparison.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import redis
from addok.batch import process_documents
from addok.config import config as addok_config
from addok.core import reverse as addok_reverse
from addok.core import search as addok_search
from addok.helpers.text import EntityTooLarge
from sqlalchemy import Connection, Label, Row, Select, String, Table, and_, case, func, literal, select, true
from sqlalchemy.sql.elements import ColumnElement

from addresses.schema import admin_unit, place, unit_lineage, village

ROOT = Path(__file__).resolve().parent.parent
REORGANISED = date(2025, 7, 1)
COUNTRY = "Việt Nam"
SYNONYMS = (
    "tp => thanh pho",
    "tx => thi xa",
    "tt => thi tran",
    "h => huyen",
    "x => xa",
    "p => phuong",
    "ql => quoc lo",
    "vn => viet nam",
)
Doc = dict[str, object]
Point = tuple[float, float]


@dataclass(frozen=True)
class AddokOptions:
    """The knobs of the Addok set-up that were tried (defaults: the best careful configuration).

    ``geohash_precision`` 5 (cells of about 5 km) instead of Addok's 7 (150 m): reverse
    looks only in the 3x3 then 5x5 cells around the point, which at 7 finds no document
    for 90% of rural points. ``common_threshold`` stays Addok's default (10000): scaled
    down to this corpus (60, 120, 200: 3-20% of the documents) it scored the same.
    """

    common_threshold: int = 10000
    geohash_precision: int = 5
    autocomplete: bool = False
    ward_predecessors: bool = False
    context_labels: bool = True
    text_pipeline: bool = True
    fuzzy: int = 1

    @classmethod
    def naive(cls) -> AddokOptions:
        """Addok's defaults on the same documents: no NFC, synonyms or context labels, precision 7."""
        return cls(common_threshold=10000, geohash_precision=7, context_labels=False, text_pipeline=False)


# ---------------------------------------------------------------- Redis


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a child process, killing it if it does not exit within 5 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _wait_for_redis(port: int, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Return once Redis answers PING; raise if it died or the timeout passed."""
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {process.returncode}")
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    return
            time.sleep(0.05)
    finally:
        client.close()
    raise RuntimeError(f"redis-server did not answer on 127.0.0.1:{port} within {timeout_s} s")


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[int]:
    """Run a private, non-persistent redis-server on a free loopback port; yield the port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: apt-get install -y redis-server")
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--dir", str(folder), "--daemonize", "no", "--logfile", str(folder / "redis.log")]
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        _wait_for_redis(port, process, timeout_s=10)
        yield port
    finally:
        stop_process(process)


# ---------------------------------------------------------------- documents from the database


def _xy(geom: Any) -> tuple[Label[float], Label[float]]:
    """Longitude and latitude columns of a point expression."""
    return func.ST_X(geom).label("lon"), func.ST_Y(geom).label("lat")


def province_names(conn: Connection) -> tuple[str, str]:
    """Full names of the current province (Phú Thọ) and the former one (Hòa Bình)."""
    new = conn.execute(
        select(admin_unit.c.full_name).where(admin_unit.c.level == 1, admin_unit.c.valid_from == REORGANISED)
    ).scalar_one()
    old = conn.execute(
        select(admin_unit.c.full_name).where(admin_unit.c.level == 1, admin_unit.c.valid_to == REORGANISED)
    ).scalar_one()
    return str(new), str(old)


def ward_select() -> Select[Any]:
    """2025 wards with their label point and the names of the communes they were formed from."""
    new, old = admin_unit.alias("new"), admin_unit.alias("old")
    joined = new.outerjoin(unit_lineage, unit_lineage.c.successor_id == new.c.id).outerjoin(
        old, old.c.id == unit_lineage.c.predecessor_id
    )
    return (
        select(
            new.c.code,
            new.c.full_name,
            new.c.name,
            *_xy(new.c.label_point),
            func.array_remove(func.array_agg(old.c.full_name), None).label("predecessors"),
        )
        .select_from(joined)
        .where(new.c.level == 3, new.c.valid_from == REORGANISED)
        .group_by(new.c.id)
        .order_by(new.c.code)
    )


def _containing_ward(point: ColumnElement[Any]) -> ColumnElement[Any]:
    """The code of the 2025 ward whose polygon covers a point (scalar subquery)."""
    ward = admin_unit.alias("cover")
    return (
        select(ward.c.code)
        .where(ward.c.level == 3, ward.c.valid_from == REORGANISED, func.ST_Covers(ward.c.geom, point))
        .limit(1)
        .scalar_subquery()
    )


def _inside_a_successor(old: Any) -> ColumnElement[bool]:
    """Whether a pre-2025 commune's centre lies inside one of the 2025 wards it became."""
    successor = admin_unit.alias("inside_successor")
    return (
        select(successor.c.id)
        .select_from(unit_lineage.join(successor, successor.c.id == unit_lineage.c.successor_id))
        .where(unit_lineage.c.predecessor_id == old.c.id, func.ST_Covers(successor.c.geom, old.c.label_point))
        .exists()
    )


def old_commune_select() -> Select[Any]:
    """Pre-2025 communes: district, point and 2025 ward.

    The point is the commune's centre when it lies inside one of the wards the commune
    became, else (a coarse or missing centre: 5 of 151) the first successor ward's label point.
    """
    old, district = admin_unit.alias("old"), admin_unit.alias("district")
    successor = admin_unit.alias("successor")
    first = (
        select(successor.c.label_point.label("point"), successor.c.code.label("code"))
        .select_from(unit_lineage.join(successor, successor.c.id == unit_lineage.c.successor_id))
        .where(unit_lineage.c.predecessor_id == old.c.id)
        .order_by(unit_lineage.c.kind, successor.c.code)
        .limit(1)
        .lateral("first_successor")
    )
    point = case((_inside_a_successor(old), old.c.label_point), else_=first.c.point)
    return (
        select(
            old.c.code,
            old.c.full_name,
            old.c.name,
            district.c.full_name.label("district"),
            *_xy(point),
            func.coalesce(_containing_ward(point), first.c.code).label("ward_code"),
        )
        .select_from(old.outerjoin(district, district.c.id == old.c.parent_id).outerjoin(first, true()))
        .where(old.c.level == 3, old.c.valid_to == REORGANISED)
        .order_by(old.c.code)
    )


def _former_units(point: ColumnElement[Any], ward_id: ColumnElement[Any]) -> Any:
    """Lateral: the nearest pre-2025 commune centre among the ward's predecessors, and its district."""
    old, district = admin_unit.alias("old_commune"), admin_unit.alias("old_district")
    return (
        select(old.c.full_name.label("old_commune"), district.c.full_name.label("old_district"))
        .select_from(
            unit_lineage.join(old, old.c.id == unit_lineage.c.predecessor_id).outerjoin(
                district, district.c.id == old.c.parent_id
            )
        )
        .where(unit_lineage.c.successor_id == ward_id, old.c.label_point.is_not(None))
        .order_by(old.c.label_point.op("<->")(point))
        .limit(1)
        .lateral("former")
    )


def _covering_district(point: ColumnElement[Any]) -> ColumnElement[Any]:
    """The full name of the pre-2025 district whose polygon covers a point (scalar subquery)."""
    district = admin_unit.alias("cover_district")
    return (
        select(district.c.full_name)
        .where(
            district.c.level == 2, district.c.valid_to == REORGANISED, func.ST_Covers(district.c.geom, point)
        )
        .limit(1)
        .scalar_subquery()
    )


def _where_it_lies(table: Table, point: ColumnElement[Any]) -> tuple[list[Any], Any]:
    """The columns saying where a village or place lies, and the FROM clause they read.

    Its point, 2025 ward (code and name), former commune and district, and the district
    covering it; the table's ``commune_id`` names the ward.
    """
    ward = admin_unit.alias("ward")
    former = _former_units(point, table.c.commune_id)
    columns = [
        *_xy(point),
        ward.c.code.label("ward_code"),
        ward.c.full_name.label("ward"),
        former.c.old_commune,
        former.c.old_district,
        _covering_district(point).label("district"),
    ]
    return columns, table.join(ward, ward.c.id == table.c.commune_id).outerjoin(former, true())


def village_select() -> Select[Any]:
    """Villages with their point, 2025 ward, former commune and former district."""
    located, source = _where_it_lies(village, func.ST_PointOnSurface(village.c.geom))
    return (
        select(village.c.id, village.c.name, village.c.village_type, *located)
        .select_from(source)
        .order_by(village.c.id)
    )


def place_select() -> Select[Any]:
    """Named places with aliases (name:en, name:vi), street, house number, ward and former units."""
    located, source = _where_it_lies(place, place.c.geom)
    return (
        select(
            place.c.id,
            place.c.name,
            place.c.tags["name:en"].astext.label("name_en"),
            place.c.tags["name:vi"].astext.label("name_vi"),
            place.c.street,
            place.c.house_number,
            *located,
        )
        .select_from(source)
        .where(
            and_(place.c.name.is_not(None), place.c.name != literal("", String)) | place.c.street.is_not(None)
        )
        .order_by(place.c.id)
    )


def unique(values: Iterable[str | None]) -> list[str]:
    """Non-empty values, first occurrence only, order kept."""
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def labels(names: Sequence[str], chains: Sequence[Sequence[str | None]], *, enabled: bool) -> list[str]:
    """Scoring labels: each name alone, then followed by each chain of context names."""
    if not enabled:
        return unique(names)
    spelled = [", ".join(unique([name, *chain])) for name in names for chain in chains]
    return unique([*names, *spelled])


@dataclass(frozen=True)
class Provinces:
    """Names written around every document."""

    new: str
    old: str


def without_type(name: str, words: Sequence[str | None]) -> str:
    """The name without a leading type word ("Bản Suối Gioi" -> "Suối Gioi"), else unchanged."""
    lowered = name.casefold()
    for word in words:
        if word and lowered.startswith(word.casefold() + " "):
            return name[len(word) + 1 :]
    return name


def ward_document(row: Row[Any], p: Provinces, options: AddokOptions) -> Doc:
    """A 2025 ward as an Addok ``municipality``."""
    names = unique([row.full_name, row.name])
    extra = list(row.predecessors) if options.ward_predecessors else []
    return {
        "_id": f"ward-{row.code}",
        "type": "municipality",
        "name": names,
        "context": unique([p.new, COUNTRY, *extra]),
        "lat": row.lat,
        "lon": row.lon,
        "importance": 1.0,
        "ward_code": row.code,
        "labels": labels(names, [[p.new], [p.new, COUNTRY]], enabled=options.context_labels),
    }


def old_commune_document(row: Row[Any], p: Provinces, options: AddokOptions) -> Doc:
    """A pre-2025 commune as an Addok ``locality`` in its former district and province."""
    names = unique([row.full_name, row.name])
    chains = [[row.district], [row.district, p.old]]
    return {
        "_id": f"old-{row.code}",
        "type": "locality",
        "name": names,
        "context": unique([row.district, p.old, COUNTRY]),
        "lat": row.lat,
        "lon": row.lon,
        "importance": 0.8,
        "ward_code": row.ward_code,
        "labels": labels(names, chains, enabled=options.context_labels),
    }


def _located(row: Row[Any], p: Provinces) -> tuple[list[str], list[list[str | None]]]:
    """Context values and label chains of something inside a 2025 ward."""
    districts = unique([row.district, row.old_district])
    context = unique([row.old_commune, *districts, p.old, p.new, COUNTRY])
    chains: list[list[str | None]] = [[row.ward], [row.ward, p.new], [row.old_commune, *districts, p.old]]
    chains += [[district, p.old] for district in districts]
    return context, chains


def _in_ward(row: Row[Any], p: Provinces, options: AddokOptions, names: list[str]) -> Doc:
    """The keys of a document in its 2025 ward: names, ward (``city``), context, point, ward code, labels."""
    context, chains = _located(row, p)
    return {
        "name": names,
        "city": row.ward,
        "context": context,
        "lat": row.lat,
        "lon": row.lon,
        "ward_code": row.ward_code,
        "labels": labels(names, chains, enabled=options.context_labels),
    }


def village_document(row: Row[Any], p: Provinces, options: AddokOptions) -> Doc:
    """A village in its 2025 ward (``city``) with the former commune and district as context."""
    names = unique([row.name, without_type(row.name, [row.village_type])])
    return {
        "_id": f"village-{row.id}",
        "type": "village",
        "importance": 0.4,
        **_in_ward(row, p, options, names),
    }


def place_document(row: Row[Any], p: Provinces, options: AddokOptions) -> Doc:
    """A named place (aliases from name:en/name:vi) in its 2025 ward."""
    names = unique([row.name, row.name_en, row.name_vi])
    document = {"_id": f"place-{row.id}", "type": "poi", "street": row.street, "importance": 0.2}
    return document | _in_ward(row, p, options, names)


def street_documents(rows: Sequence[Row[Any]], p: Provinces, options: AddokOptions) -> list[Doc]:
    """One ``street`` per (addr:street, ward) at the mean of its places, with their house numbers."""
    groups: dict[tuple[str, str], list[Row[Any]]] = {}
    for row in rows:
        if row.street and row.street.strip():
            groups.setdefault((row.street.strip(), row.ward_code), []).append(row)
    docs = []
    for number, ((street, code), members) in enumerate(sorted(groups.items())):
        context, chains = _located(members[0], p)
        housenumbers = {
            m.house_number.strip(): {"lat": m.lat, "lon": m.lon} for m in members if m.house_number
        }
        docs.append(
            {
                "_id": f"street-{number}",
                "type": "street",
                "name": [street],
                "city": members[0].ward,
                "context": context,
                "housenumbers": housenumbers,
                "lat": sum(m.lat for m in members) / len(members),
                "lon": sum(m.lon for m in members) / len(members),
                "importance": 0.3,
                "ward_code": code,
                "labels": labels([street], chains, enabled=options.context_labels),
            }
        )
    return docs


def build_documents(conn: Connection, options: AddokOptions) -> list[Doc]:
    """Every Addok document: wards, former communes, villages, named places and streets."""
    p = Provinces(*province_names(conn))
    places = conn.execute(place_select()).all()
    docs = [ward_document(r, p, options) for r in conn.execute(ward_select())]
    docs += [old_commune_document(r, p, options) for r in conn.execute(old_commune_select())]
    docs += [village_document(r, p, options) for r in conn.execute(village_select())]
    docs += [place_document(r, p, options) for r in places if r.name and r.name.strip()]
    docs += street_documents(places, p, options)
    return docs


# ---------------------------------------------------------------- Addok configuration


def compose_unicode(pipe: Iterable[str]) -> Iterator[str]:
    """Addok string processor: NFC, so NFD input keeps each word whole for the tokenizer."""
    for text in pipe:
        yield unicodedata.normalize("NFC", text)


def labels_from_document(helper: Any, result: Any) -> None:
    """Addok result processor: score against the document's precomputed ``labels``."""
    del helper
    if not result.labels:
        result.labels = [str(label) for label in result._rawattr("labels") if label]


def config_text(port: int, folder: Path, options: AddokOptions) -> str:
    """The Python source of the Addok config module (plain values only)."""
    fields = [
        {"key": "name", "boost": 4, "null": False},
        {"key": "street", "boost": 2},
        {"key": "city", "boost": 2},
        {"key": "housenumbers"},
        {"key": "context"},
    ]
    settings: dict[str, object] = {
        "REDIS": {"host": "127.0.0.1", "port": port, "indexes": {"db": 0}, "documents": {"db": 1}},
        "FIELDS": fields,
        "FILTERS": ["type"],
        "COMMON_THRESHOLD": options.common_threshold,
        "GEOHASH_PRECISION": options.geohash_precision,
        "SYNONYMS_PATHS": [str(folder / "synonyms.txt")] if options.text_pipeline else [],
        "BATCH_WORKERS": 1,
        "LOG_DIR": str(folder),
        "ATTRIBUTION": "diachiso: GSO, Who's On First, GeoNames, © OpenStreetMap contributors",
        "LICENCE": "ODbL / CC-BY (see data/hoabinh/SOURCES.md)",
    }
    lines = ['"""Addok settings generated by benchmarks/addok_harness.py."""', ""]
    lines += [f"{key} = {value!r}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def write_config(folder: Path, port: int, options: AddokOptions) -> Path:
    """Write the synonyms file and the config module into ``folder``; return the module's path."""
    (folder / "synonyms.txt").write_text("\n".join(SYNONYMS) + "\n", encoding="utf-8")
    path = folder / "addok_settings.py"
    path.write_text(config_text(port, folder, options), encoding="utf-8")
    return path


def configure(config_path: Path, *, text_pipeline: bool = True) -> None:
    """Load Addok's (process-global) configuration from a module, with our processors as objects."""
    config = addok_config
    if config.loaded:
        raise RuntimeError("Addok's configuration is process-global and already loaded")
    os.environ["ADDOK_CONFIG_MODULE"] = str(config_path)
    if text_pipeline:
        _use_our_processors(config)
    with contextlib.redirect_stdout(io.StringIO()):
        config.load()


def _use_our_processors(config: Any) -> None:
    """NFC before tokenizing, and scoring against the documents' labels (function objects)."""
    config["PROCESSORS_PYPATHS"] = [
        compose_unicode,
        "addok.helpers.text.tokenize",
        "addok.helpers.text.normalize",
        "addok.helpers.text.flag_housenumber",
        "addok.helpers.text.synonymize",
    ]
    for key in ("SEARCH_RESULT_PROCESSORS_PYPATHS", "REVERSE_RESULT_PROCESSORS_PYPATHS"):
        config[key] = [
            labels_from_document if path == "addok.helpers.results.make_labels" else path
            for path in config[key]
        ]


def load_documents(docs: Sequence[Doc], chunk: int = 500) -> int:
    """Index documents in-process through Addok's batch pipeline; return how many."""
    for start in range(0, len(docs), chunk):
        process_documents(*(json.dumps(doc, ensure_ascii=False) for doc in docs[start : start + chunk]))
    return len(docs)


# ---------------------------------------------------------------- engines


@dataclass(frozen=True)
class AddokEngine:
    """Addok's in-process Python API: forward to a point, reverse to a 2025 ward code."""

    options: AddokOptions
    documents: int
    config_path: Path

    def forward(self, text: str) -> Point | None:
        """The first result's point, or None."""
        try:
            results = addok_search(
                text, limit=1, autocomplete=self.options.autocomplete, fuzzy=self.options.fuzzy
            )
        except EntityTooLarge:
            return None
        return (float(results[0].lon), float(results[0].lat)) if results else None

    def reverse(self, lon: float, lat: float) -> str | None:
        """The 2025 ward code of the nearest document, or None when none is near."""
        results = addok_reverse(lat=lat, lon=lon, limit=1)
        return str(results[0].ward_code) if results else None


@contextlib.contextmanager
def addok_engine(conn: Connection, options: AddokOptions, folder: Path) -> Iterator[AddokEngine]:
    """Start Redis in ``folder``, configure Addok, load the documents; stop Redis afterwards."""
    docs = build_documents(conn, options)
    with redis_server(folder) as port:
        config_path = write_config(folder, port, options)
        configure(config_path, text_pipeline=options.text_pipeline)
        yield AddokEngine(options, load_documents(docs), config_path)


@dataclass(frozen=True)
class HttpAddok:
    """Addok over HTTP (its WSGI app on a stdlib server in a child process)."""

    base: str
    autocomplete: bool

    def _get(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """GET a JSON endpoint and return its features."""
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return list(json.load(response)["features"])

    def forward(self, text: str) -> Point | None:
        """The first result's point, or None."""
        auto = "1" if self.autocomplete else "0"
        features = self._get("/search", {"q": text, "limit": "1", "autocomplete": auto})
        if not features:
            return None
        lon, lat = features[0]["geometry"]["coordinates"]
        return float(lon), float(lat)

    def reverse(self, lon: float, lat: float) -> str | None:
        """The 2025 ward code of the nearest document, or None."""
        features = self._get("/reverse", {"lon": str(lon), "lat": str(lat)})
        return str(features[0]["properties"]["ward_code"]) if features else None


def _wait_for_http(base: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Return once the server answers /health; raise if it died or the timeout passed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Addok HTTP server exited with code {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/health", timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the Addok HTTP server did not answer at {base} within {timeout_s} s")


@contextlib.contextmanager
def addok_http(engine: AddokEngine) -> Iterator[HttpAddok]:
    """Serve the loaded Addok over HTTP on a free loopback port; stop the server afterwards."""
    port = free_port()
    pipeline = "ours" if engine.options.text_pipeline else "addok"
    args = [
        sys.executable,
        "-m",
        "benchmarks.addok_harness",
        "serve",
        str(engine.config_path),
        str(port),
        pipeline,
    ]
    process = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_http(base, process, timeout_s=30)
        yield HttpAddok(base, engine.options.autocomplete)
    finally:
        stop_process(process)


def serve(config_path: Path, port: int, *, text_pipeline: bool) -> None:
    """Serve Addok's WSGI app on 127.0.0.1 (single-threaded stdlib server) until terminated."""
    configure(config_path, text_pipeline=text_pipeline)
    application = importlib.import_module("addok.http.wsgi").application  # loads the config on import

    class Quiet(WSGIRequestHandler):
        """No access log."""

        def log_message(self, format: str, *args: Any) -> None:
            """Drop the line."""

    with make_server("127.0.0.1", port, application, handler_class=Quiet) as server:
        server.serve_forever()


def main(argv: Sequence[str]) -> None:
    """``serve CONFIG PORT [ours|addok]``: run the HTTP server (used by ``addok_http``)."""
    if len(argv) not in (3, 4) or argv[0] != "serve" or argv[3:] not in ([], ["ours"], ["addok"]):
        raise SystemExit("usage: python -m benchmarks.addok_harness serve CONFIG PORT [ours|addok]")
    serve(Path(argv[1]), int(argv[2]), text_pipeline=argv[3:] != ["addok"])


if __name__ == "__main__":
    main(sys.argv[1:])
