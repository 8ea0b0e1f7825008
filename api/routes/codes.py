"""Digital address codes and the address registry over HTTP: look-ups, plates and staff edits.

Thin glue over :mod:`addresses.registry`, :mod:`addresses.merging` and :mod:`addresses.plates`.
A typed code may be spelt any way people write it (spaces, dashes, lower case); a mistyped one answers
400 saying why, a well-formed one never issued 404, and a retired registry code
answers with the address in force (never "not found"). Every edit runs in one
transaction (``db.begin()``) committed before the answer is sent; edits need an
account of role editor or above (a log-in or an API token, api/deps.py) working in the
address's commune, before and after a move; the history records its user name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import Connection

from addresses.accounts import Principal
from addresses.errors import GoneError, InvalidParameterError
from addresses.feed import Changeset
from addresses.limits import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from addresses.merging import merge_addresses
from addresses.plates import plate_png, plate_svg
from addresses.queries import AddressRecord
from addresses.registry import RegistryLookup, lookup_code, lookup_registry
from api.deps import Db, require_role, settings
from api.responses import GeoJSONResponse, Responses, error_responses
from api.schemas_codes import (
    MAX_CODE_CHARS,
    AddressDetailFeature,
    CodeAnswer,
    LocationCodeAnswer,
    MergeAnswer,
    MergeRequest,
    RegistryCodeAnswer,
    address_feature,
    location_answer,
    registry_answer,
)
from api.settings import ApiSettings
from api.versions import address_answer, address_headers

router = APIRouter()


EDIT_ACCESS: Final = (
    "Editing is for staff of role editor or above, in the communes assigned to them: log in "
    "(POST /auth/login, then send the X-CSRF-Token header with the cookie) or send an API token "
    "(`Authorization: Bearer <token>`); 401 without, 403 for a lower role, another commune or a "
    "missing CSRF header. The history records the user name. The edit is one transaction: all of it "
    "is stored, or nothing."
)

_ERRORS: Final = {
    400: "A code is mistyped (the message says why and, when known, at which position), a point lies "
    "outside the province, or a parameter has a value the service cannot use.",
    401: "No log-in or API token, or one that is not valid (expired, revoked, disabled account).",
    403: "The account's role is below editor, the address (or the point it moves to) lies outside "
    "its communes, or a cookie-authenticated write lacks X-CSRF-Token.",
    404: "The code is well formed but was never issued (no address carries it).",
    409: "The edit conflicts with the address as stored: a stale version (reload and retry), a change "
    "its status does not allow (proposed -> active -> retired), or a successor that is retired or "
    "the address itself.",
    410: "The address is retired: it gets no plate. The message names its successor.",
    422: "A parameter or a member of the body has the wrong type or form.",
    428: "The edit does not say which version it changes: send If-Match (or expected_version).",
    503: "The database is unavailable or every connection is busy: retry after Retry-After seconds.",
}
_HEADER_DOCS: Final[dict[str, dict[str, Any]]] = {
    "ETag": {"description": 'The version of the address, e.g. "3" (send it back in If-Match).'},
    "Link": {
        "description": 'For a retired address: `</addresses/{successor}>; rel="successor-version"`, '
        "the address in force now."
    },
    "Location": {"description": "The path of the new address."},
}


def _errors(*statuses: int) -> Responses:
    """Document error answers: the one JSON error shape, application/json whatever the route serves."""
    return error_responses(*statuses, notes=_ERRORS, json_route=False)


def _header(name: str) -> dict[str, Any]:
    return {**_HEADER_DOCS[name], "schema": {"type": "string"}}


def _geojson_ok(description: str, *headers: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """Document a success answer that is GeoJSON, with its headers."""
    return {status: {"description": description, "headers": {name: _header(name) for name in headers}}}


# --- parameters and dependencies -----------------------------------------------------------------------

AnyCode = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_CODE_CHARS,
        description="A location code (2-9 characters, e.g. 8VG-DHS-6HB or a shorter prefix such as 8VG-DP) "
        "or a registry code (10 digits, e.g. 1000-000-005). Case, spaces and dashes are ignored "
        "(URL-encode spaces: %20).",
        examples=["8VG-DHS-6HB"],
    ),
]
RegistryCode = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_CODE_CHARS,
        description="The registry code (10 digits); spaces and dashes are ignored.",
        examples=["1000-000-005"],
    ),
]
Editor = Annotated[Principal, Depends(require_role("editor"))]
"""The principal of an edit: role editor or above (401 anonymous, 403 below)."""


def _check_limit(limit: int, settings: ApiSettings) -> None:
    if limit > settings.max_limit:
        raise InvalidParameterError(
            "limit", f"must be at most {settings.max_limit} on this server, got {limit}"
        )


# --- look-ups ------------------------------------------------------------------------------------------


@router.get(
    "/codes/{code}",
    response_model=CodeAnswer,
    tags=["codes"],
    summary="Look up a location code or a registry code",
    responses={
        200: {
            "description": "`kind` says which code it is: location (a cell) or registry (an address).",
            "headers": {"Link": _header("Link")},
        },
        **_errors(400, 404, 422),
    },
)
def get_code(
    *,
    request: Request,
    response: Response,
    db: Db,
    code: AnyCode,
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_PAGE_SIZE,
            description="Location codes: most addresses to list (at most the server's page limit).",
            examples=[DEFAULT_PAGE_SIZE],
        ),
    ] = DEFAULT_PAGE_SIZE,
) -> LocationCodeAnswer | RegistryCodeAnswer:
    """What a typed code names: 10 characters are a registry code, 2-9 a location code.

    A **location code** of any length answers with its cell (centre, bounds, size) and the
    active addresses inside it; shorter codes name larger cells. A **registry code** answers
    with its address; a retired one also with the address in force now (`successor`, and a
    `Link: rel="successor-version"` header) and the chain of successors followed. A mistyped
    code answers 400 (the message says why: wrong length, a character not in the alphabet and
    where, or a check that does not match); a well-formed code never issued answers 404.
    """
    _check_limit(limit, settings(request))
    with db.connect() as conn:
        found = lookup_code(conn, code, limit=limit)
    if isinstance(found, RegistryLookup):
        address_headers(response, found)
        return registry_answer(found)
    return location_answer(found)


@router.get(
    "/addresses/{registry_code}",
    response_model=AddressDetailFeature,
    response_class=GeoJSONResponse,
    tags=["addresses"],
    summary="One address by its registry code",
    responses={
        **_geojson_ok("The address as a GeoJSON Feature.", "ETag", "Link"),
        **_errors(400, 404, 422),
    },
)
def get_address(*, response: Response, db: Db, registry_code: RegistryCode) -> AddressDetailFeature:
    """The address as a GeoJSON Feature, with the address in force when it is retired.

    Its properties: both codes, its parts, the Vietnamese label, the 2025 commune and province,
    the pre-2025 commune and district, status, version and links to its plates. The ETag is its
    version (send it back in If-Match to edit). A retired address answers too, with `retired: true`,
    the address in force as `successor` and a `Link: rel="successor-version"` header.
    """
    with db.connect() as conn:
        return address_answer(conn, response, registry_code)


# --- plates --------------------------------------------------------------------------------------------


def _plate_record(conn: Connection, registry_code: str) -> AddressRecord:
    """Return the address to print; a retired one raises GoneError naming its successor."""
    found = lookup_registry(conn, registry_code)
    if found.retired:
        successor = None if found.successor is None else found.successor.registry_code
        message = f"address {found.address.registry_code_display} is retired and gets no plate"
        raise GoneError(message if successor else f"{message}; it has no successor", successor=successor)
    return found.address


def _plate_headers(record: AddressRecord, extension: str) -> dict[str, str]:
    name = f"diachiso-{record.registry_code_display}.{extension}"
    return {"ETag": f'"{record.version}"', "Content-Disposition": f'inline; filename="{name}"'}


_PLATE_TYPES: Final = {"svg": "image/svg+xml", "png": "image/png"}
"""The media type of each plate format, by file extension."""


def _plate(
    request: Request,
    db: Db,
    registry_code: str,
    extension: str,
    render: Callable[[AddressRecord, str], str | bytes],
) -> Response:
    """An address plate in one format: looked up, rendered for the public URL, with ETag and file name."""
    with db.connect() as conn:
        record = _plate_record(conn, registry_code)
    body = render(record, settings(request).public_base_url)
    return Response(body, media_type=_PLATE_TYPES[extension], headers=_plate_headers(record, extension))


PLATE_DOC: Final = (
    "A 300 x 200 mm house plate: the registry code large, the location code, the address in Vietnamese "
    "and a QR code of `{public_base_url}/?code={registry_code}` (DIACHISO_PUBLIC_BASE_URL): a phone opens "
    "the map viewer on the address, a client asking for JSON there gets the code's answer. A "
    "proposed address is marked ĐỀ XUẤT; a retired one has no plate (410, naming its successor)."
)


@router.get(
    "/addresses/{registry_code}/plate.svg",
    response_class=Response,
    tags=["addresses"],
    summary="The address plate as SVG",
    description=PLATE_DOC,
    responses={
        200: {"description": "The plate (SVG, UTF-8).", "content": {"image/svg+xml": {}}},
        **_errors(400, 404, 410, 422),
    },
)
def get_plate_svg(*, request: Request, db: Db, registry_code: RegistryCode) -> Response:
    """The plate as SVG (the route's description says what is on it)."""
    return _plate(request, db, registry_code, "svg", lambda record, url: plate_svg(record, base_url=url))


@router.get(
    "/addresses/{registry_code}/plate.png",
    response_class=Response,
    tags=["addresses"],
    summary="The address plate as PNG",
    description=PLATE_DOC + " At scale 1 the image is 1200 x 800 pixels (about 100 dpi).",
    responses={
        200: {"description": "The plate (PNG).", "content": {"image/png": {}}},
        **_errors(400, 404, 410, 422),
    },
)
def get_plate_png(
    *,
    request: Request,
    db: Db,
    registry_code: RegistryCode,
    scale: Annotated[
        float,
        Query(
            ge=0.25, le=4, description="Size: 1 is 1200 x 800 pixels, 2 (default) 2400 x 1600.", examples=[2]
        ),
    ] = 2,
) -> Response:
    """The plate rendered as PNG."""
    return _plate(
        request, db, registry_code, "png", lambda record, url: plate_png(record, base_url=url, scale=scale)
    )


# --- edits ---------------------------------------------------------------------------------------------


@router.post(
    "/addresses/merge",
    response_model=MergeAnswer,
    tags=["editing"],
    summary="Merge addresses into one",
    description="Retires every address of `codes` with `into` as its successor, all or nothing: one "
    "that cannot be retired (already retired, proposed, or `into` itself) fails the whole merge (409). "
    "The merge is one changeset of kind `merge` whose comment is `reason`: a version of action "
    "`retire` for each address retired and one of action `merge` for `into`, in their histories and "
    f"in /events. {EDIT_ACCESS}",
    responses={
        200: {"description": "The address kept and those retired into it."},
        **_errors(400, 401, 403, 404, 409, 422),
    },
)
def post_merge(*, db: Db, who: Editor, merge: MergeRequest) -> MergeAnswer:
    """Retire the addresses into one, all or nothing, in one changeset of kind merge."""
    with db.begin() as conn:
        merging = Changeset(conn, who, comment=merge.reason, kind="merge")
        result = merge_addresses(merging, merge.codes, into=merge.into)
        merging.close()
    return MergeAnswer(
        survivor=address_feature(result.survivor),
        retired=[address_feature(record) for record in result.retired],
    )
