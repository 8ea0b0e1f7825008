"""Reading the edit record: versions with diffs, changesets, reverts, the approval queue.

Every write keeps the feature as it was after it in ``feature_version``; the first edit
of an imported feature first keeps its imported state (action ``import``), so every
kept version after it has a predecessor to diff against and to revert to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, Select, Table, and_, func, select

from addresses.accounts import Principal
from addresses.datasets import get_dataset
from addresses.edit_checks import check_role
from addresses.editing import Feature, apply_write, feature_key, read_feature
from addresses.errors import NotFoundError, RevertConflictError
from addresses.feed import Action, Changeset, Event
from addresses.schema import SRID, changeset, feature_version

__all__ = [
    "ChangesetView",
    "ChangesetWrite",
    "Diff",
    "FieldChange",
    "VersionEntry",
    "changeset_view",
    "diff_properties",
    "event_keys",
    "feature_history",
    "proposals",
    "revert_changeset",
]

IGNORED_IN_DIFFS: Final = frozenset({"version", "updated_at", "created_at"})
PROPOSAL_DATASETS: Final = ("addresses", "villages", "places")
MAX_PROPOSALS: Final = 500


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field a version changed: its value before and after."""

    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class Diff:
    """What one version changed: its fields, and whether and how far (metres) the geometry moved."""

    fields: dict[str, FieldChange]
    geometry_moved: bool
    moved_m: float | None


@dataclass(frozen=True, slots=True)
class VersionEntry:
    """One kept version of a feature, with its changeset and what it changed.

    ``diff`` is null for the imported state kept before the first edit.
    """

    version: int
    action: str
    author: str
    time: datetime
    changeset_id: int
    comment: str | None
    diff: Diff | None


@dataclass(frozen=True, slots=True)
class ChangesetWrite:
    """One version a changeset wrote: the feature (dataset, public key), the version and the action."""

    dataset: str
    key: str
    version: int
    action: str


@dataclass(frozen=True, slots=True)
class ChangesetView:
    """One changeset: who (author), why (comment), kind, when, where (bbox) and the versions it wrote."""

    id: int
    author: str
    comment: str | None
    kind: str
    reverts_id: int | None
    time: datetime
    bbox: tuple[float, float, float, float] | None
    writes: tuple[ChangesetWrite, ...]


def diff_properties(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, FieldChange]:
    """The fields whose values differ between two stored rows (bookkeeping fields left out).

    >>> diff_properties({"street": "A", "version": 1}, {"street": "B", "version": 2})
    {'street': FieldChange(old='A', new='B')}
    >>> diff_properties(None, {"street": "B"})
    {'street': FieldChange(old=None, new='B')}
    """
    before = old or {}
    names = sorted((set(before) | set(new)) - IGNORED_IN_DIFFS)
    return {
        name: FieldChange(before.get(name), new.get(name))
        for name in names
        if before.get(name) != new.get(name)
    }


_KEPT: Final = feature_version.alias("kept")
_BEFORE: Final = feature_version.alias("before")


def _same_version(rows: Any, of: Any, *, back: int = 0) -> ColumnElement[bool]:
    """``rows`` holding the version of ``of``'s feature that ``of`` names, or ``back`` versions before it."""
    return and_(
        rows.c.dataset == of.c.dataset,
        rows.c.feature_id == of.c.feature_id,
        rows.c.version == of.c.version - back,
    )


def _kept_with_before(*columns: Any) -> Select[Any]:
    """Select ``columns`` of kept versions (``_KEPT``), each joined to the version before it (``_BEFORE``)."""
    return select(*columns).select_from(_KEPT.outerjoin(_BEFORE, _same_version(_BEFORE, _KEPT, back=1)))


def _history_rows(conn: Connection, dataset: str, feature_id: int) -> list[Any]:
    kept, before = _KEPT, _BEFORE
    moved = func.ST_Distance(func.Geography(before.c.geom), func.Geography(kept.c.geom))
    query = (
        _kept_with_before(
            kept.c.version,
            kept.c.action,
            kept.c.properties,
            kept.c.created_at,
            kept.c.changeset_id,
            changeset.c.author,
            changeset.c.comment,
            before.c.properties.label("before"),
            before.c.version.label("before_version"),
            func.ST_Equals(before.c.geom, kept.c.geom).label("same_place"),
            moved.label("moved_m"),
        )
        .join(changeset, changeset.c.id == kept.c.changeset_id)
        .where(kept.c.dataset == dataset, kept.c.feature_id == feature_id)
        .order_by(kept.c.version)
    )
    return list(conn.execute(query))


def _diff(row: Any) -> Diff | None:
    if row.before_version is None:
        return None if row.action == "import" else Diff(diff_properties(None, row.properties), False, None)
    moved = None if row.same_place is not False else round(float(row.moved_m or 0.0), 2)
    return Diff(diff_properties(row.before, row.properties), moved is not None, moved)


def _author(row: Any) -> str:
    """Who wrote a version: its changeset's author; for an imported state, the import (its source).

    The imported state is kept in the changeset of the first edit, whose author and
    comment are not the import's.

    >>> class Row: action, author, properties = "import", "lan", {"source": "osm"}
    >>> _author(Row())
    'import:osm'
    """
    if row.action == "import":
        source = (row.properties or {}).get("source")
        return f"import:{source}" if source else "import"
    return str(row.author)


def feature_history(conn: Connection, dataset: str, key: str | int) -> tuple[Feature, list[VersionEntry]]:
    """Every kept version of a feature, oldest first, each with its diff from the one before."""
    feature = read_feature(conn, dataset, key)
    entries = [
        VersionEntry(
            version=int(row.version),
            action=str(row.action),
            author=_author(row),
            time=row.created_at,
            changeset_id=int(row.changeset_id),
            comment=None if row.action == "import" else row.comment,
            diff=_diff(row),
        )
        for row in _history_rows(conn, feature.dataset, feature.id)
    ]
    return feature, entries


def changeset_view(conn: Connection, changeset_id: int) -> ChangesetView:
    """One changeset with the versions it wrote (the baselines it kept are left out)."""
    bbox = func.ST_XMin(changeset.c.bbox), func.ST_YMin(changeset.c.bbox)
    top = func.ST_XMax(changeset.c.bbox), func.ST_YMax(changeset.c.bbox)
    row = conn.execute(select(changeset, *bbox, *top).where(changeset.c.id == changeset_id)).first()
    if row is None:
        raise NotFoundError(f"no changeset {changeset_id}")
    kept = feature_version.c
    writes = conn.execute(
        select(kept.dataset, kept.feature_id, kept.version, kept.action)
        .where(kept.changeset_id == changeset_id, kept.action != "import")
        .order_by(kept.id)
    )
    listed = tuple(
        ChangesetWrite(
            dataset=write.dataset,
            key=feature_key(conn, write.dataset, int(write.feature_id)),
            version=int(write.version),
            action=write.action,
        )
        for write in writes
    )
    box = None if row[-4] is None else (float(row[-4]), float(row[-3]), float(row[-2]), float(row[-1]))
    return ChangesetView(
        id=int(row.id),
        author=str(row.author),
        comment=row.comment,
        kind=str(row.kind),
        reverts_id=row.reverts_id,
        time=row.created_at,
        bbox=box,
        writes=listed,
    )


def event_keys(conn: Connection, events: Iterable[Event]) -> dict[tuple[str, int], str]:
    """The public key of each (dataset, feature id) of the events (registry codes for addresses)."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.feature_id is not None:
            wanted.setdefault(event.dataset, set()).add(event.feature_id)
    keys: dict[tuple[str, int], str] = {}
    for dataset, ids in wanted.items():
        spec = get_dataset(dataset)
        for feature_id, key in conn.execute(select(spec.id, spec.key).where(spec.id.in_(ids))):
            keys[(dataset, int(feature_id))] = str(key)
    return keys


# --------------------------------------------------------------------------------------- revert


def _restorable(conn: Connection, changeset_id: int) -> list[Any]:
    """The versions a changeset wrote, newest first, with the stored row before each."""
    kept, before = _KEPT, _BEFORE
    query = (
        _kept_with_before(
            kept.c.dataset,
            kept.c.feature_id,
            kept.c.version,
            kept.c.action,
            before.c.properties.label("before"),
            func.ST_AsText(before.c.geom).label("before_wkt"),
        )
        .where(kept.c.changeset_id == changeset_id, kept.c.action != "import")
        .order_by(kept.c.id.desc())
    )
    return list(conn.execute(query))


def _restored_values(table: Table, before: dict[str, Any] | None, wkt: str | None) -> dict[str, Any]:
    """The columns that put a row back as it was (a created feature is retired instead)."""
    if before is None:
        return {"status": "retired", "retired_at": func.now()}
    keep = {"id", "version", "created_at", "updated_at", "geom", "label_point"}
    values = {name: before[name] for name in before if name in table.c and name not in keep}
    if wkt is not None:
        geom = func.ST_GeomFromText(wkt, SRID)
        values["geom"] = geom
        if "label_point" in table.c:
            values["label_point"] = func.ST_PointOnSurface(geom)
    return values


def _revert_action(before: dict[str, Any] | None, current: Feature) -> Action:
    if before is None:
        return "retire"
    old, now = before.get("status"), current.status
    if old == now:
        return "update"
    return "retire" if old == "retired" else "restore"


def _revert_one(cs: Changeset, row: Any) -> None:
    spec = get_dataset(row.dataset)
    current = read_feature(
        cs.conn, spec.name, feature_key(cs.conn, spec.name, int(row.feature_id)), lock=True
    )
    if current.version != row.version:
        raise RevertConflictError(
            f"changeset cannot be reverted: {spec.name} {current.key} was changed after it "
            f"(version {current.version}, the changeset wrote {row.version}); revert the later changes first"
        )
    values = _restored_values(spec.table, row.before, row.before_wkt)
    apply_write(cs, spec, current, values, _revert_action(row.before, current))


def revert_changeset(
    conn: Connection, principal: Principal, changeset_id: int, *, comment: str | None
) -> int:
    """Undo a changeset in a new changeset of kind revert (admins); return the new changeset's id.

    Refused (RevertConflictError) when a later write changed one of its features.
    """
    check_role(principal, "admin", action="revert a changeset")
    changeset_view(conn, changeset_id)  # NotFoundError for an unknown changeset
    note = comment or f"revert changeset {changeset_id}"
    cs = Changeset(conn, principal, comment=note, kind="revert", reverts_id=changeset_id)
    for row in _restorable(conn, changeset_id):
        _revert_one(cs, row)
    cs.close()
    if cs.id is None:
        raise RevertConflictError(f"changeset {changeset_id} wrote nothing that can be reverted")
    return cs.id


# ------------------------------------------------------------------------------------ proposals


def proposals(conn: Connection, principal: Principal, *, commune_id: int | None = None) -> list[Feature]:
    """Proposed features in the principal's communes (one commune when given), oldest first."""
    check_role(principal, "approver", action="read the proposals")
    found: list[Feature] = []
    for dataset in PROPOSAL_DATASETS:
        spec = get_dataset(dataset)
        query = (
            select(spec.key).where(spec.table.c.status == "proposed").order_by(spec.id).limit(MAX_PROPOSALS)
        )
        if commune_id is not None:
            query = query.where(spec.table.c.commune_id == commune_id)
        if principal.commune_ids is not None:
            query = query.where(spec.table.c.commune_id.in_(principal.commune_ids))
        found += [read_feature(conn, dataset, key) for key in conn.execute(query).scalars()]
    return found


# --------------------------------------------------------------------------------------- replay
