"""Vector tiles: the layer list, a TileJSON 3.0.0 document per layer, and the MVT tiles.

A tile answers 200 with ``application/vnd.mapbox-vector-tile`` (gzip-encoded when the
client accepts it, as browsers do), or **204 No Content** when the layer has nothing
there (or does not draw at that zoom): MapLibre and Leaflet take 204 as an empty
tile. Every answer carries a weak ETag (a hash of the MVT bytes) and Cache-Control;
``If-None-Match`` answers 304. A cached tile is answered on the event loop without
touching the database (but for the once-a-second look at what changed); the others
are built by a few worker threads, each with its own connection (:mod:`tiles.workers`). While the database
is unreachable a tile in the cache is still served (nothing can change it meanwhile);
one that is not answers 503.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import Db, State
from api.responses import ERROR_RESPONSES, GEOJSON_ROUTE_ERROR_RESPONSES
from tiles.cache import EncodedTile
from tiles.layers import LAYERS, Layer, get_layer
from tiles.tilejson import tilejson
from tiles.tilematrix import MAX_ZOOM, tile_id

MVT_MEDIA_TYPE: Final = "application/vnd.mapbox-vector-tile"
TILE_ROUTE: Final = "vector_tile"
TILEJSON_ROUTE: Final = "vector_tilejson"

router = APIRouter(prefix="/tiles", tags=["tiles"])


class LayerSummary(BaseModel):
    """A tile layer: what it shows, its zooms and attributes, where its TileJSON and tiles are."""

    id: str
    description: str
    minzoom: int
    maxzoom: int
    fields: dict[str, str]
    tilejson: str
    tiles: str


def tiles_url(request: Request, layer: Layer) -> str:
    """The layer's absolute tile URL template, ``.../{z}/{x}/{y}.mvt``, as the client reached us."""
    url = str(request.url_for(TILE_ROUTE, layer=layer.name, z="{z}", x="{x}", y="{y}"))
    return url.replace("%7B", "{").replace("%7D", "}")


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip.

    >>> accepts_gzip("gzip, deflate, br"), accepts_gzip("br;q=1, gzip;q=0"), accepts_gzip(None)
    (True, False, False)
    """
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names the ETag (weak comparison, as RFC 9110 asks for it).

    >>> etag_matches('"abc", W/"def"', 'W/"def"'), etag_matches('"abc"', 'W/"abc"'), etag_matches("*", '"x"')
    (True, True, True)
    """
    if not if_none_match:
        return False
    opaque = etag.removeprefix("W/")
    return any(tag.strip() in ("*", etag, opaque, f"W/{opaque}") for tag in if_none_match.split(","))


def tile_response(request: Request, encoded: EncodedTile, *, max_age: int) -> Response:
    """The HTTP answer for a tile: 304 if the client has it, 204 if empty, else the MVT bytes."""
    headers = {"ETag": encoded.etag, "Cache-Control": f"public, max-age={max_age}", "Vary": "Accept-Encoding"}
    if etag_matches(request.headers.get("if-none-match"), encoded.etag):
        return Response(status_code=304, headers=headers)
    if encoded.empty:
        return Response(status_code=204, headers=headers)
    if accepts_gzip(request.headers.get("accept-encoding")):
        headers["Content-Encoding"] = "gzip"
        return Response(encoded.gzip, media_type=MVT_MEDIA_TYPE, headers=headers)
    return Response(encoded.mvt(), media_type=MVT_MEDIA_TYPE, headers=headers)


@router.get("", summary="Vector tile layers", responses=ERROR_RESPONSES)
def list_layers(request: Request) -> list[LayerSummary]:
    """Every tile layer with its zooms, attributes, TileJSON and tile URL template."""
    return [
        LayerSummary(
            id=layer.name,
            description=layer.description,
            minzoom=layer.minzoom,
            maxzoom=layer.maxzoom,
            fields=dict(layer.fields),
            tilejson=str(request.url_for(TILEJSON_ROUTE, layer=layer.name)),
            tiles=tiles_url(request, layer),
        )
        for layer in LAYERS.values()
    ]


@router.get(
    "/{layer}.json",
    name=TILEJSON_ROUTE,
    summary="TileJSON 3.0.0 of a tile layer",
    response_model=dict[str, Any],
    responses=ERROR_RESPONSES,
)
def layer_tilejson(request: Request, state: State, layer: str, db: Db) -> JSONResponse:
    """The layer's TileJSON: absolute tile URL template, zooms, bounds of its data, fields."""
    found = get_layer(layer)
    with db.read() as conn:
        bounds = state.tiles.store.bounds(conn, layer=found)
    document = tilejson(found, tiles_url=tiles_url(request, found), bounds=bounds)
    max_age = state.settings.tiles.max_age
    return JSONResponse(document, headers={"Cache-Control": f"public, max-age={max_age}"})


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    name=TILE_ROUTE,
    summary="A vector tile (Mapbox Vector Tile)",
    response_class=Response,
    responses={
        200: {"content": {MVT_MEDIA_TYPE: {}}, "description": "The tile."},
        204: {"description": "Nothing in this tile (or the layer does not draw at this zoom)."},
        304: {"description": "The client's copy (If-None-Match) is current."},
        **GEOJSON_ROUTE_ERROR_RESPONSES,
    },
)
async def vector_tile(
    *,
    request: Request,
    state: State,
    layer: str,
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM, description="zoom")],
    x: Annotated[int, Path(ge=0, description="column, from the west")],
    y: Annotated[int, Path(ge=0, description="row, from the north")],
) -> Response:
    """One tile of a layer, from the in-process cache or built in PostGIS."""
    found, tile = get_layer(layer), tile_id(z, x, y)
    workers = state.tiles
    encoded = workers.store.cached(found, tile)
    if encoded is None:
        encoded = await workers.tile_or_stale(found, tile)
    return tile_response(request, encoded, max_age=state.settings.tiles.max_age)
