"""Geocoding over HTTP: search, autocomplete, reverse, parse and CSV batches.

Thin glue over :mod:`geocoder`: the in-memory index is built once by the lifespan and
kept in the application state (:class:`api.deps.AppState`); a background thread
(:mod:`geocoder.refresh`) refreshes it when the data changed, so requests only read it.
CSV files are geocoded by the application's bounded pool (:mod:`geocoder.batch_stream`).
Answers are GeocodeJSON 0.1.0 FeatureCollections, diachiso's own fields namespaced
(:mod:`api.schemas_geocode`).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import io
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import Connection
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from addresses.errors import InvalidParameterError
from addresses.features import parse_bbox
from api.deps import AppState, Database, State
from api.errors import PayloadTooLargeError
from api.responses import ERROR_RESPONSES, Responses, error_responses
from api.schemas import IsoDate
from api.schemas_geocode import GeocodeCollection, ParsedModel
from geocoder.batch import BatchOptions, address_columns
from geocoder.batch_stream import BatchJob
from geocoder.geocodejson import (
    Lang,
    collection,
    encode,
    reverse_feature,
    reverse_query_json,
    search_feature,
    search_query_json,
)
from geocoder.index import IndexState
from geocoder.parse import parse
from geocoder.query import parsed_text
from geocoder.reverse import DEFAULT_RADIUS_M, MAX_RADIUS_M, ReverseQuery
from geocoder.reverse_memory import Connect, reverse_in_memory
from geocoder.search import ResultType, SearchFilters, autocomplete, search

router = APIRouter(tags=["geocoding"])

MAX_RESULTS: Final = 50
MAX_QUERY_CHARS: Final = 300

SearchType = ResultType


# --- parameters ------------------------------------------------------------------------------------

LangParam = Annotated[
    Lang,
    Query(description="Language of labels: vi (Vietnamese) or en (English unit words).", examples=["vi"]),
]


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """What a search or autocomplete request asks for, read and checked."""

    text: str
    limit: int
    filters: SearchFilters
    lang: Lang

    def echo(self) -> dict[str, Any]:
        """The query as it is given back in the answer (``diachiso.query``)."""
        filters = self.filters
        shown: dict[str, object] = {}
        if filters.unit_code is not None:
            shown["unit"] = filters.unit_code
        if filters.types is not None:
            shown["type"] = sorted(filters.types)
        if filters.bbox is not None:
            shown["bbox"] = list(filters.bbox)
        if filters.near is not None:
            shown["near"] = list(filters.near)
        parsed = parsed_text(self.text).to_dict()
        return search_query_json(self.text, parsed=parsed, limit=self.limit, lang=self.lang, filters=shown)


def _degrees(axis: Literal["lon", "lat"], description: str, example: float) -> Any:
    """A query parameter in WGS 84 degrees, bounded by its axis (longitude ±180, latitude ±90)."""
    bound = 180 if axis == "lon" else 90
    return Query(ge=-bound, le=bound, description=description, examples=[example])


@dataclass(frozen=True, slots=True)
class Near:
    """The ``lon`` and ``lat`` of a point to search near, as given (both or neither)."""

    lon: float | None = None
    lat: float | None = None

    def point(self) -> tuple[float, float] | None:
        """The (lon, lat) point; raises InvalidParameterError when only one of them is given."""
        lon, lat = self.lon, self.lat
        if lon is None and lat is None:
            return None
        if lon is None or lat is None:
            missing = "lon" if lon is None else "lat"
            raise InvalidParameterError(missing, "give lat and lon together to search near a point")
        return lon, lat


@dataclass(frozen=True, slots=True)
class SearchParams:
    """The parameters of /search and /autocomplete as given, each of them checked alone."""

    q: str
    limit: int = 10
    unit: str | None = None
    types: tuple[SearchType, ...] | None = None
    bbox: str | None = None
    near: Near = Near()

    def asked(self, lang: Lang) -> SearchRequest:
        """The request they make together (raises InvalidParameterError for a bad box or a half point)."""
        filters = SearchFilters(
            unit_code=self.unit.strip() if self.unit else None,
            types=frozenset(self.types) if self.types else None,
            bbox=parse_bbox(self.bbox) if self.bbox else None,
            near=self.near.point(),
        )
        return SearchRequest(text=self.q, limit=self.limit, filters=filters, lang=lang)


async def search_request(
    *,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_CHARS,
            description="What to look for: an address, village, commune, place name, or a location or "
            "registry code; accents and case optional, any order ('xom lac mai chau').",
            examples=["xom lac mai chau"],
        ),
    ],
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_RESULTS, description=f"Most results to return (1-{MAX_RESULTS}).", examples=[10]),
    ] = 10,
    unit: Annotated[
        str | None,
        Query(
            description="Only results in this unit: GSO code of a 2025 commune/ward, or of a pre-2025 "
            "commune or district (codes reused in 2025 match both).",
            examples=["05251"],
        ),
    ] = None,
    type_: Annotated[
        list[SearchType] | None,
        Query(
            alias="type",
            description="Only these kinds of result (repeat the parameter for several): match levels "
            "(address, street, village, place, commune, district, province, point: the answers' "
            "`diachiso.match_level`) or kinds (old_commune, old_district, old_province, location_code).",
            examples=[["village"]],
        ),
    ] = None,
    bbox: Annotated[
        str | None,
        Query(
            description="Only results inside this box: west,south,east,north in WGS 84 degrees.",
            examples=["104.9,20.5,105.2,20.8"],
        ),
    ] = None,
    lat: Annotated[
        float | None, _degrees("lat", "Latitude of a point to prefer results near (with lon).", 20.65)
    ] = None,
    lon: Annotated[
        float | None, _degrees("lon", "Longitude of a point to prefer results near (with lat).", 105.07)
    ] = None,
    lang: LangParam = "vi",
) -> SearchRequest:
    """Read and check the parameters shared by /search and /autocomplete."""
    types = tuple(type_) if type_ else None
    params = SearchParams(q, limit, unit=unit, types=types, bbox=bbox, near=Near(lon=lon, lat=lat))
    return params.asked(lang)


Searched = Annotated[SearchRequest, Depends(search_request)]


# --- search, autocomplete, parse --------------------------------------------------------------------


def _search_answer(index: IndexState, asked: SearchRequest) -> bytes:
    results = search(index, asked.text, limit=asked.limit, filters=asked.filters)
    return encode(collection([search_feature(result, lang=asked.lang) for result in results], asked.echo()))


def _autocomplete_answer(index: IndexState, asked: SearchRequest) -> bytes:
    results = autocomplete(index, asked.text, limit=asked.limit, filters=asked.filters)
    return encode(collection([search_feature(result, lang=asked.lang) for result in results], asked.echo()))


def json_answer(body: bytes) -> Response:
    """An answer already serialised (the route's response model only documents it)."""
    return Response(content=body, media_type="application/json")


async def _in_turn(
    state: AppState,
    answer: Callable[[IndexState, SearchRequest], bytes],
    asked: SearchRequest,
) -> Response:
    """Answer a search from the cache, or compute it when its turn comes (and keep it).

    On the event loop (:mod:`api.loop_turns`), or with ``DIACHISO_GEOCODE_SEARCH_ON_LOOP=false``
    on worker threads, :data:`api.deps.SEARCH_THREADS` at once.
    """
    cache, snapshot, key = state.answer_cache, state.geocoder.state, (answer.__name__, asked)
    body = cache.get(snapshot, key)
    if body is None:
        if state.settings.geocode.search_on_loop:
            body = await state.loop_turns.run(answer, snapshot, asked)
        else:
            body = await anyio.to_thread.run_sync(answer, snapshot, asked, limiter=state.search_turns)
        cache.put(snapshot, key, body)
    return json_answer(body)


async def search_answer(state: AppState, asked: SearchRequest) -> Response:
    """The answer of /search: kept, or computed on the event loop in turn (:mod:`api.loop_turns`)."""
    return await _in_turn(state, _search_answer, asked)


async def autocomplete_answer(state: AppState, asked: SearchRequest) -> Response:
    """The answer of /autocomplete: kept, or computed on the event loop in turn."""
    return await _in_turn(state, _autocomplete_answer, asked)


@router.get(
    "/search",
    response_model=GeocodeCollection,
    summary="Geocode an address, place name or code",
    responses=ERROR_RESPONSES,
)
async def search_route(state: State, asked: Searched) -> Response:
    """Free-text geocoding, best first: addresses, streets, villages, places, units of both periods.

    A pre-2025 commune answers with its 2025 successor as ``diachiso.current_unit`` (one
    answer per successor when it was split); a typed location or registry code resolves
    directly. Each feature's ``properties.geocoding`` holds the GeocodeJSON keys (``type``
    house, street, locality, city, county or state), ``properties.diachiso`` the score, the
    match level, both codes and the units of both periods.
    """
    return await search_answer(state, asked)


@router.get(
    "/autocomplete",
    response_model=GeocodeCollection,
    summary="Complete an address being typed",
    responses=ERROR_RESPONSES,
)
async def autocomplete_route(state: State, asked: Searched) -> Response:
    """Suggestions while typing: the earlier words must match, the last one may be a prefix."""
    return await autocomplete_answer(state, asked)


@router.get(
    "/parse", response_model=ParsedModel, summary="Read an address into components", responses=ERROR_RESPONSES
)
def parse_route(
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_CHARS,
            description="An address as written, e.g. 'số 5 xóm Lác, xã Mai Hạ, tỉnh Phú Thọ'.",
            examples=["so 5 xom lac, xa mai ha, phu tho"],
        ),
    ],
) -> ParsedModel:
    """The components (house number, alley, street, village, commune, district, province) of a text.

    Pure text reading, no database: what the parser cannot place is listed as ``unlabeled``.
    """
    return ParsedModel(query=q, parsed=parse(q).to_dict())


# --- reverse ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _admitted_read(db: Database) -> Iterator[Connection]:
    """A read connection taken, from a worker thread, only once admitted (the slot given back after)."""
    anyio.from_thread.run(db.admit)
    try:
        with db.read() as conn:
            yield conn
    finally:
        anyio.from_thread.run_sync(db.release)


@dataclass(frozen=True, slots=True)
class ReverseRequest:
    """What a reverse request asks for, read and checked."""

    lon: float
    lat: float
    radius_m: float = DEFAULT_RADIUS_M
    at: dt.date | None = None
    lang: Lang = "vi"


class NeedsDatabaseError(Exception):
    """An answer computed from memory on the event loop needed the database after all."""


def _memory_only() -> AbstractContextManager[Connection]:
    """The ``connect`` of an answer computed on the event loop: no database there (the rare parts raise)."""
    raise NeedsDatabaseError


def _reverse_body(snapshot: IndexState, asked: ReverseRequest, *, connect: Connect, fresh: bool) -> bytes:
    query = ReverseQuery(asked.lon, asked.lat, radius_m=asked.radius_m, at=asked.at)
    result = reverse_in_memory(snapshot.reverse, query=query, connect=connect, fresh=fresh)
    echo = reverse_query_json((asked.lon, asked.lat), radius_m=asked.radius_m, at=asked.at, lang=asked.lang)
    return encode(collection([reverse_feature(result, lang=asked.lang)], echo))


def _from_memory(snapshot: IndexState, asked: ReverseRequest) -> bytes | None:
    """The answer wholly from memory, or None when it needs the database (a point just outside every ward)."""
    try:
        return _reverse_body(snapshot, asked, connect=_memory_only, fresh=True)
    except NeedsDatabaseError:
        return None


async def reverse_answer(state: AppState, asked: ReverseRequest) -> Response:
    """The answer of /reverse: kept, else from memory on the event loop, else on a worker thread.

    While the index's addresses are known fresh, the answer comes wholly from memory (its own
    work measured at 1.24 million instructions, 0.14-0.2 ms of CPU, with 20,000 addresses): it
    is computed on the event loop, without the hop to a worker thread and back. Otherwise (or
    when it needs the database after all: a point just outside every ward) it is computed on
    a worker thread in turn, with a read connection once admitted. Only an answer wholly from
    memory is kept: the database's nearest address may change any time.
    """
    fresh = state.geocoder.addresses_fresh(state.settings.geocode.fresh_s)
    cache, snapshot = state.answer_cache, state.geocoder.state
    if fresh:
        body = cache.get(snapshot, asked)
        if body is None and (body := _from_memory(snapshot, asked)) is not None:
            cache.put(snapshot, asked, body)
        if body is not None:
            return json_answer(body)
    connect = functools.partial(_admitted_read, state.database)  # admission only when the database is asked
    compute = functools.partial(_reverse_body, asked=asked, connect=connect, fresh=fresh)
    body = await anyio.to_thread.run_sync(compute, snapshot, limiter=state.search_turns)
    if fresh:
        cache.put(snapshot, asked, body)
    return json_answer(body)


@router.get(
    "/reverse",
    response_model=GeocodeCollection,
    summary="What lies at a point: address, units, codes",
    responses=ERROR_RESPONSES,
)
async def reverse_route(
    *,
    state: State,
    lon: Annotated[float, _degrees("lon", "Longitude, WGS 84 degrees (east).", 105.0717)],
    lat: Annotated[float, _degrees("lat", "Latitude, WGS 84 degrees (north).", 20.6512)],
    radius_m: Annotated[
        float,
        Query(
            gt=0,
            le=MAX_RADIUS_M,
            description="How far to look for the nearest address and village, in metres.",
            examples=[DEFAULT_RADIUS_M],
        ),
    ] = DEFAULT_RADIUS_M,
    at: Annotated[
        IsoDate | None,
        Query(
            description="A day (YYYY-MM-DD): before 2025-07-01 the units of that day are the main units "
            "(label, units); the 2025 ward is always current_unit.",
            examples=["2024-06-30"],
        ),
    ] = None,
    lang: LangParam = "vi",
) -> Response:
    """One feature at the point: its location code, the commune/ward (2025) and the units before 2025,
    the nearest village and the nearest address (with its registry code) within ``radius_m``.

    A point farther than 2 km from every commune of the database answers 400 (out of territory).
    Answered from the in-memory index; the nearest address from it too while its addresses are
    known to be the database's (seen unchanged within ``DIACHISO_GEOCODE_FRESH_S``), else from
    the database.
    """
    return await reverse_answer(state, ReverseRequest(lon, lat, radius_m=radius_m, at=at, lang=lang))


# --- batch -----------------------------------------------------------------------------------------

DELIMITERS: Final = (",", ";", "\t", "|")


class BatchForm(BaseModel):
    """The multipart form of POST /batch (for the OpenAPI document; the route reads it itself)."""

    file: bytes = Field(description="The CSV file: UTF-8 text (a BOM is fine), header row first.")
    column: list[str] = Field(
        description="The header name of the address column; repeat the field to join several columns "
        "(house number, street, commune...) with ', ' in that order.",
        examples=[["dia_chi"]],
    )
    delimiter: Literal[",", ";", "\t", "|"] = Field(default=",", description="The CSV field separator.")


def _unprocessable(parameter: str, message: str) -> RequestValidationError:
    """A 422 naming the form field at fault, in the app's error shape."""
    return RequestValidationError([{"type": "value_error", "loc": ("body", parameter), "msg": message}])


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"the CSV file is larger than the {limit / 1024 / 1024:g} MB POST /batch accepts", parameter="file"
    )


def _check_declared_size(request: Request, limit: int) -> None:
    """Refuse a body whose Content-Length is over the limit before reading any of it."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)


@dataclass(frozen=True, slots=True)
class BatchUpload:
    """The uploaded CSV file (spooled by the form parser) and how to read it."""

    file: UploadFile
    columns: list[str]
    delimiter: str


async def _read_form(request: Request, limit: int) -> BatchUpload:
    """The file, column(s) and delimiter of the multipart form, checked."""
    form = await request.form(max_files=1, max_fields=20)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise _unprocessable("file", "attach the CSV file as the multipart form field 'file'")
    if upload.size is not None and upload.size > limit:
        raise _too_large(limit)
    columns = [value.strip() for value in form.getlist("column") if isinstance(value, str) and value.strip()]
    if not columns:
        raise _unprocessable("column", "name the address column (form field 'column'; repeat it for several)")
    delimiter = form.get("delimiter", ",")
    if delimiter not in DELIMITERS:
        raise _unprocessable("delimiter", f"use one of {', '.join(map(repr, DELIMITERS))}")
    return BatchUpload(upload, columns, str(delimiter))


def _scan_rows(reader: Iterator[list[str]], columns: list[str]) -> None:
    """Check the header names the columns, then read every row (a malformed row raises csv.Error)."""
    header = next(reader, None)
    if not header:
        raise _unprocessable("file", "the CSV file is empty: no header row")
    try:
        address_columns(header, columns)
    except InvalidParameterError as error:
        raise _unprocessable("column", str(error).removeprefix("column: ")) from None
    for _row in reader:
        pass


def check_csv(upload: BatchUpload) -> None:
    """Read the whole file once before answering: a bad file is a 422, never a cut-off answer."""
    text = io.TextIOWrapper(upload.file.file, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=upload.delimiter, strict=True)
    try:
        _scan_rows(reader, upload.columns)
    except csv.Error as error:
        raise _unprocessable(
            "file", f"not a well-formed CSV file: {error} (line {reader.line_num})"
        ) from None
    except UnicodeDecodeError:
        raise _unprocessable(
            "file", f"not UTF-8 text (line {reader.line_num + 1}); save the file as UTF-8"
        ) from None
    finally:
        text.detach()
        upload.file.file.seek(0)


def answer_name(filename: str | None) -> str:
    """The file name of the answer: the upload's, ASCII only, with ``-geocoded``.

    >>> answer_name("Địa chỉ 2024.csv"), answer_name(None)
    ('a_ch_2024-geocoded.csv', 'batch-geocoded.csv')
    """
    stem = (filename or "").rsplit(".", 1)[0]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")[:80]
    return f"{safe or 'batch'}-geocoded.csv"


BATCH_RESPONSES: Final[Responses] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "The same rows in the same order, with the geocoding columns added "
        "(lon, lat, score, match_level, kind, label, commune_code, ..., location_code, registry_code, "
        "..., point_precision, old_units_precision, note, error), streamed as they are geocoded.",
    },
    **error_responses(
        413,
        notes={
            413: "The file is larger than the server accepts.",
            422: "No file, a missing or unknown column, not UTF-8, or not a well-formed CSV file.",
            503: "Every batch slot of this worker is taken (or the database is unavailable): "
            "retry after Retry-After seconds.",
        },
    ),
}


@router.post(
    "/batch",
    summary="Geocode a CSV file",
    response_class=StreamingResponse,
    responses=BATCH_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": BatchForm.model_json_schema()}},
        }
    },
)
async def batch_route(request: Request, state: State) -> StreamingResponse:
    """Geocode the address column(s) of an uploaded CSV file; the answer is the same CSV, row for row.

    The whole file is checked first (UTF-8, well-formed, the column in the header): a bad
    file answers 422 and nothing else. A row that cannot be geocoded (empty, too few
    fields, nothing matches) gets its ``error`` cell filled and the run goes on. Files
    of hundreds of thousands of rows stream back as they are done.
    """
    limit, pool = state.settings.geocode.batch_max_bytes, state.batches
    _check_declared_size(request, limit)
    pool.reserve()
    try:
        upload = await _read_form(request, limit)
        await run_in_threadpool(check_csv, upload)
    except BaseException:
        pool.release()
        raise
    options = BatchOptions(column=tuple(upload.columns), delimiter=upload.delimiter)
    job = BatchJob(upload.file.file, options, name=upload.file.filename)
    pipe = pool.start(state.geocoder, job)
    return StreamingResponse(
        pipe.read_chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{answer_name(upload.file.filename)}"'},
        background=BackgroundTask(upload.file.close),
    )
