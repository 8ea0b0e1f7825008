"""OGC API Features (Part 1 Core, Part 2 CRS) under /ogc: thin glue over addresses.features."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from addresses import features
from addresses.errors import InvalidParameterError
from addresses.features import CollectionInfo, Feature, FeaturePage
from addresses.limits import FEATURES_PAGE_SIZE
from api.deps import Db, MaxLimit
from api.responses import ERROR_RESPONSES, GEOJSON, GEOJSON_ROUTE_ERROR_RESPONSES, JSON, GeoJSONResponse
from api.schemas import (
    CollectionModel,
    Collections,
    Conformance,
    Extent,
    FeatureCollectionModel,
    FeatureItem,
    FeatureModel,
    LandingPage,
    Link,
    SpatialExtent,
    TemporalExtent,
)

router = APIRouter(prefix="/ogc", tags=["OGC API Features"])

CONFORMANCE: Final = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
)
PAGING_PARAMETERS: Final = frozenset({"bbox", "bbox-crs", "crs", "limit", "offset", "datetime", "f"})
FILTERS: Final = (
    "code",
    "level",
    "parent_code",
    "commune_code",
    "status",
    "category",
    "kind",
    "registry_code",
)
BBOX_PATTERN: Final = r"^\s*-?\d+(\.\d+)?(\s*,\s*-?\d+(\.\d+)?){3}((\s*,\s*-?\d+(\.\d+)?){2})?\s*$"
CRS_LIST: Final = ", ".join(crs.uri for crs in features.SUPPORTED_CRS)

CollectionId = Annotated[
    str,
    Path(
        alias="collectionId",
        description=f"The collection: {', '.join(features.COLLECTIONS)}; any other answers 404.",
        examples=["villages"],
        json_schema_extra={"enum": list(features.COLLECTIONS)},
    ),
]
CONTENT_CRS: Final = {
    "Content-Crs": {
        "description": "The CRS URI of the geometries, in angle brackets.",
        "schema": {"type": "string"},
    }
}
CRS_DOC: Final = (
    f"CRS of the geometries in the answer (Part 2), one of {CRS_LIST}. Default CRS84 (lon, lat); "
    "EPSG:4326 is lat, lon. EPSG:9211 is VN-2000 / TM-3 106-00 through the official EPSG:6960 "
    "parameters, transformed in PostGIS."
)
FORMAT_DOC: Final = "Output format: only json (GeoJSON) is served."
CRS_URIS: Final = [crs.uri for crs in features.SUPPORTED_CRS]
CRS_ENUM: Final[dict[str, Any]] = {"enum": CRS_URIS}
CrsParam = Annotated[
    str | None, Query(description=CRS_DOC, examples=[CRS_URIS[3]], json_schema_extra=CRS_ENUM)
]
FormatParam = Annotated[str | None, Query(description=FORMAT_DOC, examples=["json"])]


def _url(request: Request, name: str, **path: str) -> str:
    """The absolute URL of a named route."""
    return str(request.url_for(name, **path))


def _check_format(f: str | None) -> None:
    """Refuse any output format but JSON."""
    if f is not None and f.lower() not in ("json", "geojson"):
        raise InvalidParameterError("f", f"only json is served, not {f!r}")


def _reject_unknown(request: Request, allowed: frozenset[str]) -> None:
    """OGC Core: a query parameter the API does not define is a 400."""
    for name in request.query_params:
        if name not in allowed:
            raise InvalidParameterError(name, "unknown query parameter")


@router.get(
    "",
    response_model=LandingPage,
    summary="Landing page",
    responses=ERROR_RESPONSES,
    response_model_exclude_none=True,
    name="ogc_landing",
)
def landing(request: Request, f: FormatParam = None) -> LandingPage:
    """Links to the API definition, the conformance declaration and the collections."""
    _check_format(f)
    return LandingPage(
        title="diachiso OGC API Features",
        description="Addresses, villages, places and administrative units of Hoa Binh (Phu Tho).",
        links=[
            Link(href=_url(request, "ogc_landing"), rel="self", type=JSON, title="This document"),
            Link(
                href=str(request.url_for("openapi")),
                rel="service-desc",
                type="application/vnd.oai.openapi+json;version=3.1",
                title="The API definition",
            ),
            Link(href=str(request.base_url) + "docs", rel="service-doc", type="text/html", title="API docs"),
            Link(href=_url(request, "ogc_conformance"), rel="conformance", type=JSON, title="Conformance"),
            Link(href=_url(request, "ogc_collections"), rel="data", type=JSON, title="Collections"),
        ],
    )


@router.get(
    "/conformance",
    response_model=Conformance,
    summary="Conformance classes",
    responses=ERROR_RESPONSES,
    response_model_exclude_none=True,
    name="ogc_conformance",
)
def conformance(f: FormatParam = None) -> Conformance:
    """The OGC API conformance classes implemented: Core, GeoJSON, OpenAPI 3.0, CRS."""
    _check_format(f)
    return Conformance(conforms_to=list(CONFORMANCE))


def _collection_model(request: Request, info: CollectionInfo) -> CollectionModel:
    """A collection with its links and extents, for /collections and /collections/{id}."""
    temporal = None
    if info.temporal is not None:
        intervals = [[None if day is None else day.isoformat() for day in period] for period in info.temporal]
        temporal = TemporalExtent(interval=intervals)
    spatial = None if info.bbox is None else SpatialExtent(bbox=[list(info.bbox)])
    self_url = _url(request, "ogc_collection", collectionId=info.id)
    return CollectionModel(
        id=info.id,
        title=info.title,
        description=info.description,
        links=[
            Link(href=self_url, rel="self", type=JSON, title=info.title),
            Link(
                href=_url(request, "ogc_items", collectionId=info.id),
                rel="items",
                type=GEOJSON,
                title=f"{info.title}: features",
            ),
        ],
        extent=Extent(spatial=spatial, temporal=temporal),
        crs=list(info.crs),
        storage_crs=info.storage_crs,
    )


@router.get(
    "/collections",
    response_model=Collections,
    summary="Feature collections",
    responses=ERROR_RESPONSES,
    response_model_exclude_none=True,
    name="ogc_collections",
)
def collections(request: Request, db: Db, f: FormatParam = None) -> Collections:
    """Every collection, with its spatial (and for units temporal) extent computed from the data."""
    _check_format(f)
    with db.read() as conn:
        found = features.list_collections(conn)
    return Collections(
        links=[Link(href=_url(request, "ogc_collections"), rel="self", type=JSON, title="The collections")],
        collections=[_collection_model(request, info) for info in found],
        crs=[crs.uri for crs in features.SUPPORTED_CRS],
    )


@router.get(
    "/collections/{collectionId}",
    response_model=CollectionModel,
    summary="One feature collection",
    responses=ERROR_RESPONSES,
    response_model_exclude_none=True,
    name="ogc_collection",
)
def collection(
    request: Request, db: Db, collection_id: CollectionId, f: FormatParam = None
) -> CollectionModel:
    """One collection: title, extents, the CRSs it offers, a link to its items."""
    _check_format(f)
    with db.read() as conn:
        info = features.collection(conn, collection_id)
    return _collection_model(request, info)


def _feature_model(feature: Feature) -> FeatureModel:
    """A library feature as the response model."""
    return FeatureModel(id=feature.id, geometry=feature.geometry, properties=feature.properties)


def _page_links(request: Request, page: FeaturePage) -> list[Link]:
    """self, collection, and next/prev links of a page of items."""
    links = [
        Link(href=str(request.url), rel="self", type=GEOJSON, title="This page"),
        Link(
            href=_url(request, "ogc_collection", collectionId=page.collection),
            rel="collection",
            type=JSON,
            title="The collection",
        ),
    ]
    if page.has_next:
        following = request.url.include_query_params(
            offset=page.offset + page.number_returned, limit=page.limit
        )
        links.append(Link(href=str(following), rel="next", type=GEOJSON, title="Next page"))
    if page.offset > 0:
        previous = request.url.include_query_params(offset=max(page.offset - page.limit, 0), limit=page.limit)
        links.append(Link(href=str(previous), rel="prev", type=GEOJSON, title="Previous page"))
    return links


def _filter_doc(name: str) -> str:
    """Describe a property filter and the collections that accept it."""
    accepting = [
        (spec.id, queryable.description)
        for spec in features.COLLECTIONS.values()
        for queryable in spec.queryables
        if queryable.name == name
    ]
    described = "; ".join(f"{collection_id}: {text}" for collection_id, text in accepting)
    return f"Keep features whose {name} equals this ({described}). Other collections answer 400."


def _filter(name: str, example: str) -> Any:
    """The field of one property filter."""
    return Field(default=None, description=_filter_doc(name), examples=[example])


class ItemsQuery(BaseModel):
    """The query parameters of /collections/{collectionId}/items."""

    model_config = ConfigDict(populate_by_name=True)

    bbox: str | None = Field(
        default=None,
        description="minx,miny,maxx,maxy (or 6 numbers with heights) in bbox-crs and its axis order; "
        "features intersecting it are kept.",
        examples=["105.30,20.78,105.40,20.88"],
        json_schema_extra={"pattern": BBOX_PATTERN},
    )
    bbox_crs: str | None = Field(
        default=None,
        alias="bbox-crs",
        description=f"CRS of bbox (Part 2), one of {CRS_LIST}; default CRS84.",
        examples=[CRS_URIS[3]],
        json_schema_extra=CRS_ENUM,
    )
    crs: str | None = Field(
        default=None, description=CRS_DOC, examples=[CRS_URIS[3]], json_schema_extra=CRS_ENUM
    )
    limit: int = Field(
        default=FEATURES_PAGE_SIZE,
        description="Page size, at least 1; values above the server's maximum (1000 by default) are "
        "reduced to it.",
        examples=[10],
        json_schema_extra={"minimum": 1},
    )
    offset: int = Field(
        default=0,
        description="Features to skip (see the next link).",
        examples=[0],
        json_schema_extra={"minimum": 0},
    )
    datetime: str | None = Field(
        default=None,
        description="Units only: keep units valid on this day or during this interval, e.g. 2024-01-01, "
        "2025-07-01/.., ../2025-06-30 (days in Vietnam, UTC+7). Ignored by other collections.",
        examples=["2024-01-01"],
    )
    f: str | None = Field(default=None, description=FORMAT_DOC, examples=["json"])
    code: str | None = _filter("code", "04795")
    level: str | None = _filter("level", "3")
    parent_code: str | None = _filter("parent_code", "148")
    commune_code: str | None = _filter("commune_code", "04795")
    status: str | None = _filter("status", "active")
    category: str | None = _filter("category", "amenity")
    kind: str | None = _filter("kind", "school")
    registry_code: str | None = _filter("registry_code", "1000000005")

    def filters(self) -> dict[str, str]:
        """The property filters given."""
        given = {name: getattr(self, name) for name in FILTERS}
        return {name: value for name, value in given.items() if value is not None}


@router.get(
    "/collections/{collectionId}/items",
    response_model=FeatureCollectionModel,
    response_class=GeoJSONResponse,
    summary="Features of a collection",
    responses={
        **GEOJSON_ROUTE_ERROR_RESPONSES,
        200: {
            "description": "A page of features; the Content-Crs header names their CRS.",
            "headers": CONTENT_CRS,
        },
    },
    name="ogc_items",
)
def items(
    *,
    request: Request,
    response: Response,
    db: Db,
    collection_id: CollectionId,
    query: Annotated[ItemsQuery, Query()],
    max_limit: MaxLimit,
) -> FeatureCollectionModel:
    """A page of features, filtered by bbox, validity and properties, geometries in ``crs``."""
    _reject_unknown(request, PAGING_PARAMETERS | set(FILTERS))
    _check_format(query.f)
    with db.read() as conn:
        page = features.items(
            conn,
            collection_id,
            query=features.FeatureQuery(
                bbox=None if query.bbox is None else features.parse_bbox(query.bbox),
                bbox_crs=query.bbox_crs,
                crs=query.crs,
                limit=query.limit,
                offset=query.offset,
                max_limit=max_limit,
                datetime=query.datetime,
                filters=query.filters(),
            ),
        )
    response.headers["Content-Crs"] = f"<{page.crs.uri}>"
    return FeatureCollectionModel(
        features=[_feature_model(feature) for feature in page.features],
        number_matched=page.number_matched,
        number_returned=page.number_returned,
        time_stamp=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        links=_page_links(request, page),
    )


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    response_model=FeatureItem,
    response_class=GeoJSONResponse,
    summary="One feature",
    responses={
        **GEOJSON_ROUTE_ERROR_RESPONSES,
        200: {"description": "The feature; the Content-Crs header names its CRS.", "headers": CONTENT_CRS},
    },
    name="ogc_item",
)
def item(
    *,
    request: Request,
    response: Response,
    db: Db,
    collection_id: CollectionId,
    feature_id: Annotated[
        str,
        Path(
            alias="featureId",
            description="The feature id: in `addresses` the registry code (1000000005 or 1000-000-005), "
            "elsewhere a whole number. A former numeric address id, or another spelling of a registry "
            "code, answers 308 to the feature's own URL; any other answers 404.",
            examples=["1"],
            json_schema_extra={"pattern": "^[0-9][0-9-]{0,19}$"},
        ),
    ],
    crs: CrsParam = None,
    f: FormatParam = None,
) -> FeatureItem | RedirectResponse:
    """One feature by id, geometry in ``crs``; another spelling of its id redirects to its own URL."""
    _reject_unknown(request, frozenset({"crs", "f"}))
    _check_format(f)
    with db.read() as conn:
        feature = features.item(conn, collection_id, feature_id, crs=crs)
    if str(feature.id) != feature_id:  # e.g. an address's former numeric id: the registry code is its id
        own = _url(request, "ogc_item", collectionId=collection_id, featureId=str(feature.id))
        query = request.url.query
        return RedirectResponse(f"{own}?{query}" if query else own, status_code=308)
    response.headers["Content-Crs"] = f"<{features.crs_uri(crs)}>"
    links = [
        Link(href=str(request.url), rel="self", type=GEOJSON, title="This feature"),
        Link(
            href=_url(request, "ogc_collection", collectionId=collection_id),
            rel="collection",
            type=JSON,
            title="The collection",
        ),
    ]
    return FeatureItem(id=feature.id, geometry=feature.geometry, properties=feature.properties, links=links)
