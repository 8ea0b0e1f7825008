"""Versioned edits of every dataset: create, update, retire, restore, approve and reject.

Each write runs inside the caller's transaction and belongs to a
:class:`addresses.feed.Changeset` (close it last: it numbers the events). A write on an
existing feature locks its row, checks the version the editor read
(``expected_version``; :class:`StaleVersionError` carries the current feature), checks
the principal's role and communes (where the feature is and where it goes), re-derives
what follows the position (commune; for addresses the location code and village: the
registry code never changes, docs/codes.md), writes one version up, keeps a
``feature_version`` row and records the old and new places for the tile caches.

What an editor creates starts ``proposed``; an approver of its commune approves it
(``active``) or rejects it (``retired``, with the changeset comment). Units (admins
only) have no status: retiring one ends its validity today, restoring reopens it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from uuid import uuid4

from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, Connection, Table, exists, func, insert, literal, select, update

from addresses import changes, edit_checks
from addresses.accounts import Principal
from addresses.codes import encode, normalise_registry_code, registry_code
from addresses.datasets import DatasetSpec, get_dataset
from addresses.errors import (
    ConflictError,
    DuplicateFeatureError,
    EditRefusedError,
    InvalidCodeError,
    InvalidSuccessorError,
    NotFoundError,
    OutOfTerritoryError,
    StaleVersionError,
)
from addresses.feed import Action, Changeset
from addresses.queries import current_commune_for_point
from addresses.registry import ChangeKind, next_serials, record_history
from addresses.schema import SRID, address, feature_version, village
from addresses.types import BBox

__all__ = [
    "DUPLICATE_METRES",
    "EDITABLE_DATASETS",
    "REVIEW_ACTIONS",
    "Feature",
    "FeatureEdit",
    "StatusAction",
    "StatusChange",
    "apply_write",
    "change_status",
    "create_feature",
    "feature_key",
    "read_feature",
    "update_feature",
]

EDITABLE_DATASETS: Final = ("addresses", "villages", "places", "units")
DUPLICATE_METRES: Final = 5.0
"""A new address this close to an active one with the same house number is a probable duplicate."""
VILLAGE_NEAR_DEG: Final = 0.005
"""How far (about 500 m) the village of a moved address is looked for when no polygon contains it."""

StatusAction = Literal["retire", "restore", "approve", "reject"]
REVIEW_ACTIONS: Final[tuple[StatusAction, ...]] = ("approve", "reject")
"""The actions of an approver of the feature's commune, on a proposed feature (changesets of kind review)."""
_HIDDEN: Final = ("geom", "label_point", "raw")
_SINGULAR: Final = {"addresses": "address", "villages": "village", "places": "place", "units": "unit"}
_SINGULAR_VI: Final = {"addresses": "địa chỉ", "villages": "thôn", "places": "địa điểm", "units": "đơn vị"}
_FROM: Final[dict[str, tuple[str, ...]]] = {
    "retire": ("proposed", "active"),
    "restore": ("retired",),
    "approve": ("proposed",),
    "reject": ("proposed",),
}


@dataclass(frozen=True, slots=True)
class Feature:
    """One feature as stored: its dataset, row id, public key, version, status and attributes."""

    dataset: str
    id: int
    key: str
    version: int
    status: str | None
    properties: dict[str, Any]
    geometry: dict[str, Any] | None
    bounds: BBox | None
    commune_id: int | None

    def to_geojson(self) -> dict[str, Any]:
        """The feature as a GeoJSON Feature (``id`` is its key; version and status in properties)."""
        properties = {**self.properties, "version": self.version, "status": self.status}
        return {"type": "Feature", "id": self.key, "geometry": self.geometry, "properties": properties}


@dataclass(frozen=True, slots=True)
class FeatureEdit:
    """What an update writes: the fields that change (null or "" clears one), a new geometry or None.

    ``geometry`` is a GeoJSON geometry in WGS 84; None keeps the feature where it is.
    """

    properties: Mapping[str, Any] = field(default_factory=dict)
    geometry: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A status action, and for a retired address the registry code of its successor."""

    action: StatusAction
    successor: str | None = None


# ------------------------------------------------------------------------------------- reading


def _key_condition(spec: DatasetSpec, key: str | int) -> ColumnElement[bool]:
    """The row of a public key: a registry code (typed any way) for addresses, an integer id else."""
    if spec.key_column == "registry_code":
        try:
            return spec.key == normalise_registry_code(str(key))
        except InvalidCodeError:
            raise NotFoundError(f"no address has the registry code {key!r}") from None
    text = str(key).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise NotFoundError(f"no {_SINGULAR[spec.name]} {key!r}: the key of {spec.name} is a number")
    return spec.id == int(text)


def _stored_row(table: Table) -> ColumnElement[Any]:
    """The whole row as JSONB, without geometries (feature_version.properties)."""
    row: ColumnElement[Any] = func.to_jsonb(table.table_valued())
    for name in ("geom", "label_point"):
        if name in table.c:
            row = row.op("-")(literal(name))
    return row


def _place(spec: DatasetSpec) -> ColumnElement[Any]:
    return changes.place_of(spec.table)


def _feature_query(spec: DatasetSpec) -> Any:
    place = _place(spec)
    return select(
        spec.id.label("feature_id"),
        _stored_row(spec.table).label("row"),
        func.ST_AsGeoJSON(spec.geometry, 7).label("geojson"),
        func.ST_XMin(place).label("west"),
        func.ST_YMin(place).label("south"),
        func.ST_XMax(place).label("east"),
        func.ST_YMax(place).label("north"),
    )


def _to_feature(spec: DatasetSpec, row: Any) -> Feature:
    stored = dict(row.row)
    properties = {name: value for name, value in stored.items() if name not in _HIDDEN}
    key = stored[spec.key_column]
    bounds = None if row.west is None else (row.west, row.south, row.east, row.north)
    return Feature(
        dataset=spec.name,
        id=int(row.feature_id),
        key=str(key),
        version=int(stored["version"]),
        status=stored.get("status"),
        properties=properties,
        geometry=None if row.geojson is None else json.loads(row.geojson),
        bounds=bounds,
        commune_id=stored.get("commune_id"),
    )


def read_feature(conn: Connection, dataset: str, key: str | int, *, lock: bool = False) -> Feature:
    """The feature of ``dataset`` with public ``key`` (locked FOR UPDATE with ``lock``); NotFoundError."""
    spec = get_dataset(dataset)
    query = _feature_query(spec).where(_key_condition(spec, key))
    if lock:
        query = query.with_for_update(of=spec.table)
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"no {_SINGULAR[spec.name]} {key}")
    return _to_feature(spec, row)


def feature_key(conn: Connection, dataset: str, feature_id: int) -> str:
    """The public key of a row id."""
    spec = get_dataset(dataset)
    value = conn.execute(select(spec.key).where(spec.id == feature_id)).scalar()
    return str(feature_id if value is None else value)


# ---------------------------------------------------------------------------------- derivation


def _geometry_sql(spec: DatasetSpec, geometry: BaseGeometry) -> ColumnElement[Any]:
    shape = func.ST_GeomFromText(geometry.wkt, SRID)
    return func.ST_Multi(shape) if spec.name == "units" else shape


def _commune_at(conn: Connection, geometry: BaseGeometry) -> int:
    """The current commune at a geometry (a point on its surface); EditRefusedError outside the province."""
    point = geometry.representative_point()
    found = conn.execute(
        select(current_commune_for_point(func.ST_SetSRID(func.ST_MakePoint(point.x, point.y), SRID)))
    ).scalar()
    if found is None:
        raise EditRefusedError(
            "geometry",
            f"({point.x:.6f}, {point.y:.6f}) is outside the province (no commune or ward there)",
            f"({point.x:.6f}, {point.y:.6f}) nằm ngoài tỉnh (không thuộc xã, phường nào)",
        )
    return int(found)


def _village_at(conn: Connection, point: BaseGeometry, commune_id: int) -> int | None:
    """The active village of the commune holding the point, else the nearest within VILLAGE_NEAR_DEG."""
    at = func.ST_SetSRID(func.ST_MakePoint(point.x, point.y), SRID)
    query = (
        select(village.c.id)
        .where(
            village.c.commune_id == commune_id,
            village.c.status == "active",
            func.ST_DWithin(village.c.geom, at, VILLAGE_NEAR_DEG),
        )
        .order_by(func.ST_Distance(village.c.geom, at))
        .limit(1)
    )
    found = conn.execute(query).scalar()
    return None if found is None else int(found)


def _location_code(point: BaseGeometry) -> str:
    try:
        return encode(point.x, point.y)
    except OutOfTerritoryError:
        raise EditRefusedError(
            "geometry", "is outside the grid of location codes", "nằm ngoài lưới mã vị trí"
        ) from None


def _derived(conn: Connection, spec: DatasetSpec, geometry: BaseGeometry) -> dict[str, Any]:
    """The columns that follow a geometry: itself, the commune, and per dataset codes or areas."""
    values: dict[str, Any] = {"geom": _geometry_sql(spec, geometry)}
    if spec.name == "units":
        multi = _geometry_sql(spec, geometry)
        values["label_point"] = func.ST_PointOnSurface(multi)
        values["area_km2"] = func.ST_Area(func.Geography(multi)) / 1e6
        values["geom_quality"] = "polygon"
        return values
    commune_id = _commune_at(conn, geometry)
    values["commune_id"] = commune_id
    if spec.name == "addresses":
        values["location_code"] = _location_code(geometry)
        values["village_id"] = _village_at(conn, geometry, commune_id)
    return values


# -------------------------------------------------------------------------------------- writing


def _write_role_check(principal: Principal, spec: DatasetSpec, action: str) -> None:
    edit_checks.check_role(principal, edit_checks.WRITE_ROLE[spec.name], action=f"{action} {spec.name}")


def _version_row(cs: Changeset, spec: DatasetSpec, feature_id: int, action: Action) -> Any:
    """INSERT the row as it now is into feature_version, returning the version kept."""
    row = select(
        literal(spec.name),
        spec.id,
        spec.table.c.version,
        literal(cs.ensure_open()),
        literal(action),
        _stored_row(spec.table),
        _place(spec),
    ).where(spec.id == feature_id)
    columns = ["dataset", "feature_id", "version", "changeset_id", "action", "properties", "geom"]
    return insert(feature_version).from_select(columns, row).returning(feature_version.c.version)


def _keep_version(cs: Changeset, spec: DatasetSpec, feature_id: int, action: Action) -> int:
    """Store the row as it now is in feature_version; queue its event; return its version."""
    version = int(cs.conn.execute(_version_row(cs, spec, feature_id, action)).scalar_one())
    cs.event(spec.name, feature_id, version, action)
    return version


def _has_versions(conn: Connection, spec: DatasetSpec, feature_id: int) -> bool:
    kept = feature_version.c
    query = select(exists().where(kept.dataset == spec.name, kept.feature_id == feature_id))
    return bool(conn.execute(query).scalar())


def _keep_baseline(cs: Changeset, spec: DatasetSpec, current: Feature) -> None:
    """Before the first edit of an imported feature, keep its state (action import, no event)."""
    if not _has_versions(cs.conn, spec, current.id):
        cs.conn.execute(_version_row(cs, spec, current.id, "import"))


def apply_write(
    cs: Changeset, spec: DatasetSpec, current: Feature, values: dict[str, Any], action: Action
) -> Feature:
    """Write new values to a locked feature one version up; keep the version, mark the tiles."""
    _keep_baseline(cs, spec, current)
    if spec.name == "addresses":
        change: ChangeKind = "retire" if action in ("retire", "reject") else "update"
        record_history(
            cs.conn,
            where=address.c.id == current.id,
            change=change,
            changed_by=cs.principal.username,
            reason=cs.comment,
        )
    cs.touched(current.bounds)
    changes.record_rows(cs.conn, table=spec.table, where=spec.id == current.id)
    cs.conn.execute(
        update(spec.table)
        .where(spec.id == current.id)
        .values(**values, version=spec.table.c.version + 1, updated_at=func.now())
    )
    if "geom" in values:
        changes.record_rows(cs.conn, table=spec.table, where=spec.id == current.id)
    _keep_version(cs, spec, current.id, action)
    written = read_feature(cs.conn, spec.name, current.key)
    cs.touched(written.bounds)
    return written


def _locked(cs: Changeset, spec: DatasetSpec, key: str | int, expected_version: int) -> Feature:
    """Lock the feature, check the principal works where it is, then the version the editor read.

    A stale version raises StaleVersionError carrying the current feature (only to those
    who may edit it: the commune is checked first).
    """
    current = read_feature(cs.conn, spec.name, key, lock=True)
    where = (f"{_SINGULAR[spec.name]} {current.key}", f"{_SINGULAR_VI[spec.name]} {current.key}")
    _check_where(cs.principal, spec, current.commune_id, where)
    if current.version != expected_version:
        raise StaleVersionError(
            current.key,
            expected=expected_version,
            current=current.version,
            what=_SINGULAR[spec.name],
            state=current.to_geojson(),
        )
    return current


def _check_where(
    principal: Principal, spec: DatasetSpec, commune_id: int | None, where: tuple[str, str]
) -> None:
    """Raise EditForbiddenError unless the principal works in the commune (units: role only)."""
    if spec.name != "units":
        edit_checks.check_commune(principal, commune_id, where=where[0], where_vi=where[1])


def update_feature(
    cs: Changeset,
    dataset: str,
    key: str | int,
    *,
    expected_version: int,
    edit: FeatureEdit,
) -> Feature:
    """Change attributes and/or the geometry of a feature at ``expected_version``.

    Fields not sent stay; null or "" clears a field. A change to nothing keeps the
    version and writes nothing. A retired feature is restored first (409 otherwise).
    """
    spec = get_dataset(dataset)
    _write_role_check(cs.principal, spec, "update")
    values = edit_checks.check_fields(spec, edit.properties)
    current = _locked(cs, spec, key, expected_version)
    if current.status == "retired":
        raise ConflictError(f"{_SINGULAR[spec.name]} {current.key} is retired: restore it before editing it")
    values = {name: value for name, value in values.items() if current.properties.get(name) != value}
    if edit.geometry is not None and edit.geometry != current.geometry:
        shape = edit_checks.parse_geometry(spec, edit.geometry)
        values.update(_derived(cs.conn, spec, shape))
        _check_where(cs.principal, spec, values.get("commune_id"), ("the new position", "vị trí mới"))
    if spec.name in edit_checks.REQUIRED_ON_EDIT:
        edit_checks.check_required(spec, {**current.properties, **values}, spec.required_fields)
    if not values:
        return current
    return apply_write(cs, spec, current, values, "update")


def _new_status(principal: Principal, properties: Mapping[str, Any]) -> str:
    """Editors' creations are proposed; approvers and admins may create active (the default) ones."""
    if not principal.at_least("approver"):
        return "proposed"
    asked = properties.get("status", "active")
    if asked not in ("proposed", "active"):
        raise EditRefusedError(
            "status",
            f"a new feature is proposed or active, not {asked!r}",
            f"đối tượng mới chỉ có thể là proposed hoặc active, không phải {asked!r}",
        )
    return str(asked)


def _check_duplicate(conn: Connection, geometry: BaseGeometry, house_number: str | None) -> None:
    """Raise DuplicateFeatureError for an active address with that house number within DUPLICATE_METRES."""
    if house_number is None:
        return
    at = func.ST_SetSRID(func.ST_MakePoint(geometry.x, geometry.y), SRID)
    query = select(address.c.registry_code).where(
        address.c.status == "active",
        func.lower(address.c.house_number) == house_number.lower(),
        func.ST_DWithin(func.Geography(address.c.geom), func.Geography(at), DUPLICATE_METRES),
    )
    found = conn.execute(query.limit(1)).scalar()
    if found is not None:
        raise DuplicateFeatureError(
            f"address {found} with house number {house_number!r} is within {DUPLICATE_METRES:g} m: "
            "probably the same house; send confirm_duplicate: true to register it anyway",
            f"địa chỉ {found} có cùng số nhà {house_number!r} cách chưa đến {DUPLICATE_METRES:g} m: "
            "có thể trùng; gửi confirm_duplicate: true nếu vẫn muốn đăng ký",
            duplicate=str(found),
        )


def _identity(conn: Connection, spec: DatasetSpec) -> dict[str, Any]:
    """The source, source id (and registry code for an address) of a feature created by an edit."""
    if spec.name == "addresses":
        code = registry_code(int(next_serials(conn, 1)[0]))
        return {"registry_code": code, "source": "edit", "source_id": code}
    return {"source": "edit", "source_id": uuid4().hex}


def create_feature(
    cs: Changeset,
    dataset: str,
    *,
    properties: Mapping[str, Any],
    geometry: Mapping[str, Any] | None,
    confirm_duplicate: bool = False,
) -> Feature:
    """Create a feature at version 1: proposed when an editor creates it, else active (or as asked)."""
    spec = get_dataset(dataset)
    _write_role_check(cs.principal, spec, "create")
    if spec.name == "units":
        raise EditRefusedError(
            "dataset",
            "units are created by importing the official lists (diachiso import units)",
            "đơn vị hành chính được tạo bằng cách nhập danh mục chính thức",
        )
    values = edit_checks.check_fields(spec, properties)
    edit_checks.check_required(spec, values, edit_checks.REQUIRED_ON_CREATE[spec.name])
    shape = edit_checks.parse_geometry(spec, geometry)
    derived = _derived(cs.conn, spec, shape)
    _check_where(cs.principal, spec, derived.get("commune_id"), ("the position", "vị trí"))
    if spec.name == "addresses" and not confirm_duplicate:
        _check_duplicate(cs.conn, shape, values.get("house_number"))
    status = _new_status(cs.principal, properties)
    row = {**values, **derived, **_identity(cs.conn, spec), "status": status, "version": 1}
    new_id = int(cs.conn.execute(insert(spec.table).values(**row).returning(spec.id)).scalar_one())
    changes.record_rows(cs.conn, table=spec.table, where=spec.id == new_id)
    _keep_version(cs, spec, new_id, "create")
    created = read_feature(cs.conn, spec.name, str(row.get(spec.key_column, new_id)))
    cs.touched(created.bounds)
    return created


def _status_values(
    spec: DatasetSpec, current: Feature, action: StatusAction, principal: Principal
) -> dict[str, Any]:
    """The columns a status action writes, after checking the current status allows it."""
    if spec.name == "units":
        ended = current.properties.get("valid_to") is not None
        if (
            (action == "retire" and ended)
            or (action == "restore" and not ended)
            or action in ("approve", "reject")
        ):
            raise ConflictError(
                f"cannot {action} unit {current.key}: units have validity periods, not proposals"
            )
        return {"valid_to": func.current_date() if action == "retire" else None}
    if current.status not in _FROM[action]:
        raise ConflictError(
            f"cannot {action} {_SINGULAR[spec.name]} {current.key}: it is {current.status}"
            f" (only a {' or '.join(_FROM[action])} one can be)"
        )
    if action in ("retire", "reject"):
        extra = {"successor_id": None} if spec.name == "addresses" else {}
        return {"status": "retired", "retired_at": func.now(), **extra}
    if action == "restore":
        extra = {"successor_id": None} if spec.name == "addresses" else {}
        status = "active" if principal.at_least("approver") else "proposed"
        return {"status": status, "retired_at": None, **extra}
    return {"status": "active"}


def _successor_id(cs: Changeset, current: Feature, successor: str) -> int:
    """The id of the address a retired one leads to: another address, not retired (InvalidSuccessorError)."""
    target = read_feature(cs.conn, "addresses", successor, lock=True)
    if target.id == current.id:
        raise InvalidSuccessorError(current.key, target.key, reason="self")
    if target.status == "retired":
        raise InvalidSuccessorError(current.key, target.key, reason="retired")
    return target.id


def change_status(
    cs: Changeset,
    dataset: str,
    key: str | int,
    *,
    expected_version: int,
    change: StatusChange,
) -> Feature:
    """Retire, restore, approve or reject a feature at ``expected_version``.

    Approving and rejecting need an approver of the feature's commune; rejecting needs
    the changeset comment (why). An editor's restore makes the feature proposed again.
    A retired address may name its ``successor`` (its registry code then leads there).
    """
    spec = get_dataset(dataset)
    action, successor = change.action, change.successor
    if action in REVIEW_ACTIONS:
        edit_checks.check_role(cs.principal, "approver", action=f"{action} {spec.name}")
    _write_role_check(cs.principal, spec, action)
    if action == "reject" and not (cs.comment or "").strip():
        raise EditRefusedError("comment", "say why the proposal is rejected", "hãy ghi lý do từ chối đề xuất")
    current = _locked(cs, spec, key, expected_version)
    values = _status_values(spec, current, action, cs.principal)
    if successor is not None:
        if spec.name != "addresses" or action != "retire":
            raise EditRefusedError(
                "successor",
                "only a retired address names a successor",
                "chỉ địa chỉ bị hủy mới có địa chỉ kế tục",
            )
        values["successor_id"] = _successor_id(cs, current, successor)
    return apply_write(cs, spec, current, values, action)
