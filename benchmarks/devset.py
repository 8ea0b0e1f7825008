"""The geocoding development set: load it, judge answers, time engines, print tables.

``data/hoabinh/geocoding_dev_queries.jsonl`` holds one query a line with its truth:
``ward_2025`` (the answer's point must fall inside one of those 2025 ward polygons)
and/or ``point`` + ``r_m`` (the answer must lie within ``r_m`` metres of it); reverse
queries hold ``lon``/``lat`` and the ward the engine must name (see SOURCES.md).

Reading of SOURCES.md used here: every criterion a truth holds is a "must", so a
forward answer is a hit when **all** present criteria hold (inside a truth ward
*and* within ``r_m``). The ward criterion alone is reported beside it ("in ward"):
SOURCES.md notes that some queries are genuinely ambiguous (one name, several places
in one ward), for which the ward criterion "still applies" even when the point
criterion cannot tell the places apart.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "hoabinh"
DEV_SET = DATA / "geocoding_dev_queries.jsonl"
REAL_SET = DATA / "geocoding_dev_real.jsonl"
GSO_UNITS = DATA / "admin_units_gso_20250301.json"
REORG_2020 = DATA / "reorg_2020.json"
SPLIT_SALT = "diachiso/geocoding_dev_real/split/2026-12-05"
TUNE = "tune"
HOLDOUT = "holdout"
WARDS_2025 = DATA / "wards_2025.geojson"
REVERSE = "reverse"
FORWARD_ALL = "forward (all)"
OVERALL = "overall"
GEOD = Geod(ellps="WGS84")

Point = tuple[float, float]
Answer = Point | str | None
Forward = Callable[[str], Answer]
Reverse = Callable[[float, float], str | None]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Truth:
    """What a right answer satisfies: 2025 ward codes and/or a point with a radius."""

    wards: tuple[str, ...] = ()
    point: Point | None = None
    r_m: float | None = None


@dataclass(frozen=True)
class DevQuery:
    """One development query: text (forward) or a point (reverse), with its truth."""

    id: str
    kind: str
    level: int
    truth: Truth
    text: str = ""
    point: Point | None = None

    @property
    def is_reverse(self) -> bool:
        """Whether the query is a point to name (reverse geocoding)."""
        return self.kind == REVERSE


def parse_query(row: Mapping[str, object]) -> DevQuery:
    """Build a DevQuery from one decoded JSON line."""
    truth = row["truth"]
    assert isinstance(truth, dict)
    point = truth.get("point")
    parsed = Truth(
        wards=tuple(truth.get("ward_2025", ())),
        point=(float(point[0]), float(point[1])) if point is not None else None,
        r_m=float(truth["r_m"]) if truth.get("r_m") is not None else None,
    )
    where = (float(str(row["lon"])), float(str(row["lat"]))) if row.get("lon") is not None else None
    return DevQuery(
        id=str(row["id"]),
        kind=str(row["kind"]),
        level=int(str(row.get("level", 0))),
        truth=parsed,
        text=str(row.get("query") or ""),
        point=where,
    )


def load_queries(path: Path = DEV_SET) -> list[DevQuery]:
    """Read the development set, one JSON object a line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [parse_query(json.loads(line)) for line in lines if line.strip()]


def half_of(entry_id: str) -> str:
    """The half of the real-text set an entry belongs to: ``tune`` or ``holdout``.

    Fixed before any query was read: the first byte of SHA-256 over a fixed salt and
    the entry's id, even -> tune, odd -> holdout. Depends on the id only, so the split
    never moves when entries are added or the text of one is corrected.

    >>> half_of("dreal-0001") in (TUNE, HOLDOUT)
    True
    >>> half_of("dreal-0001") == half_of("dreal-0001")
    True
    """
    digest = hashlib.sha256(f"{SPLIT_SALT}:{entry_id}".encode()).digest()
    return TUNE if digest[0] % 2 == 0 else HOLDOUT


# --- the real-text set: halves and forms ----------------------------------------------

FORM_ALL = "all"
FORM_VIETNAMESE = "vietnamese"
FORM_ASCII = "no diacritics"
FORM_ENGLISH = "english"
FORM_ABBREVIATION = "abbreviation"
FORM_OLD_UNIT = "old unit"
FORM_KM_POST = "km post"
FORM_PARENTHESES = "parentheses"
FORM_DISTRICT = "district only"
FORMS = (
    FORM_ALL,
    FORM_VIETNAMESE,
    FORM_ASCII,
    FORM_ENGLISH,
    FORM_ABBREVIATION,
    FORM_OLD_UNIT,
    FORM_KM_POST,
    FORM_PARENTHESES,
    FORM_DISTRICT,
)
"""The forms a real-text entry is counted under (one entry may have several)."""

_ENGLISH_RE = re.compile(
    r"\b(?:commune|communes|district|districts|ward|wards|village|villages|hamlet|hamlets|province|city|"
    r"town|township|street|road|highway|zone|quarter|residential group)\b|\w's\b",
    re.IGNORECASE,
)
_ABBREVIATION_RE = re.compile(
    r"(?<!\w)(?:TT|TP|Tp|tp|TX|TPHB|UBND|TK|KDC|TDP|KP|QL|ĐT|DT|TL|HL)(?=[\s.,;:()\-]|\d|$)"
    r"|(?<!\w)[HXPTQhxptq]\.(?=\s*\w)",
)
_KM_RE = re.compile(r"(?<!\w)km\s*\d", re.IGNORECASE)
_WORD_RE = re.compile(r"[^\W_]+")


def _folded_words(text: str) -> str:
    """Lower-case ASCII words of a text, space-joined with a space on each side (for whole-word tests).

    >>> _folded_words("Xã Đồng Bảng, (Mai Châu)")
    ' xa dong bang mai chau '
    """
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return " " + " ".join(_WORD_RE.findall(ascii_text)) + " "


_UNIT_PREFIXES = ("thi tran ", "thi xa ", "thanh pho ", "xa ", "phuong ", "huyen ")


def _bare_name(name: str) -> str:
    """A unit's folded name without its unit word ("Xã Hạ Bì" -> "ha bi")."""
    folded = _folded_words(name).strip()
    for prefix in _UNIT_PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix) :]
    return folded


@cache
def old_unit_names() -> tuple[frozenset[str], frozenset[str]]:
    """Folded names of the communes abolished or renamed 2008-2024, and of the dissolved districts.

    Only names no unit of the 2025-03-01 GSO list still bears (so "Kỳ Sơn" the ward is
    not an old name; "huyện Kỳ Sơn" the district is).
    """
    gso = json.loads(GSO_UNITS.read_text(encoding="utf-8"))
    current = {_bare_name(d["name"]) for d in gso["level2s"]}
    current |= {_bare_name(c["name"]) for d in gso["level2s"] for c in d["level3s"]}
    reorg = json.loads(REORG_2020.read_text(encoding="utf-8"))
    communes = {
        _bare_name(u["name"]) for u in reorg["units_abolished"] if u.get("kind") != "district_dissolved"
    }
    districts = {
        _bare_name(d["district"]) for d in reorg["districts_changed"] if d["change"] == "district_dissolved"
    }
    return frozenset(communes - current), frozenset(districts)


def _names_old_unit(text: str) -> bool:
    """Whether a text names a commune abolished before 2025, or a dissolved district with its unit word."""
    words = _folded_words(text)
    communes, districts = old_unit_names()
    if any(f" {name} " in words for name in communes):
        return True
    return any(f" huyen {name} " in words or f" {name} district " in words for name in districts)


def forms_of(text: str, truth_level: str = "commune") -> tuple[str, ...]:
    """The forms of one real-text entry (deterministic, from its text and truth level only).

    Language, exactly one: ``english`` when an English unit word (commune, district,
    ward, village, hamlet, province, city, town, street, road, ...) or a possessive
    "'s" occurs; else ``vietnamese`` when any letter carries a mark; else ``no
    diacritics``. Then any of: ``abbreviation`` (TT, TP, Tp, TX, TPHB, UBND, TK, KDC,
    TDP, KP, QL, ĐT, TL, HL as words, or a one-letter unit H./X./P./T./Q.), ``old unit``
    (a commune name abolished or renamed 2008-2024 that no unit of 2025-03-01 bears, or
    a dissolved district after its unit word), ``km post`` ("Km 12"), ``parentheses``,
    ``district only`` (the answer key is a district). Every entry is also ``all``.

    >>> forms_of("Ngoc Lau commune (Lac Son)")
    ('all', 'english', 'parentheses')
    >>> forms_of("TK Liên Phương, TT Đà Bắc")
    ('all', 'vietnamese', 'abbreviation')
    >>> forms_of("xom lac mai chau")
    ('all', 'no diacritics')
    """
    found = [FORM_ALL]
    if _ENGLISH_RE.search(text):
        found.append(FORM_ENGLISH)
    elif not text.isascii():
        found.append(FORM_VIETNAMESE)
    else:
        found.append(FORM_ASCII)
    checks = (
        (FORM_ABBREVIATION, _ABBREVIATION_RE.search(text) is not None),
        (FORM_OLD_UNIT, _names_old_unit(text)),
        (FORM_KM_POST, _KM_RE.search(text) is not None),
        (FORM_PARENTHESES, "(" in text),
        (FORM_DISTRICT, truth_level == "district"),
    )
    return (*found, *(form for form, holds in checks if holds))


@dataclass(frozen=True)
class RealEntry:
    """One entry of the real-text set: the query (kind "real"), its half and its forms."""

    query: DevQuery
    half: str
    forms: tuple[str, ...]


def load_real(path: Path = REAL_SET) -> list[RealEntry]:
    """Read the real-text set with each entry's half and forms."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            query = parse_query(row)
            forms = forms_of(query.text, str(row.get("truth_level", "commune")))
            entries.append(RealEntry(query, half_of(query.id), forms))
    return entries


def by_form(entries: Iterable[RealEntry], half: str) -> list[DevQuery]:
    """The queries of one half, once per form they have, with the form as their kind (for run_engine)."""
    chosen = [entry for entry in entries if entry.half == half]
    return [replace(e.query, kind=form) for form in FORMS for e in chosen if form in e.forms]


@dataclass(frozen=True)
class WardPolygons:
    """The 2025 ward polygons by GSO code, prepared for fast point-in-polygon tests."""

    codes: dict[str, int]
    geoms: NDArray[np.object_]

    @classmethod
    def load(cls, path: Path = WARDS_2025) -> WardPolygons:
        """Read the ward polygons (GeoJSON, WGS 84) and prepare them."""
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in features], dtype=object)
        shapely.prepare(geoms)
        return cls({str(f["properties"]["code"]): i for i, f in enumerate(features)}, geoms)

    def contains(self, codes: Sequence[str], lon: NDArray[np.float64], lat: NDArray[np.float64]) -> BoolArray:
        """Tell, pair by pair, whether ward ``codes[i]`` contains point ``(lon[i], lat[i])``."""
        index = np.array([self.codes.get(code, -1) for code in codes], dtype=np.int64)
        known = index >= 0
        inside = np.zeros(len(index), dtype=bool)
        inside[known] = shapely.contains_xy(self.geoms[index[known]], lon[known], lat[known])
        return inside


@cache
def default_wards() -> WardPolygons:
    """The bundled 2025 ward polygons, read once."""
    return WardPolygons.load()


@dataclass(frozen=True)
class Verdicts:
    """Per query: does the ward criterion hold, does the point criterion hold (True when absent)."""

    in_ward: BoolArray
    near: BoolArray

    @property
    def hit(self) -> BoolArray:
        """All criteria hold."""
        return self.in_ward & self.near


def answer_arrays(answers: Sequence[Answer]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Longitudes and latitudes of point answers (NaN for no answer or a ward code)."""
    points = [a if isinstance(a, tuple) else (np.nan, np.nan) for a in answers]
    coords = np.array(points, dtype=np.float64).reshape(-1, 2)
    return coords[:, 0], coords[:, 1]


def ward_criterion(queries: Sequence[DevQuery], answers: Sequence[Answer], wards: WardPolygons) -> BoolArray:
    """Whether each answer satisfies its truth's ward criterion (True when the truth has none)."""
    lon, lat = answer_arrays(answers)
    pairs = [(i, code) for i, q in enumerate(queries) for code in q.truth.wards]
    rows = np.array([i for i, _ in pairs], dtype=np.int64)
    inside = wards.contains([code for _, code in pairs], lon[rows], lat[rows])
    named = np.array(
        [isinstance(a, str) and a in q.truth.wards for q, a in zip(queries, answers, strict=True)], dtype=bool
    )
    inside |= named[rows]
    holds = np.array([not q.truth.wards for q in queries], dtype=bool)
    np.logical_or.at(holds, rows, inside)
    return holds


def point_criterion(queries: Sequence[DevQuery], answers: Sequence[Answer]) -> BoolArray:
    """Whether each answer lies within r_m metres (geodesic) of its truth point (True when none)."""
    lon, lat = answer_arrays(answers)
    truth = np.array([q.truth.point or (np.nan, np.nan) for q in queries], dtype=np.float64).reshape(-1, 2)
    radius = np.array([q.truth.r_m if q.truth.r_m is not None else np.inf for q in queries])
    has_point = ~np.isnan(truth[:, 0])
    near = ~has_point
    check = has_point & ~np.isnan(lon)
    if check.any():
        _, _, metres = GEOD.inv(lon[check], lat[check], truth[check, 0], truth[check, 1])
        near[check] = np.asarray(metres) <= radius[check]
    return near


def judge(
    queries: Sequence[DevQuery], answers: Sequence[Answer], wards: WardPolygons | None = None
) -> Verdicts:
    """Judge many answers at once (vectorized): a point for forward queries, a ward code for reverse."""
    if len(queries) != len(answers):
        raise ValueError(f"{len(queries)} queries but {len(answers)} answers")
    wards = wards or default_wards()
    return Verdicts(ward_criterion(queries, answers, wards), point_criterion(queries, answers))


def evaluate(query: DevQuery, answer: Answer, wards: WardPolygons | None = None) -> bool:
    """Tell whether one answer (point, or ward code for reverse; None = no answer) is right."""
    if answer is None:
        return False
    return bool(judge([query], [answer], wards).hit[0])


@dataclass(frozen=True)
class KindResult:
    """One engine on one kind of query: accuracy, latency and throughput."""

    engine: str
    kind: str
    latencies_ns: NDArray[np.int64]
    wall_s: float
    hits: int
    in_ward: int
    answered: int

    @property
    def n(self) -> int:
        """Number of queries."""
        return len(self.latencies_ns)

    @property
    def hit_rate(self) -> float:
        """Share of queries whose answer meets every criterion."""
        return self.hits / self.n if self.n else float("nan")

    @property
    def ward_rate(self) -> float:
        """Share of queries whose answer meets the ward criterion."""
        return self.in_ward / self.n if self.n else float("nan")

    def percentile_ms(self, q: float) -> float:
        """Latency percentile in milliseconds."""
        return float(np.percentile(self.latencies_ns, q)) / 1e6 if self.n else float("nan")

    @property
    def per_second(self) -> float:
        """Sequential throughput: queries per second of wall time."""
        return self.n / self.wall_s if self.wall_s > 0 else float("nan")


@dataclass
class _Run:
    """Answers and timings collected for one kind."""

    answers: list[Answer] = field(default_factory=list)
    latencies: list[int] = field(default_factory=list)


def _timed_calls(
    queries: Sequence[DevQuery], forward: Forward, reverse: Reverse | None
) -> tuple[_Run, float]:
    """Call the engine once per query, timing each call; return answers and the wall time."""
    run = _Run()
    clock = time.perf_counter_ns
    start = clock()
    for query in queries:
        before = clock()
        if query.point is not None and query.is_reverse and reverse is not None:
            answer: Answer = reverse(*query.point)
        else:
            answer = forward(query.text)
        run.latencies.append(clock() - before)
        run.answers.append(answer)
    return run, (clock() - start) / 1e9


def kinds_of(items: Iterable[DevQuery | KindResult]) -> list[str]:
    """Query kinds in order of first appearance."""
    return list(dict.fromkeys(item.kind for item in items))


@dataclass(frozen=True)
class Engine:
    """A named pair of geocoding functions (reverse may be missing)."""

    name: str
    forward: Forward
    reverse: Reverse | None


def run_engine(
    engine: Engine, queries: Sequence[DevQuery], *, wards: WardPolygons | None = None, repeat: int = 1
) -> list[KindResult]:
    """Run every query through one engine, kind by kind: hit rate, latency and throughput.

    With ``repeat`` > 1 each kind runs that many times in a row (best of N, against noise
    from other processes): each query's latency is its fastest call, the throughput that of
    the fastest pass; answers come from the first pass. Without ``reverse`` the reverse
    queries are left out.
    """
    name, forward, reverse = engine.name, engine.forward, engine.reverse
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, not {repeat}")
    results = []
    for kind in kinds_of(queries):
        chosen = [q for q in queries if q.kind == kind]
        if reverse is None and kind == REVERSE:
            continue
        passes = [_timed_calls(chosen, forward, reverse) for _ in range(repeat)]
        answers = passes[0][0].answers
        verdicts = judge(chosen, answers, wards)
        results.append(
            KindResult(
                engine=name,
                kind=kind,
                latencies_ns=np.array([run.latencies for run, _ in passes], dtype=np.int64).min(axis=0),
                wall_s=min(wall for _, wall in passes),
                hits=int(verdicts.hit.sum()),
                in_ward=int(verdicts.in_ward.sum()),
                answered=sum(a is not None for a in answers),
            )
        )
    return results


def combine(results: Sequence[KindResult], kind: str) -> KindResult:
    """Merge several kinds of one engine into one row (e.g. all forward kinds)."""
    return KindResult(
        engine=results[0].engine if results else "",
        kind=kind,
        latencies_ns=np.concatenate([r.latencies_ns for r in results]) if results else np.array([], np.int64),
        wall_s=sum(r.wall_s for r in results),
        hits=sum(r.hits for r in results),
        in_ward=sum(r.in_ward for r in results),
        answered=sum(r.answered for r in results),
    )


def with_totals(results: Sequence[KindResult]) -> list[KindResult]:
    """The per-kind rows followed by "forward (all)" and "overall"."""
    forward = [r for r in results if r.kind != REVERSE]
    return [*results, combine(forward, FORWARD_ALL), combine(results, OVERALL)]


def _cells(row: KindResult | None) -> list[str]:
    """The table cells of one engine on one row."""
    if row is None:
        return ["-"] * 5
    return [
        f"{row.hit_rate:.1%}",
        f"{row.ward_rate:.1%}",
        f"{row.percentile_ms(50):.2f}",
        f"{row.percentile_ms(95):.2f}",
        f"{row.per_second:,.0f}",
    ]


def _ratios(first: KindResult | None, other: KindResult | None) -> list[str]:
    """Throughput and p50 ratios of the first engine against another."""
    if first is None or other is None or not first.n or first.n != other.n:
        return ["-", "-"]
    speed = first.per_second / other.per_second
    p50 = other.percentile_ms(50) / first.percentile_ms(50) if first.percentile_ms(50) > 0 else float("nan")
    return [f"{speed:.1f}x", f"{p50:.1f}x"]


def table(results_by_engine: Mapping[str, Sequence[KindResult]], *, totals: bool = True) -> str:
    """A markdown table, engines side by side, with the first engine's ratios to the others.

    Without ``totals`` no "forward (all)"/"overall" rows are added (rows that overlap, such
    as the forms of the real-text set, carry their own "all" row).
    """
    engines = list(results_by_engine)
    rows = {
        name: {r.kind: r for r in (with_totals(rs) if totals else rs)}
        for name, rs in results_by_engine.items()
    }
    kinds = kinds_of(r for rs in results_by_engine.values() for r in rs)
    if totals:
        kinds += [FORWARD_ALL, OVERALL]
    head = ["kind", "n"]
    for name in engines:
        head += [f"{name} hit", f"{name} in ward", f"{name} p50 ms", f"{name} p95 ms", f"{name} q/s"]
    for other in engines[1:]:
        head += [f"q/s {engines[0]}/{other}", f"p50 {other}/{engines[0]}"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for kind in kinds:
        first = rows[engines[0]].get(kind)
        sizes = sorted({str(by_kind[kind].n) for by_kind in rows.values() if kind in by_kind})
        cells = [kind, "/".join(sizes)]
        for name in engines:
            cells += _cells(rows[name].get(kind))
        for other in engines[1:]:
            cells += _ratios(first, rows[other].get(kind))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
