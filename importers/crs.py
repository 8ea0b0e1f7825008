"""Coordinate reference systems of imported files: resolve, check, transform to WGS 84.

Agencies hand us files in WGS 84 and in the national VN-2000 system (geographic
EPSG:4756, UTM EPSG:3405/3406, provincial TM-3 such as EPSG:9211 for Hoa Binh).
The VN-2000 -> WGS 84 datum shift (about 224 m around Hoa Binh city) must be
applied exactly once and with the official 7 parameters, EPSG:6960 "VN-2000 to
WGS 84 (2)" (coordinate frame Helmert). Left alone, PROJ picks an operation per
point (EPSG:5194 in the Mekong delta, a ballpark null shift offshore or for a
datum it does not recognise), so this module never lets it choose: every VN-2000
CRS is bound explicitly to EPSG:6960, and a file that names VN-2000 without
saying which parameters apply is refused with a message naming the fix.

>>> resolved = resolve_crs(None, override="EPSG:9211")
>>> resolved.source, resolved.is_vn2000, resolved.crs.is_bound
('override', True, True)
>>> lons, lats = wgs84_transformer(resolved).transform([431000.0], [2302800.0])
>>> print(f"{lons[0]:.6f} {lats[0]:.6f}")
105.338977 20.816674
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal, TypeGuard

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as ProjCrsError
from pyproj.transformer import TransformerGroup

from addresses.errors import DiachisoError

__all__ = [
    "VIETNAM_LONLAT_BOUNDS",
    "VN2000_TOWGS84",
    "CrsError",
    "CrsSource",
    "InvalidCrsError",
    "LocalVn2000Error",
    "MissingCrsError",
    "ResolvedCrs",
    "UnsupportedCrsError",
    "bind_official_vn2000",
    "parse_crs",
    "resolve_crs",
    "wgs84_transformer",
]

WGS84_CODE: Final = "EPSG:4326"
VN2000_TOWGS84: Final = (
    -191.90441429,
    -39.30318279,
    -111.45032835,
    0.00928836,
    -0.01975479,
    0.00427372,
    0.252906278,
)
"""EPSG:6960 as a WKT1 TOWGS84 / PROJ +towgs84 (position vector: rotations negated).

EPSG:6960 itself is coordinate frame: rx=-0.00928836", ry=+0.01975479",
rz=-0.00427372". Writing those signs into a TOWGS84 moves points by ~0.75 m.
"""
VIETNAM_LONLAT_BOUNDS: Final = (101.0, 4.5, 118.0, 24.5)
"""(west, south, east, north) in degrees: EPSG area 1252 (Vietnam) with the Spratly
Islands and a margin; data without a CRS are taken as WGS 84 lon/lat only inside."""

_WGS84_SEMI_MAJOR: Final = 6378137.0
_WGS84_INVERSE_FLATTENING: Final = 298.257223563
_VN2000_FLIPPED: Final = (
    *VN2000_TOWGS84[:3],
    *(-rotation for rotation in VN2000_TOWGS84[3:6]),
    VN2000_TOWGS84[6],
)
"""EPSG:6960's coordinate-frame values copied unchanged into a TOWGS84 (a common mistake)."""
_HELMERT_KEYS: Final = ("x", "y", "z", "rx", "ry", "rz", "s")
_HELMERT_TOLERANCE: Final = (0.01, 0.01, 0.01, 1e-5, 1e-5, 1e-5, 1e-4)
_VN2000_NAME: Final = re.compile(r"(vn|vietnam)2000")
_OFFICIAL_DESCRIPTION: Final = (
    "EPSG:6960 VN-2000 to WGS 84 (2), 7-parameter coordinate frame Helmert (Decision 05/2007/QĐ-BTNMT)"
)

CrsSource = Literal["file", "override", "assumed"]
"""Where the source CRS came from: the file, the ``--crs`` override, or assumed WGS 84."""


class CrsError(DiachisoError, ValueError):
    """A file's coordinate reference system cannot be used as it is."""


class InvalidCrsError(CrsError):
    """The CRS text (``--crs`` or a .prj) cannot be parsed or contradicts itself."""


class MissingCrsError(CrsError):
    """No CRS was declared and the coordinates are not plausibly WGS 84 lon/lat in Vietnam."""


class LocalVn2000Error(CrsError):
    """A VN-2000 CRS without the official 7 parameters (the "local" variant)."""


class UnsupportedCrsError(CrsError):
    """No explicit (non-ballpark) transformation to WGS 84 exists for this CRS."""


@dataclass(frozen=True, slots=True)
class ResolvedCrs:
    """The source CRS of an import, ready for the transformation to WGS 84.

    ``crs`` is the CRS actually used: a VN-2000 CRS is returned bound (BoundCRS)
    to its transformation to WGS 84, so nothing is left for PROJ to choose.
    ``transformation`` describes the datum shift for the import report.
    """

    crs: CRS
    source: CrsSource
    is_vn2000: bool
    transformation: str


def parse_crs(value: CRS | str) -> CRS:
    """Parse a CRS given as a pyproj CRS, an authority code, a PROJ string or (ESRI) WKT.

    >>> parse_crs("EPSG:9211").name
    'VN-2000 / TM-3 106-00'
    """
    if isinstance(value, CRS):
        return value
    try:
        return CRS.from_user_input(value.strip())
    except ProjCrsError as exc:
        raise InvalidCrsError(f"cannot read the CRS {_shorten(value)!r}: {exc}") from exc


def resolve_crs(
    file_crs: CRS | str | None,
    *,
    override: CRS | str | None = None,
    xs: ArrayLike | None = None,
    ys: ArrayLike | None = None,
    assume_official_vn2000: bool = False,
) -> ResolvedCrs:
    """Choose and check the source CRS: the override, else the file's, else assumed WGS 84.

    ``xs``/``ys`` (a sample of the coordinates) are only needed when neither CRS is
    given: WGS 84 is then assumed if they are lon/lat in or near Vietnam.
    ``assume_official_vn2000`` accepts a VN-2000 CRS lacking the official
    parameters by rebuilding it on EPSG:4756, bound to EPSG:6960.

    >>> resolve_crs("", xs=[105.338], ys=[20.817]).source
    'assumed'
    """
    crs, source = _pick_crs(file_crs, override, xs, ys)
    if _is_vn2000(crs):
        resolved = _resolve_vn2000(crs, source, assume_official_vn2000=assume_official_vn2000)
    else:
        resolved = ResolvedCrs(crs, source, is_vn2000=False, transformation=_describe_other(crs))
    wgs84_transformer(resolved)  # build, cache and check the shift count now
    return resolved


def bind_official_vn2000(crs: CRS | str) -> CRS:
    """Return a VN-2000 CRS as a BoundCRS carrying EPSG:6960 to WGS 84 (projection kept).

    >>> bound = bind_official_vn2000("EPSG:3405")
    >>> bound.is_bound, bound.source_crs.name
    (True, 'VN-2000 / UTM zone 48N')
    """
    base = _unbound(parse_crs(crs))
    if not _is_vn2000(base):
        raise InvalidCrsError(f"{base.name!r} is not a VN-2000 CRS (datum {_datum_name(base)!r})")
    return CRS.from_json_dict(
        {
            "type": "BoundCRS",
            "source_crs": base.to_json_dict(),
            "target_crs": CRS.from_user_input(WGS84_CODE).to_json_dict(),
            "transformation": json.loads(_official_operation_json()),
        }
    )


def wgs84_transformer(crs: ResolvedCrs | CRS | str) -> Transformer:
    """Return the cached, explicitly chosen transformer from ``crs`` to WGS 84 lon/lat.

    A CRS that is not yet resolved is resolved as a file CRS first (and refused
    if it is a local VN-2000 variant).

    >>> wgs84_transformer("EPSG:9211") is wgs84_transformer("EPSG:9211")
    True
    """
    resolved = crs if isinstance(crs, ResolvedCrs) else resolve_crs(crs)
    transformer = _cached_transformer(resolved.crs.to_json())
    _check_shift_count(resolved, transformer)
    return transformer


def array_to_wgs84(values: NDArray[np.object_], crs: ResolvedCrs) -> NDArray[np.object_]:
    """Geometries in ``crs`` transformed to EPSG:4326, Z dropped (VN-2000 heights are not ellipsoidal).

    Returned as they are when already in WGS 84 longitude/latitude without Z.
    """
    if is_wgs84_lonlat(crs.crs) and not shapely.has_z(values).any():
        return values  # nothing to transform
    transformer = wgs84_transformer(crs)

    def _to_lonlat(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        lons, lats = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([lons, lats])

    transformed: NDArray[np.object_] = shapely.transform(values, _to_lonlat)
    return transformed


# --- choosing the source CRS -------------------------------------------------------


def _pick_crs(
    file_crs: CRS | str | None,
    override: CRS | str | None,
    xs: ArrayLike | None,
    ys: ArrayLike | None,
) -> tuple[CRS, CrsSource]:
    """Return the override, else the file CRS, else WGS 84 if the coordinates allow it."""
    if _given(override):
        return parse_crs(override), "override"
    if _given(file_crs):
        return parse_crs(file_crs), "file"
    _require_plausible_lonlat(xs, ys)
    return CRS.from_user_input(WGS84_CODE), "assumed"


def _given(value: CRS | str | None) -> TypeGuard[CRS | str]:
    """Tell whether a CRS was really given (an empty .prj text counts as none)."""
    return isinstance(value, CRS) or (isinstance(value, str) and value.strip() != "")


def _require_plausible_lonlat(xs: ArrayLike | None, ys: ArrayLike | None) -> None:
    """Raise MissingCrsError unless every finite coordinate is lon/lat near Vietnam."""
    x = np.asarray([] if xs is None else xs, dtype=np.float64).ravel()
    y = np.asarray([] if ys is None else ys, dtype=np.float64).ravel()
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    if x.size == 0:
        raise MissingCrsError(
            "no CRS declared and no coordinates to judge: pass --crs (e.g. EPSG:4326 or EPSG:9211)"
        )
    west, south, east, north = VIETNAM_LONLAT_BOUNDS
    if np.all((x >= west) & (x <= east) & (y >= south) & (y <= north)):
        return
    raise MissingCrsError(
        f"no CRS declared and the coordinates (x {x.min():.6g}..{x.max():.6g}, "
        f"y {y.min():.6g}..{y.max():.6g}) are not WGS 84 lon/lat in Vietnam{_metric_hint(x, y)}"
        ": pass --crs with the right code"
    )


def _metric_hint(x: NDArray[np.float64], y: NDArray[np.float64]) -> str:
    """Hint at VN-2000 metres when the coordinates look like TM-3/UTM eastings/northings."""
    if np.all((x > 100_000) & (x < 900_000) & (y > 900_000) & (y < 2_700_000)):
        return "; they look like VN-2000 metres (TM-3 or UTM, e.g. EPSG:9211 for Hoa Binh)"
    return ""


# --- VN-2000 -------------------------------------------------------------------------


def _resolve_vn2000(crs: CRS, source: CrsSource, *, assume_official_vn2000: bool) -> ResolvedCrs:
    """Bind a VN-2000 CRS to EPSG:6960, or refuse it when its parameters are unknown."""
    _require_vn2000_ellipsoid(crs)
    problem = _vn2000_problem(crs)
    if problem is None and crs.is_bound:
        return ResolvedCrs(crs, source, is_vn2000=True, transformation=_describe_bound(crs))
    if problem is None:
        bound = bind_official_vn2000(crs)
        return ResolvedCrs(bound, source, is_vn2000=True, transformation=_OFFICIAL_DESCRIPTION)
    if not assume_official_vn2000:
        raise LocalVn2000Error(_local_vn2000_message(crs, problem))
    bound = bind_official_vn2000(_on_vn2000_datum(_unbound(crs)))
    note = f"; assumed by assume_official_vn2000 (the file's CRS had {problem})"
    return ResolvedCrs(bound, source, is_vn2000=True, transformation=_OFFICIAL_DESCRIPTION + note)


def _is_vn2000(crs: CRS) -> bool:
    """Tell whether a CRS is VN-2000: by its datum, or by the VN-2000 TOWGS84 it carries."""
    return _names_vn2000(_unbound(crs)) or _carries_vn2000_towgs84(crs)


def _names_vn2000(crs: CRS) -> bool:
    """Tell whether a (non-bound) CRS lies on a datum identified or named as VN-2000."""
    datum = crs.datum
    if datum is None:
        return False
    ident = datum.to_json_dict().get("id", {})
    if ident.get("authority") == "EPSG" and ident.get("code") == 6756:
        return True
    names = (datum.name, crs.geodetic_crs.name if crs.geodetic_crs else "")
    return any(_VN2000_NAME.search(re.sub(r"[^a-z0-9]", "", n.lower())) for n in names)


def _carries_vn2000_towgs84(crs: CRS) -> bool:
    """Tell whether a BoundCRS carries the VN-2000 parameters (with either rotation sign)."""
    if not crs.is_bound:
        return False
    steps = _helmert_steps(_cached_transformer(crs.to_json()).definition)
    return len(steps) == 1 and any(
        _helmert_matches(steps[0], params) for params in (VN2000_TOWGS84, _VN2000_FLIPPED)
    )


def _require_vn2000_ellipsoid(crs: CRS) -> None:
    """Refuse a 'VN-2000' CRS that is not on the WGS 84 ellipsoid (VN-2000 is)."""
    ellipsoid = _unbound(crs).ellipsoid
    if ellipsoid is None:
        return
    if math.isclose(ellipsoid.semi_major_metre, _WGS84_SEMI_MAJOR) and math.isclose(
        ellipsoid.inverse_flattening, _WGS84_INVERSE_FLATTENING, rel_tol=1e-9
    ):
        return
    raise InvalidCrsError(
        f"{crs.name!r} names a VN-2000 datum ({_datum_name(crs)!r}) but uses the ellipsoid "
        f"{ellipsoid.name!r}; VN-2000 is on the WGS 84 ellipsoid: check the file's .prj"
    )


def _vn2000_problem(crs: CRS) -> str | None:
    """Say why a VN-2000 CRS does not carry the official transformation, or None."""
    if crs.is_bound:
        return _towgs84_problem(crs)
    if not _declares_epsg(crs):
        return "no TOWGS84 and no EPSG code"
    if not _proj_finds_official(crs.to_json()):
        return "an EPSG code but a datum PROJ does not recognise (it would use a ballpark shift)"
    return None


def _towgs84_problem(bound: CRS) -> str | None:
    """Say what is wrong with the TOWGS84 of a bound VN-2000 CRS, or None if usable."""
    steps = _helmert_steps(_cached_transformer(bound.to_json()).definition)
    if not steps:
        return "a zero TOWGS84 (no datum shift at all, ~224 m off near Hoa Binh)"
    if len(steps) == 1 and _helmert_matches(steps[0], _VN2000_FLIPPED):
        return (
            "a TOWGS84 with EPSG:6960's coordinate-frame rotation signs, but TOWGS84 is "
            "position vector (~0.75 m off)"
        )
    return None


def _declares_epsg(crs: CRS) -> bool:
    """Tell whether the CRS itself or its geodetic CRS carries an EPSG identifier."""
    candidates = [crs, crs.geodetic_crs] if crs.geodetic_crs is not None else [crs]
    for candidate in candidates:
        document = candidate.to_json_dict()
        ids = [document["id"]] if "id" in document else document.get("ids", [])
        if any(ident.get("authority") == "EPSG" for ident in ids):
            return True
    return False


@lru_cache(maxsize=64)
def _proj_finds_official(crs_json: str) -> bool:
    """Tell whether PROJ, on its own, lists EPSG:6960 among the operations to WGS 84."""
    group = TransformerGroup(CRS.from_json(crs_json), WGS84_CODE, always_xy=True, allow_ballpark=False)
    return any(_is_official(t.definition) for t in group.transformers)


def _on_vn2000_datum(crs: CRS) -> CRS:
    """Rebuild a CRS on the EPSG:4756 geodetic CRS, keeping its projection and axes."""
    vn2000 = CRS.from_epsg(4756).to_json_dict()
    document = crs.to_json_dict()
    document.pop("id", None)
    if document["type"] == "ProjectedCRS":
        document["base_crs"] = vn2000
        return CRS.from_json_dict(document)
    if document["type"] in ("GeographicCRS", "GeodeticCRS"):
        document.pop("datum_ensemble", None)
        document["datum"] = vn2000["datum"]
        return CRS.from_json_dict(document)
    raise UnsupportedCrsError(f"cannot rebuild {crs.type_name} {crs.name!r} on VN-2000")


def _local_vn2000_message(crs: CRS, problem: str) -> str:
    """Explain a local VN-2000 CRS in one line: what was found and how to fix it."""
    suggestion = _suggest_epsg(crs)
    use = f"--crs {suggestion}" if suggestion else "--crs with the VN-2000 EPSG code (e.g. EPSG:9211)"
    return (
        f"VN-2000 CRS without the official transformation: {crs.name!r} "
        f"(datum {_datum_name(crs)!r}{_projection_summary(crs)}) has {problem}; "
        f"left to PROJ it would get: {_proj_default(crs)}. If the data are national VN-2000, "
        f"pass {use} or resolve with assume_official_vn2000=True to bind this CRS to "
        f"EPSG:6960 (Decision 05/2007/QĐ-BTNMT)"
    )


def _suggest_epsg(crs: CRS) -> str | None:
    """Name the EPSG VN-2000 CRS with the same projection, e.g. 'EPSG:9211 (VN-2000 / ...)'."""
    try:
        candidate = _on_vn2000_datum(_unbound(crs))
    except (UnsupportedCrsError, ProjCrsError):
        return None
    if candidate.is_geographic:
        return "EPSG:4756 (VN-2000)"
    for match in candidate.list_authority(auth_name="EPSG", min_confidence=70):
        return f"EPSG:{match.code} ({CRS.from_epsg(int(match.code)).name})"
    return None


def _projection_summary(crs: CRS) -> str:
    """Summarise the projection of a projected CRS, e.g. ', Transverse Mercator (...)'."""
    base = _unbound(crs)
    if not base.is_projected or base.coordinate_operation is None:
        return ""
    operation = base.coordinate_operation
    params = ", ".join(f"{p.name.lower()} {_number(p.value)}" for p in operation.params)
    return f", {operation.method_name} ({params})"


def _number(value: object) -> str:
    """Format a parameter value compactly (pyproj gives floats, typed as str)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _proj_default(crs: CRS) -> str:
    """Describe what PROJ alone would choose, ballpark included."""
    group = TransformerGroup(crs, WGS84_CODE, always_xy=True)
    if not group.transformers:
        return "no transformation"
    descriptions = [t.description for t in group.transformers]
    chosen = "; ".join(descriptions[:3])
    return chosen if len(descriptions) == 1 else f"one of [{chosen}] chosen point by point"


# --- building and checking transformers ------------------------------------------------


@lru_cache(maxsize=64)
def _cached_transformer(crs_json: str) -> Transformer:
    """Build the best non-ballpark transformer from a CRS (as PROJJSON) to WGS 84 lon/lat."""
    crs = CRS.from_json(crs_json)
    group = TransformerGroup(crs, WGS84_CODE, always_xy=True, allow_ballpark=False)
    candidates = [t for t in group.transformers if "ballpark" not in t.description.lower()]
    if not candidates:
        raise UnsupportedCrsError(
            f"no datum transformation from {crs.name!r} (datum {_datum_name(crs)!r}) to "
            "WGS 84 except a ballpark (null) shift: pass --crs with an EPSG code, or a CRS "
            "with TOWGS84 / +towgs84 parameters"
        )
    return candidates[0]


def _check_shift_count(resolved: ResolvedCrs, transformer: Transformer) -> None:
    """Assert the datum shift is applied exactly once (VN-2000) or not at all (WGS 84)."""
    steps = len(_helmert_steps(transformer.definition))
    if resolved.is_vn2000 and steps != 1:
        raise UnsupportedCrsError(
            f"expected one VN-2000 datum shift for {resolved.crs.name!r}, PROJ built {steps}"
        )
    if _is_wgs84(resolved.crs) and steps != 0:
        raise InvalidCrsError(
            f"{resolved.crs.name!r} declares WGS 84 but carries a datum shift (TOWGS84): "
            "pass --crs EPSG:4326 or the right code"
        )


def _helmert_steps(definition: str) -> list[dict[str, str]]:
    """Return the Helmert steps of a PROJ pipeline definition as key -> value maps."""
    steps = []
    for step in f" {definition}".split(" step "):
        tokens = dict(token.partition("=")[::2] for token in step.split())
        if tokens.get("proj") == "helmert":
            steps.append(tokens)
    return steps


def _helmert_matches(step: dict[str, str], towgs84: tuple[float, ...]) -> bool:
    """Compare a Helmert step with position-vector (TOWGS84) parameters."""
    if "inv" in step:
        return False
    values = [float(step.get(key, "0")) for key in _HELMERT_KEYS]
    if step.get("convention") == "coordinate_frame":
        values[3:6] = [-v for v in values[3:6]]
    return all(abs(v - ref) <= tol for v, ref, tol in zip(values, towgs84, _HELMERT_TOLERANCE, strict=True))


def _is_official(definition: str) -> bool:
    """Tell whether a pipeline applies exactly the EPSG:6960 shift, once."""
    steps = _helmert_steps(definition)
    return len(steps) == 1 and _helmert_matches(steps[0], VN2000_TOWGS84)


def _describe_bound(crs: CRS) -> str:
    """Describe the datum shift a bound CRS (TOWGS84 from the file) carries."""
    definition = _cached_transformer(crs.to_json()).definition
    if _is_official(definition):
        return f"{_OFFICIAL_DESCRIPTION}, as declared by the file's TOWGS84"
    step = _helmert_steps(definition)[0]
    params = " ".join(f"{key}={step[key]}" for key in _HELMERT_KEYS if key in step)
    return f"the file's own TOWGS84 ({params}), NOT the official EPSG:6960 parameters"


def _describe_other(crs: CRS) -> str:
    """Describe the (non-VN-2000) transformation to WGS 84."""
    transformer = _cached_transformer(crs.to_json())
    if _is_wgs84(crs):
        return "none: the source is already WGS 84"
    return f"{transformer.description} (chosen explicitly, no ballpark)"


@lru_cache(maxsize=1)
def _official_operation_json() -> str:
    """Return EPSG:6960 as an abridged PROJJSON transformation for a BoundCRS."""
    urn = "urn:ogc:def:coordinateOperation:EPSG::6960"
    document = Transformer.from_pipeline(urn).to_json_dict()
    for key in ("$schema", "source_crs", "target_crs"):
        document.pop(key, None)
    return json.dumps(document)


# --- small helpers -------------------------------------------------------------------


def _unbound(crs: CRS) -> CRS:
    """Return the source CRS of a BoundCRS, or the CRS itself."""
    if crs.is_bound and crs.source_crs is not None:
        return crs.source_crs
    return crs


def _is_wgs84(crs: CRS) -> bool:
    """Tell whether a CRS (or the source of a BoundCRS) lies on the WGS 84 datum."""
    datum = _unbound(crs).datum
    return datum is not None and datum.name.startswith("World Geodetic System 1984")


def is_wgs84_lonlat(crs: CRS) -> bool:
    """Tell whether a CRS is WGS 84 longitude/latitude itself (in either axis order).

    >>> is_wgs84_lonlat(CRS("OGC:CRS84")), is_wgs84_lonlat(CRS("EPSG:32648"))
    (True, False)
    """
    return bool(crs.equals(_wgs84(), ignore_axis_order=True))


@lru_cache(maxsize=1)
def _wgs84() -> CRS:
    """EPSG:4326, built once (building it takes milliseconds, and every chunk of an import asks)."""
    return CRS.from_epsg(4326)


def _datum_name(crs: CRS) -> str:
    """Return the datum name of a CRS (or of the source of a BoundCRS)."""
    datum = _unbound(crs).datum
    return datum.name if datum is not None else "none"


def _shorten(text: str, limit: int = 80) -> str:
    """Shorten a long CRS text (a whole WKT) for a one-line message."""
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
