"""Staff edits over HTTP: versioned writes of every dataset, history, changesets, revert, proposals, the feed.

Thin glue over :mod:`addresses.editing`, :mod:`addresses.history` and :mod:`addresses.feed`.
Each write is one transaction (``db.begin()``) holding one changeset, closed last so its
events are numbered in commit order. Writes need a principal of the right role
(:func:`api.deps.require_role`); the commune checks are the domain's. (No ``from __future__
import annotations`` here: the routes made per dataset annotate with values of their closure.)
"""

from collections.abc import Callable
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import Connection, select

from addresses import editing, history
from addresses.accounts import Principal, Role
from addresses.editing import Feature, FeatureEdit, StatusAction, StatusChange
from addresses.errors import NotFoundError, StaleVersionError
from addresses.feed import MAX_EVENTS, Changeset, ChangesetKind, events_after
from addresses.schema import admin_unit
from api.deps import Database, Db, require_role
from api.responses import ERROR_RESPONSES, GEOJSON_ROUTE_ERROR_RESPONSES, GeoJSONResponse
from api.schemas_codes import AddressDetailFeature
from api.schemas_editing import (
    ActionIn,
    ChangesetOut,
    EventOut,
    EventPageOut,
    FeatureIn,
    FeatureListOut,
    FeatureOut,
    FeaturePatch,
    HistoryOut,
    VersionOut,
)
from api.versions import IfMatch, address_answer, expected_version

router = APIRouter(tags=["editing"])

WRITE_ROLES: Final[dict[str, Role]] = {
    "addresses": "editor",
    "villages": "editor",
    "places": "editor",
    "units": "admin",
}
"""The role each dataset's write routes ask for (the domain then checks the communes)."""
STATUS_ACTIONS: Final[tuple[StatusAction, ...]] = ("retire", "restore", "approve", "reject")
KEY_DOC: Final = {
    "addresses": "The registry code (10 digits; spaces and dashes ignored).",
    "villages": "The village's id.",
    "places": "The place's id.",
    "units": "The unit's id (not its GSO code).",
}
KEY_EXAMPLES: Final = {"addresses": "1000-000-005", "villages": "1", "places": "1", "units": "1"}
_ERRORS: Final = {
    401: {"description": "No session or API token."},
    403: {"description": "The role is too low, or the feature lies outside your communes."},
    404: {"description": "No such feature."},
    409: {
        "description": "Stale version (the body's `current` is the feature as it now is), a status "
        "change the feature's status does not allow, a probable duplicate, or a revert blocked by "
        "later edits."
    },
    422: {
        "description": "Validation refused a field (`parameter`; `message` English, `message_vi` Vietnamese)."
    },
    428: {"description": "No If-Match: say which version you edited."},
}

Approver = Annotated[Principal, Depends(require_role("approver"))]
Admin = Annotated[Principal, Depends(require_role("admin"))]


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Document the error answers of a route: the one JSON error shape, whatever the route serves."""
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    documented: dict[int | str, dict[str, Any]] = {
        status: {"description": _ERRORS[status]["description"], "content": content} for status in statuses
    }
    return {**GEOJSON_ROUTE_ERROR_RESPONSES, **documented}


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


def _add_read(dataset: str) -> None:
    path = "/units/{key}/feature" if dataset == "units" else f"/{dataset}/{{key}}"

    def read(
        *,
        response: Response,
        db: Db,
        key: Annotated[
            str, Path(description=KEY_DOC[dataset], max_length=40, examples=[KEY_EXAMPLES[dataset]])
        ],
    ) -> Any:
        with db.connect() as conn:
            return _shown(conn, response, editing.read_feature(conn, dataset, key))

    if dataset == "addresses":
        return  # GET /addresses/{registry_code} (api/routes/codes.py) answers with the version and ETag
    router.add_api_route(
        path,
        read,
        methods=["GET"],
        response_model=_model(dataset),
        response_class=GeoJSONResponse,
        summary=f"One of the {dataset} as an editable feature (ETag: its version)",
        responses=_responses(404),
    )


def _add_create(dataset: str) -> None:
    writer = require_role(WRITE_ROLES[dataset])

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
                dataset,
                properties=body.properties,
                geometry=body.geometry,
                confirm_duplicate=body.confirm_duplicate,
            ),
            response,
        )
        response.headers["Location"] = f"/{dataset}/{created.key}"
        return shown

    router.add_api_route(
        f"/{dataset}",
        create,
        methods=["POST"],
        status_code=201,
        response_model=_model(dataset),
        response_class=GeoJSONResponse,
        summary=f"Create one of the {dataset}",
        responses=_responses(401, 403, 409, 422),
    )


def _add_update(dataset: str) -> None:
    writer = require_role(WRITE_ROLES[dataset])

    def patch(
        *,
        response: Response,
        db: Db,
        who: Annotated[Principal, Depends(writer)],
        key: Annotated[
            str, Path(description=KEY_DOC[dataset], max_length=40, examples=[KEY_EXAMPLES[dataset]])
        ],
        body: FeaturePatch,
        if_match: IfMatch = None,
    ) -> Any:
        """Change fields and/or the geometry of the version named by If-Match."""
        version = expected_version(if_match, None)
        _changed, shown = _write(
            db,
            who,
            body.comment,
            lambda cs: editing.update_feature(
                cs,
                dataset,
                key,
                expected_version=version,
                edit=FeatureEdit(properties=body.properties, geometry=body.geometry),
            ),
            response,
        )
        return shown

    router.add_api_route(
        f"/{dataset}/{{key}}",
        patch,
        methods=["PATCH"],
        response_model=_model(dataset),
        response_class=GeoJSONResponse,
        summary=f"Change one of the {dataset} (If-Match: the version you read)",
        responses=_responses(401, 403, 404, 409, 422, 428),
    )


def _add_status(dataset: str, action: StatusAction) -> None:
    role: Role = "approver" if action in ("approve", "reject") else WRITE_ROLES[dataset]
    writer = require_role(role)
    kind: ChangesetKind = "review" if action in ("approve", "reject") else "edit"

    def act(
        *,
        response: Response,
        db: Db,
        who: Annotated[Principal, Depends(writer)],
        key: Annotated[
            str, Path(description=KEY_DOC[dataset], max_length=40, examples=[KEY_EXAMPLES[dataset]])
        ],
        body: ActionIn | None = None,
        if_match: IfMatch = None,
    ) -> Any:
        version = expected_version(if_match, None)
        comment = None if body is None else body.comment
        successor = None if body is None else body.successor
        _changed, shown = _write(
            db,
            who,
            comment,
            lambda cs: editing.change_status(
                cs, dataset, key, expected_version=version, change=StatusChange(action, successor)
            ),
            response,
            kind=kind,
        )
        return shown

    router.add_api_route(
        f"/{dataset}/{{key}}/{action}",
        act,
        methods=["POST"],
        response_model=_model(dataset),
        response_class=GeoJSONResponse,
        summary=f"{action.capitalize()} one of the {dataset} (If-Match: the version you read)",
        responses=_responses(401, 403, 404, 409, 422, 428),
    )


def _add_history(dataset: str) -> None:

    def versions(
        *,
        db: Db,
        key: Annotated[
            str, Path(description=KEY_DOC[dataset], max_length=40, examples=[KEY_EXAMPLES[dataset]])
        ],
    ) -> HistoryOut:
        """Every kept version, oldest first: action, author, time, changeset and comment, diff."""
        with db.connect() as conn:
            feature, entries = history.feature_history(conn, dataset, key)
        return HistoryOut(
            dataset=dataset,
            key=feature.key,
            version=feature.version,
            versions=[
                VersionOut(
                    version=entry.version,
                    action=entry.action,
                    author=entry.author,
                    time=entry.time,
                    changeset_id=entry.changeset_id,
                    comment=entry.comment,
                    diff=None if entry.diff is None else entry.diff.to_dict(),
                )
                for entry in entries
            ],
        )

    router.add_api_route(
        f"/{dataset}/{{key}}/history",
        versions,
        methods=["GET"],
        response_model=HistoryOut,
        summary=f"The history of one of the {dataset}",
        responses=_responses(404),
    )


for _dataset in editing.EDITABLE_DATASETS:
    _add_read(_dataset)
    if _dataset != "units":
        _add_create(_dataset)
    _add_update(_dataset)
    for _action in STATUS_ACTIONS:
        if _dataset != "units" or _action in ("retire", "restore"):
            _add_status(_dataset, _action)
    _add_history(_dataset)


# ------------------------------------------------------------------------------ across datasets


@router.get(
    "/changesets/{changeset_id}",
    response_model=ChangesetOut,
    summary="One changeset",
    responses=_responses(404),
)
def get_changeset(
    *, db: Db, changeset_id: Annotated[int, Path(ge=1, le=2**62, examples=[1])]
) -> ChangesetOut:
    """Who made it, why, when, the bbox it touched and the versions it wrote."""
    with db.connect() as conn:
        view = history.changeset_view(conn, changeset_id)
    return ChangesetOut.model_validate(view, from_attributes=True)


@router.post(
    "/changesets/{changeset_id}/revert",
    response_model=ChangesetOut,
    status_code=201,
    summary="Revert a changeset (admins): a new changeset of kind revert",
    responses=_responses(401, 403, 404, 409),
)
def revert(
    *,
    db: Db,
    who: Admin,
    changeset_id: Annotated[int, Path(ge=1, le=2**62, examples=[1])],
    body: ActionIn | None = None,
) -> ChangesetOut:
    """Put every feature the changeset wrote back as it was; 409 when a later edit touched one."""
    with db.begin() as conn:
        new_id = history.revert_changeset(
            conn, who, changeset_id, comment=None if body is None else body.comment
        )
    with db.connect() as conn:
        return ChangesetOut.model_validate(history.changeset_view(conn, new_id), from_attributes=True)


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
    responses=_responses(401, 403, 404),
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
