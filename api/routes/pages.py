"""The pages a person opens: the map viewer (``/``, ``/?code=...``) and the API documentation.

Everything a page loads comes from this server: the viewer's JavaScript and the
Swagger UI and ReDoc bundles are npm packages (``api/static/package.json``, installed
by ``npm ci``), so ``/``, ``/docs`` and ``/redoc`` work on an intranet without the
internet. Only the few files the documentation pages need are served, by name.

``/?code=...`` is the URL a plate's QR code holds. It is negotiated on ``Accept``: a
browser (text/html) gets the viewer, which opens on the code; a client asking for
``application/json`` gets the answer of ``/codes/{code}``, one asking for
``application/geo+json`` the address of a registry code as a GeoJSON Feature.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from sqlalchemy import Connection

from addresses.errors import NotFoundError
from addresses.limits import DEFAULT_PAGE_SIZE
from addresses.registry import RegistryLookup, lookup_code
from api.deps import Db
from api.errors import NotInstalledError
from api.responses import GEOJSON, GEOJSON_ROUTE_ERROR_RESPONSES, JSON, GeoJSONResponse
from api.schemas_codes import MAX_CODE_CHARS, address_detail, address_path, location_answer, registry_answer

router = APIRouter()

STATIC_DIR: Final = Path(__file__).resolve().parent.parent / "static"
NODE_MODULES: Final = STATIC_DIR / "node_modules"
HTML: Final = "text/html"

DOCS_ASSETS: Final = {
    "swagger-ui-bundle.js": NODE_MODULES / "swagger-ui-dist" / "swagger-ui-bundle.js",
    "swagger-ui.css": NODE_MODULES / "swagger-ui-dist" / "swagger-ui.css",
    "favicon.png": NODE_MODULES / "swagger-ui-dist" / "favicon-32x32.png",
    "redoc.standalone.js": NODE_MODULES / "redoc" / "bundles" / "redoc.standalone.js",
}
"""The files of the documentation pages, served under /docs-assets/ (and nothing else from there)."""
ASSETS_PATH: Final = "/docs-assets"
DOCS_POLICY: Final = "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'"
"""Content-Security-Policy of the documentation pages: images, fonts and fetches from this server only
(ReDoc's sidebar would fetch its logo from a CDN; the browser now does not even try)."""


def _media_range_quality(accept: str, offer: str) -> float:
    """The quality ``Accept`` gives one media type: that of its most specific matching range.

    >>> _media_range_quality("text/html,application/xml;q=0.9,*/*;q=0.8", "application/json")
    0.8
    >>> _media_range_quality("application/*;q=0.5, application/json", "application/json")
    1.0
    >>> _media_range_quality("text/html", "application/json")
    0.0
    """
    kind = offer.partition("/")[0]
    best: tuple[int, float] = (-1, 0.0)
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        specificity = {offer: 2, f"{kind}/*": 1, "*/*": 0}.get(media.lower())
        if specificity is None or specificity < best[0]:
            continue
        best = (specificity, _q(params))
    return best[1]


def _q(params: list[str]) -> float:
    """The ``q`` parameter of a media range (1 when absent, 0 when unreadable).

    >>> _q(["level=1", "q=0.5"]), _q([]), _q(["q=x"])
    (0.5, 1.0, 0.0)
    """
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def negotiate(accept: str | None, offers: tuple[str, ...]) -> str:
    """The offer ``Accept`` ranks highest; ties (and no header) go to the first offer.

    >>> browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    >>> page_or_json = ("text/html", "application/json")
    >>> negotiate(browser, page_or_json), negotiate("*/*", page_or_json)
    ('text/html', 'text/html')
    >>> negotiate("application/json", page_or_json)
    'application/json'
    >>> negotiate(browser, ("application/geo+json", "text/html")), negotiate(None, ("application/geo+json",))
    ('text/html', 'application/geo+json')
    """
    if not accept:
        return offers[0]
    qualities = [_media_range_quality(accept, offer) for offer in offers]
    return offers[qualities.index(max(qualities))]


# --- the viewer ----------------------------------------------------------------------------------------

VIEWER_OFFERS: Final = (HTML, GEOJSON, JSON)


def _code_json(conn: Connection, code: str, media: str) -> JSONResponse:
    """The JSON answer to a code: /addresses/{code} for GeoJSON of a registry code, else /codes/{code}."""
    found = lookup_code(conn, code, limit=DEFAULT_PAGE_SIZE)
    if not isinstance(found, RegistryLookup):
        return JSONResponse(location_answer(found).model_dump(mode="json"))
    headers = {"ETag": f'"{found.address.version}"'}
    if found.successor is not None:
        headers["Link"] = f'<{address_path(found.successor.registry_code)}>; rel="successor-version"'
    if media == GEOJSON:
        return GeoJSONResponse(address_detail(found).model_dump(mode="json"), headers=headers)
    return JSONResponse(registry_answer(found).model_dump(mode="json"), headers=headers)


@router.get(
    "/",
    tags=["viewer"],
    summary="The map viewer, opened on a code when one is given",
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "The viewer page (text/html); with `code` and `Accept: application/json` "
            "the answer of /codes/{code}, with `Accept: application/geo+json` (a registry code) "
            "the address as a GeoJSON Feature.",
            "content": {JSON: {}, GEOJSON: {}},
        },
        **GEOJSON_ROUTE_ERROR_RESPONSES,
    },
)
def viewer(
    *,
    request: Request,
    db: Db,
    code: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_CODE_CHARS,
            description="A location code or a registry code: the viewer opens on it (the URL of a "
            "plate's QR code). Spaces, dashes and case are ignored.",
            examples=["1000-000-005"],
        ),
    ] = None,
) -> Response:
    """The map viewer; ``/?code=...`` opens it on a code (a plate's QR code holds that URL).

    Content negotiation on ``Accept``, so that one URL serves a phone and a program: a browser
    (``text/html``, or no preference) gets the page, which looks the code up itself and flies to
    it; ``Accept: application/json`` gets the JSON of ``GET /codes/{code}`` (400 mistyped, 404
    never issued), and ``Accept: application/geo+json`` the address of a registry code as the
    GeoJSON Feature of ``GET /addresses/{registry_code}`` (a location code answers as for JSON).
    Without ``code`` the answer is always the page.
    """
    media = negotiate(request.headers.get("accept"), VIEWER_OFFERS)
    if code is None or media == HTML:
        return FileResponse(STATIC_DIR / "index.html", media_type=HTML)
    with db.connect() as conn:
        return _code_json(conn, code, media)


# --- the API documentation -----------------------------------------------------------------------------


def _openapi_url(request: Request) -> str:
    url: str = request.app.openapi_url
    return url


SWAGGER_ASSETS: Final = {
    "swagger_js_url": f"{ASSETS_PATH}/swagger-ui-bundle.js",
    "swagger_css_url": f"{ASSETS_PATH}/swagger-ui.css",
    "swagger_favicon_url": f"{ASSETS_PATH}/favicon.png",
}
REDOC_ASSETS: Final = {
    "redoc_js_url": f"{ASSETS_PATH}/redoc.standalone.js",
    "redoc_favicon_url": f"{ASSETS_PATH}/favicon.png",
}


def _docs_page(request: Request, render: Callable[..., HTMLResponse], **options: object) -> HTMLResponse:
    """A documentation page on the OpenAPI document, its files from :data:`ASSETS_PATH`, under DOCS_POLICY."""
    page = render(openapi_url=_openapi_url(request), title=f"{request.app.title} - API", **options)
    page.headers["Content-Security-Policy"] = DOCS_POLICY
    return page


@router.get("/docs", include_in_schema=False)
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI on the OpenAPI document, from the swagger-ui-dist package (no CDN)."""
    return _docs_page(request, get_swagger_ui_html, **SWAGGER_ASSETS)


@router.get("/redoc", include_in_schema=False)
def redoc(request: Request) -> HTMLResponse:
    """ReDoc on the OpenAPI document, from the redoc package (no CDN, no web fonts)."""
    return _docs_page(request, get_redoc_html, **REDOC_ASSETS, with_google_fonts=False)


@router.get(ASSETS_PATH + "/{name}", include_in_schema=False)
def docs_asset(name: str) -> FileResponse:
    """One of the files of the documentation pages (DOCS_ASSETS), cached for a day."""
    path = DOCS_ASSETS.get(name)
    if path is None:
        raise NotFoundError(f"no documentation asset {name!r}")
    if not path.is_file():
        raise NotInstalledError(f"{path.name} is not installed: run npm ci --prefix api/static")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
