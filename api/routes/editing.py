"""Staff edits over HTTP: versioned writes of every dataset, history, changesets, revert, proposals, the feed.

Thin glue over :mod:`addresses.editing`, :mod:`addresses.history` and :mod:`addresses.feed`.
Each write is one transaction (``db.begin()``) holding one changeset, closed last so its
events are numbered in commit order. Writes need a principal of the right role
(:func:`api.deps.require_role`, the role of :data:`addresses.edit_checks.WRITE_ROLE`); the
commune checks are the domain's. The routes of each dataset are declared once, from its
spec (:data:`addresses.datasets.DATASETS`). (No ``from __future__ import annotations``
here: the routes made per dataset annotate with values of their closure.)
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, get_args

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, select

from addresses import editing, history
from addresses.accounts import Principal, Role
from addresses.datasets import DATASETS, DatasetSpec
from addresses.edit_checks import WRITE_ROLE
from addresses.editing import REVIEW_ACTIONS, Feature, FeatureEdit, StatusAction, StatusChange
from addresses.errors import NotFoundError, StaleVersionError
from addresses.feed import MAX_EVENTS, Changeset, ChangesetKind, events_after
from addresses.schema import admin_unit
from api.deps import Database, Db, require_role
from api.responses import ERROR_RESPONSES, GeoJSONResponse, error_responses
from api.schemas_codes import AddressDetailFeature
from api.schemas_editing import (
    ActionIn,
    EventOut,
    EventPageOut,
    FeatureIn,
    FeatureListOut,
    FeatureOut,
    FeaturePatch,
    HistoryOut,
)
from api.versions import IfMatch, address_answer, expected_version

router = APIRouter(tags=["editing"])

STATUS_ACTIONS: Final[tuple[StatusAction, ...]] = get_args(StatusAction)
VALIDITY_ACTIONS: Final[tuple[StatusAction, ...]] = ("retire", "restore")
"""The actions of a dataset without statuses (units): retiring ends the validity, restoring reopens it."""
KEY_DOC: Final = {
    "addresses": "The registry code (10 digits; spaces and dashes ignored).",
    "villages": "The village's id.",
    "places": "The place's id.",
    "units": "The unit's id (not its GSO code).",
}
KEY_EXAMPLES: Final = {"addresses": "1000-000-005", "villages": "1", "places": "1", "units": "1"}
NOTES: Final[Mapping[int, str]] = {
    401: "No session or API token.",
    403: "The role is too low, or the feature lies outside your communes.",
    404: "No such feature.",
    409: "Stale version (the body's `current` is the feature as it now is), a status change the "
    "feature's status does not allow, a probable duplicate, or a revert blocked by later edits.",
    428: "No If-Match: say which version you edited.",
}
"""What the error answers of the editing routes mean here (the shape is api.responses')."""
WRITE_NOTES: Final[Mapping[int, str]] = {
    **NOTES,
    422: "Validation refused a field (`parameter`; `message` English, `message_vi` Vietnamese).",
}
"""The same for a route that writes, whose 422 is the domain's refusal of a field."""
READ_ERRORS: Final = (400, 404)
CREATE_ERRORS: Final = (400, 401, 403, 409, 422)
WRITE_ERRORS: Final = (400, 401, 403, 404, 409, 422, 428)

Approver = Annotated[Principal, Depends(require_role("approver"))]
Admin = Annotated[Principal, Depends(require_role("admin"))]


def _model(dataset: str) -> type[FeatureOut] | type[AddressDetailFeature]:
    """What a write answers: an address as GET /addresses/{code} shows it, other features as stored."""
    return AddressDetailFeature if dataset == "addresses" else FeatureOut


def _shown(conn: Connection, response: Response, feature: Feature) -> Any:
    """The feature with its ETag: an address as GET /addresses/{code} shows it (read on ``conn``)."""
    if feature.dataset == "addresses":
        return address_answer(conn, response, feature.key)
    response.headers["ETag"] = f'"{feature.version}"'
    return feature.to_geojson()


def _write(
    db: Database,
    who: Principal,
    comment: str | None,
    work: Callable[[Changeset], Feature],
    response: Response,
    *,
    kind: ChangesetKind = "edit",
) -> tuple[Feature, Any]:
    """Run one write in one transaction and changeset; the events are numbered last.

    The answer is read in the same transaction (the row still locked): its ETag is the
    version this write made, whatever commits next. A stale address answers 409 with the
    address as GET shows it (``current``).
    """
    try:
        with db.begin() as conn:
            cs = Changeset(conn, who, comment=comment, kind=kind)
            feature = work(cs)
            shown = _shown(conn, response, feature)
            cs.close()
    except StaleVersionError as stale:
        if stale.state is not None and stale.state.get("id") and "registry_code" in stale.state["properties"]:
            with db.connect() as conn:
                stale.state = address_answer(conn, Response(), str(stale.state["id"])).model_dump(mode="json")
        raise
    return feature, shown


# ----------------------------------------------------------------------------------- per dataset


@dataclass(frozen=True, slots=True)
class _Target:
    """Who writes which feature (dataset and public key), and the If-Match they sent."""

    who: Principal
    dataset: str
    key: str
    if_match: str | None


def _key_param(dataset: str) -> Callable[[str], str]:
    """The dependency reading a feature's public key from the path, documented for its dataset."""

    def key(
        key: Annotated[
            str, Path(description=KEY_DOC[dataset], max_length=40, examples=[KEY_EXAMPLES[dataset]])
        ],
    ) -> str:
        return key

    return key


def _target_param(dataset: str, role: Role) -> Callable[..., _Target]:
    """The dependency of a write on one feature: a principal of ``role`` or above, the key, If-Match."""
    key_param = _key_param(dataset)

    def target(
        who: Annotated[Principal, Depends(require_role(role))],
        key: Annotated[str, Depends(key_param)],
        if_match: IfMatch = None,
    ) -> _Target:
        return _Target(who, dataset, key, if_match)

    return target


def _write_at(
    db: Database, response: Response, target: _Target, comment: str | None, change: FeatureEdit | StatusChange
) -> Any:
    """Update or change the status of the target at the version If-Match names (428 without it)."""
    version = expected_version(target.if_match, None)

    def work(cs: Changeset) -> Feature:
        if isinstance(change, FeatureEdit):
            return editing.update_feature(
                cs, target.dataset, target.key, expected_version=version, edit=change
            )
        return editing.change_status(cs, target.dataset, target.key, expected_version=version, change=change)

    reviewing = isinstance(change, StatusChange) and change.action in REVIEW_ACTIONS
    return _write(db, target.who, comment, work, response, kind="review" if reviewing else "edit")[1]


def _route(
    spec: DatasetSpec,
    path: str,
    endpoint: Callable[..., Any],
    *,
    method: str = "GET",
    summary: str,
    errors: tuple[int, ...],
    status_code: int = 200,
    answer: Any = None,
) -> None:
    """Add the route ``/<dataset><path>`` answering the feature (GeoJSON), or ``answer`` (JSON).

    ``summary`` names the dataset with ``{}``; the errors are documented as NOTES words them.
    """
    geojson = answer is None
    router.add_api_route(
        f"/{spec.name}{path}",
        endpoint,
        methods=[method],
        status_code=status_code,
        response_model=_model(spec.name) if geojson else answer,
        response_class=GeoJSONResponse if geojson else JSONResponse,
        summary=summary.format(spec.name),
        responses=error_responses(
            *errors, notes=WRITE_NOTES if 422 in errors else NOTES, json_route=not geojson
        ),
    )


def _add_read(spec: DatasetSpec) -> None:
    key_param = _key_param(spec.name)

    def read(*, response: Response, db: Db, key: Annotated[str, Depends(key_param)]) -> Any:
        with db.connect() as conn:
            return _shown(conn, response, editing.read_feature(conn, spec.name, key))

    path = "/{key}/feature" if spec.name == "units" else "/{key}"  # /units/{key}: api/routes/units.py
    _route(
        spec,
        path,
        read,
        summary="One of the {} as an editable feature (ETag: its version)",
        errors=READ_ERRORS,
    )


def _add_create(spec: DatasetSpec) -> None:
    writer = require_role(WRITE_ROLE[spec.name])

    def create(
        *, response: Response, db: Db, who: Annotated[Principal, Depends(writer)], body: FeatureIn
    ) -> Any:
        """Create a feature: an editor's starts proposed; approvers and admins may create it active."""
        created, shown = _write(
            db,
            who,
            body.comment,
            lambda cs: editing.create_feature(
                cs,
                spec.name,
                properties=body.properties,
                geometry=body.geometry,
                confirm_duplicate=body.confirm_duplicate,
            ),
            response,
        )
        response.headers["Location"] = f"/{spec.name}/{created.key}"
        return shown

    _route(
        spec, "", create, method="POST", status_code=201, summary="Create one of the {}", errors=CREATE_ERRORS
    )


def _add_update(spec: DatasetSpec) -> None:
    target_param = _target_param(spec.name, WRITE_ROLE[spec.name])

    def patch(
        *, response: Response, db: Db, to: Annotated[_Target, Depends(target_param)], body: FeaturePatch
    ) -> Any:
        """Change fields and/or the geometry of the version named by If-Match."""
        edit = FeatureEdit(properties=body.properties, geometry=body.geometry)
        return _write_at(db, response, to, body.comment, edit)

    summary = "Change one of the {} (If-Match: the version you read)"
    _route(spec, "/{key}", patch, method="PATCH", summary=summary, errors=WRITE_ERRORS)


def _add_status(spec: DatasetSpec, action: StatusAction) -> None:
    role: Role = "approver" if action in REVIEW_ACTIONS else WRITE_ROLE[spec.name]
    target_param = _target_param(spec.name, role)

    def act(
        *,
        response: Response,
        db: Db,
        to: Annotated[_Target, Depends(target_param)],
        body: ActionIn | None = None,
    ) -> Any:
        asked = body or ActionIn()
        return _write_at(db, response, to, asked.comment, StatusChange(action, asked.successor))

    summary = f"{action.capitalize()} one of the {{}} (If-Match: the version you read)"
    _route(spec, f"/{{key}}/{action}", act, method="POST", summary=summary, errors=WRITE_ERRORS)


def _add_history(spec: DatasetSpec) -> None:
    key_param = _key_param(spec.name)

    def versions(*, db: Db, key: Annotated[str, Depends(key_param)]) -> HistoryOut:
        """Every kept version, oldest first: action, author, time, changeset and comment, diff."""
        with db.connect() as conn:
            feature, entries = history.feature_history(conn, spec.name, key)
        return HistoryOut(dataset=spec.name, key=feature.key, version=feature.version, versions=entries)

    summary = "The history of one of the {}"
    _route(spec, "/{key}/history", versions, summary=summary, errors=READ_ERRORS, answer=HistoryOut)


def _add_dataset(spec: DatasetSpec) -> None:
    """Declare the routes of one dataset from its spec: read, create, update, status actions, history."""
    if spec.name != "addresses":  # GET /addresses/{registry_code} (api/routes/codes.py) shows an address
        _add_read(spec)
    if spec.statuses:  # a dataset without statuses (units) is created by importing the official lists
        _add_create(spec)
    _add_update(spec)
    for action in STATUS_ACTIONS if spec.statuses else VALIDITY_ACTIONS:
        _add_status(spec, action)
    _add_history(spec)


for _spec in DATASETS.values():
    if _spec.name in editing.EDITABLE_DATASETS:
        _add_dataset(_spec)


# ------------------------------------------------------------------------------ across datasets


@router.get(
    "/changesets/{changeset_id}",
    response_model=history.ChangesetView,
    summary="One changeset",
    responses=error_responses(400, 404, notes=NOTES),
)
def get_changeset(
    *, db: Db, changeset_id: Annotated[int, Path(ge=1, le=2**62, examples=[1])]
) -> history.ChangesetView:
    """Who made it, why, when, the bbox it touched and the versions it wrote."""
    with db.connect() as conn:
        return history.changeset_view(conn, changeset_id)


@router.post(
    "/changesets/{changeset_id}/revert",
    response_model=history.ChangesetView,
    status_code=201,
    summary="Revert a changeset (admins): a new changeset of kind revert",
    responses=error_responses(400, 401, 403, 404, 409, notes=NOTES),
)
def revert(
    *,
    db: Db,
    who: Admin,
    changeset_id: Annotated[int, Path(ge=1, le=2**62, examples=[1])],
    body: ActionIn | None = None,
) -> history.ChangesetView:
    """Put every feature the changeset wrote back as it was; 409 when a later edit touched one."""
    with db.begin() as conn:
        new_id = history.revert_changeset(
            conn, who, changeset_id, comment=None if body is None else body.comment
        )
    with db.connect() as conn:
        return history.changeset_view(conn, new_id)


def _commune_id(conn: Connection, code: str | None) -> int | None:
    """The id of the current commune with a GSO code (None for no code)."""
    if code is None:
        return None
    query = select(admin_unit.c.id).where(
        admin_unit.c.code == code, admin_unit.c.level == 3, admin_unit.c.valid_to.is_(None)
    )
    found = conn.execute(query).scalar()
    if found is None:
        raise NotFoundError(f"no current commune with the code {code!r}")
    return int(found)


@router.get(
    "/proposals",
    response_model=FeatureListOut,
    response_class=GeoJSONResponse,
    summary="The approval queue: proposed features in your communes",
    responses=error_responses(400, 401, 403, 404, notes=NOTES, json_route=False),
)
def get_proposals(
    *,
    db: Db,
    who: Approver,
    commune: Annotated[
        str | None, Query(max_length=10, description="One commune's GSO code.", examples=["04795"])
    ] = None,
) -> Any:
    """Proposed addresses, villages and places an approver may approve or reject, oldest first."""
    with db.connect() as conn:
        found = history.proposals(conn, who, commune_id=_commune_id(conn, commune))
    return {"type": "FeatureCollection", "features": [feature.to_geojson() for feature in found]}


@router.get("/events", response_model=EventPageOut, summary="The change feed", responses=ERROR_RESPONSES)
def get_events(
    *,
    db: Db,
    after: Annotated[
        int,
        Query(ge=0, le=2**62, description="The last seq you have seen (0: from the start).", examples=[0]),
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS, examples=[100])] = 100,
) -> EventPageOut:
    """Every create, update, retire, restore, approve, reject and import, in commit order.

    Poll with `after` = the last `seq` you got: an event that commits later always has a
    higher number, so none is missed.
    """
    with db.connect() as conn:
        page = events_after(conn, after=after, limit=limit)
        keys = history.event_keys(conn, page.events)
    events = [
        EventOut(
            seq=event.seq,
            changeset_id=event.changeset_id,
            dataset=event.dataset,
            key=None if event.feature_id is None else keys.get((event.dataset, event.feature_id)),
            version=event.version,
            action=event.action,
            time=event.time,
        )
        for event in page.events
    ]
    return EventPageOut(events=events, last_seq=page.last_seq)
