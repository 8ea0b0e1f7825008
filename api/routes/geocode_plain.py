"""Plain GET /search, /autocomplete and /reverse, answered without FastAPI's parameter machinery.

Nearly every geocoding request is plain: known parameters, each once, written the usual
way (``limit=5``, ``lat=20.65``, ``lang=en``). For those, FastAPI's routing through the
included routers, its dependency solving and its parameter validation were most of the
event loop's work: measured with callgrind on the benchmark's requests (answer cache off),
the event-loop thread ran 1.95 million instructions per /search before these routes, 0.76
million with them (a cached tile: 1.03 million), and a /reverse took 2.83 million in all
before, 1.60 million with them (:func:`api.routes.geocode.reverse_answer` computing it on
the event loop too). A :class:`PlainRoute`, placed before every other route, reads such a
query itself and answers it with the very functions of :mod:`api.routes.geocode` (same
request objects, same answer cache, same bytes, same errors through the same handlers).
Anything else (an unknown or repeated parameter, an empty value, a number written another
way, a value out of range, a bad ``bbox``...) is not matched here: the documented FastAPI
route answers it, its OpenAPI description and its error messages unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from typing import Final, Generic, TypeVar, get_args

from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from addresses.errors import InvalidParameterError
from api.deps import AppState, app_state_of
from api.percent import unquote_text
from api.routes.geocode import (
    MAX_QUERY_CHARS,
    MAX_RESULTS,
    Near,
    ReverseRequest,
    SearchParams,
    SearchRequest,
    SearchType,
    autocomplete_answer,
    reverse_answer,
    search_answer,
)
from api.schemas import ISO_DAY
from geocoder.geocodejson import Lang
from geocoder.reverse import DEFAULT_RADIUS_M, MAX_RADIUS_M
from geocoder.search import SearchFilters

Values = dict[str, list[str]]
"""A query's parameters: each name with its values, in order."""
Asked = TypeVar("Asked")

ASKED: Final = "diachiso.asked"
"""The scope key where a plain route leaves the request it read (for its endpoint)."""
SEARCH_NAMES: Final = frozenset({"q", "limit", "unit", "type", "bbox", "lat", "lon", "lang"})
UNFILTERED_NAMES: Final = frozenset({"q", "limit", "lang"})
"""The parameters of a search asking for no filter."""
NO_FILTERS: Final = SearchFilters()
"""The filters of a search asking for none (immutable, shared)."""
REVERSE_NAMES: Final = frozenset({"lon", "lat", "radius_m", "at", "lang"})
SEARCH_TYPES: Final[dict[str, SearchType]] = {kind: kind for kind in get_args(SearchType)}
LANGS: Final[dict[str, Lang]] = {lang: lang for lang in get_args(Lang)}

PLAIN_COUNT: Final = re.compile(r"[1-9][0-9]?")
"""A count written plainly: no sign, no leading zero, no spaces."""
PLAIN_NUMBER: Final = re.compile(r"-?[0-9]{1,5}(?:\.[0-9]{1,15})?")
"""A decimal number written plainly (degrees, metres): no exponent, no spaces, at most 15 decimals."""


class NotPlainError(Exception):
    """The request is not plain: the documented FastAPI route reads it (and answers any error)."""


def query_values(query_string: bytes) -> Values:
    """The parameters of a query string, read as Starlette reads them for FastAPI.

    >>> query_values(b"q=x%C3%B3m+L%C3%A1c&type=village&type=street&lang=")
    {'q': ['xóm Lác'], 'type': ['village', 'street'], 'lang': ['']}
    """
    values: Values = {}
    for part in query_string.decode("latin-1").split("&"):
        if part:  # what urllib.parse.parse_qsl(..., keep_blank_values=True) reads, without its generality
            name, _, value = part.partition("=")
            values.setdefault(_unquoted(name), []).append(_unquoted(value))
    return values


def _unquoted(text: str) -> str:
    """A name or value of a query as :func:`urllib.parse.parse_qsl` decodes it ('+' a space, escapes UTF-8).

    >>> _unquoted("x%C3%B3m+L%C3%A1c"), _unquoted("5"), _unquoted("%FF")
    ('xóm Lác', '5', '\ufffd')
    """
    text = text.replace("+", " ")
    return unquote_text(text)


def single(values: Values, name: str) -> str | None:
    """The one value of a parameter, None when absent; not plain when repeated or empty.

    >>> single({"q": ["xom"]}, "q"), single({}, "q")
    ('xom', None)
    """
    given = values.get(name)
    if given is None:
        return None
    if len(given) != 1 or not given[0]:
        raise NotPlainError(name)
    return given[0]


def plain_number(values: Values, name: str, *, low: float, high: float) -> float | None:
    """A plainly written number within [low, high] (None when absent).

    >>> plain_number({"lat": ["20.65"]}, "lat", low=-90, high=90)
    20.65
    >>> plain_number({"lat": ["2e1"]}, "lat", low=-90, high=90)
    Traceback (most recent call last):
    api.routes.geocode_plain.NotPlainError: lat
    """
    text = single(values, name)
    if text is None:
        return None
    if not PLAIN_NUMBER.fullmatch(text) or not low <= float(text) <= high:
        raise NotPlainError(name)
    return float(text)


def plain_limit(values: Values) -> int:
    """``limit``, 1 to :data:`MAX_RESULTS` written plainly (10 when absent).

    >>> plain_limit({"limit": ["5"]}), plain_limit({})
    (5, 10)
    """
    text = single(values, "limit")
    if text is None:
        return 10
    if not PLAIN_COUNT.fullmatch(text) or int(text) > MAX_RESULTS:
        raise NotPlainError("limit")
    return int(text)


def plain_lang(values: Values) -> Lang:
    """``lang``: vi or en (vi when absent)."""
    text = single(values, "lang")
    if text is None:
        return "vi"
    if text not in LANGS:
        raise NotPlainError("lang")
    return LANGS[text]


def plain_types(values: Values) -> tuple[SearchType, ...] | None:
    """The ``type`` values, each a known kind (None when absent)."""
    given = values.get("type")
    if given is None:
        return None
    if not SEARCH_TYPES.keys() >= set(given):
        raise NotPlainError("type")
    return tuple(SEARCH_TYPES[value] for value in given)


def _only(values: Values, names: frozenset[str]) -> None:
    if not names.issuperset(values):
        raise NotPlainError("an unknown parameter")


def read_search(values: Values) -> SearchRequest:
    """A plain /search or /autocomplete request, as :func:`api.routes.geocode.search_request` reads it."""
    _only(values, SEARCH_NAMES)
    text = single(values, "q")
    if text is None or len(text) > MAX_QUERY_CHARS:
        raise NotPlainError("q")
    if UNFILTERED_NAMES.issuperset(values):  # no filter asked (the usual): what SearchParams.asked makes
        return SearchRequest(text, plain_limit(values), NO_FILTERS, plain_lang(values))
    near = Near(
        lon=plain_number(values, "lon", low=-180, high=180),
        lat=plain_number(values, "lat", low=-90, high=90),
    )
    params = SearchParams(
        text,
        plain_limit(values),
        unit=single(values, "unit"),
        types=plain_types(values),
        bbox=single(values, "bbox"),
        near=near,
    )
    try:
        return params.asked(plain_lang(values))
    except InvalidParameterError as error:
        raise NotPlainError(error.parameter) from None


def plain_day(values: Values) -> dt.date | None:
    """``at``, a day written YYYY-MM-DD (None when absent).

    >>> plain_day({"at": ["2024-06-30"]})
    datetime.date(2024, 6, 30)
    """
    text = single(values, "at")
    if text is None:
        return None
    if not ISO_DAY.fullmatch(text):
        raise NotPlainError("at")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise NotPlainError("at") from None


def read_reverse(values: Values) -> ReverseRequest:
    """A plain /reverse request, as :func:`api.routes.geocode.reverse_route` reads it."""
    _only(values, REVERSE_NAMES)
    lon = plain_number(values, "lon", low=-180, high=180)
    lat = plain_number(values, "lat", low=-90, high=90)
    radius_m = plain_number(values, "radius_m", low=0, high=MAX_RADIUS_M)
    if lon is None or lat is None or radius_m == 0:
        raise NotPlainError("lon, lat or radius_m")
    radius = DEFAULT_RADIUS_M if radius_m is None else radius_m
    return ReverseRequest(lon, lat, radius_m=radius, at=plain_day(values), lang=plain_lang(values))


class PlainEndpoint(Generic[Asked]):
    """The ASGI app of a plain route: the request its route read, answered by ``answer``.

    An ASGI app rather than a ``request -> response`` function: Starlette would wrap a
    function in a :class:`~starlette.requests.Request` and an exception handler of its own
    for every request; an exception raised here reaches the app's same handlers through
    its exception middleware instead.
    """

    def __init__(self, answer: Callable[[AppState, Asked], Awaitable[Response]]) -> None:
        """Answer with ``answer``."""
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the answer of the request the route read into the scope."""
        response = await self.answer(app_state_of(scope["app"]), scope[ASKED])
        await response(scope, receive, send)


class PlainRoute(Route, Generic[Asked]):
    """A GET route matching only the plain requests ``read`` reads; ``answer`` answers them.

    Not in the OpenAPI document (the FastAPI route of the same path documents it). A request
    ``read`` refuses (:class:`NotPlainError`) does not match: routing goes on to that route.
    """

    def __init__(
        self,
        path: str,
        read: Callable[[Values], Asked],
        answer: Callable[[AppState, Asked], Awaitable[Response]],
    ) -> None:
        """Route GET ``path``'s plain requests (read by ``read``) to ``answer``."""
        super().__init__(path, PlainEndpoint(answer), methods=["GET"], include_in_schema=False)
        self.read = read

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """FULL for a plain GET of the path (the request read into the child scope), else NONE."""
        if scope["type"] != "http" or scope["method"] != "GET" or not str(scope["path"]).endswith(self.path):
            return Match.NONE, {}  # every other request, for a comparison (the path may have a root)
        match, child_scope = super().matches(scope)
        if match != Match.FULL:
            return Match.NONE, {}
        try:
            asked = self.read(query_values(scope.get("query_string", b"")))
        except NotPlainError:
            return Match.NONE, {}
        return Match.FULL, {**child_scope, ASKED: asked}


def plain_routes() -> list[Route]:
    """The plain routes of /search, /autocomplete and /reverse (placed before every other route)."""
    return [
        PlainRoute("/search", read_search, search_answer),
        PlainRoute("/autocomplete", read_search, autocomplete_answer),
        PlainRoute("/reverse", read_reverse, reverse_answer),
    ]
