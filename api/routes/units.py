"""Administrative units of both periods: list, one by code (with geometry and lineage), convert old units."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from addresses import units
from addresses.limits import DEFAULT_PAGE_SIZE
from api.deps import Db, MaxLimit
from api.responses import ERROR_RESPONSES
from api.schemas import (
    ConversionModel,
    DepartureModel,
    IsoDate,
    LineageLinkModel,
    UnitDetailModel,
    UnitModel,
    UnitPageModel,
)

router = APIRouter(prefix="/units", tags=["administrative units"])

AtParam = Annotated[
    IsoDate | None,
    Query(
        description="A day (YYYY-MM-DD): only units valid then. Units are valid from valid_from "
        "(inclusive) to valid_to (exclusive); 2025-07-01 is the first day of the new units.",
        examples=["2024-01-01"],
    ),
]


@router.get("", response_model=UnitPageModel, summary="List administrative units", responses=ERROR_RESPONSES)
def list_units(
    *,
    db: Db,
    max_limit: MaxLimit,
    level: Annotated[
        int | None,
        Query(ge=1, le=3, description="1 province, 2 district, 3 commune/ward.", examples=[3]),
    ] = None,
    at: AtParam = None,
    parent: Annotated[
        str | None,
        Query(description="GSO code of the parent unit (e.g. 148 Thành phố Hòa Bình).", examples=["148"]),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            description="Name search, accents and case ignored ('hoa binh' finds 'Hòa Bình' and 'Hoà Bình'); "
            "digits match the start of the code.",
            examples=["hoa binh"],
        ),
    ] = None,
    limit: Annotated[
        int,
        Query(ge=1, description="Page size, at most the server's maximum (1000 by default).", examples=[50]),
    ] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, description="Units to skip.", examples=[0])] = 0,
) -> UnitPageModel:
    """Units of both periods, ordered by level, code and period (older first)."""
    with db.read() as conn:
        page = units.list_units(
            conn,
            query=units.UnitQuery(
                level=level, at=at, parent_code=parent, q=q, limit=limit, offset=offset, max_limit=max_limit
            ),
        )
    return UnitPageModel(
        items=[UnitModel.model_validate(unit) for unit in page.units],
        number_matched=page.number_matched,
        number_returned=len(page.units),
        limit=page.limit,
        offset=page.offset,
    )


@router.get(
    "/convert",
    response_model=ConversionModel,
    summary="Present-day successors of an old unit",
    responses=ERROR_RESPONSES,
)
def convert(
    *,
    db: Db,
    code: Annotated[
        str | None,
        Query(
            description="GSO code of the old unit (a code reused in 2025 means the old unit).",
            examples=["04891"],
        ),
    ] = None,
    name: Annotated[
        str | None,
        Query(
            description="Name of the old unit, with or without type word and accents.", examples=["Cao Sơn"]
        ),
    ] = None,
    district: Annotated[
        str | None, Query(description="Its district (when the name is not unique).", examples=["Lương Sơn"])
    ] = None,
    province: Annotated[str | None, Query(description="Its province.", examples=["Hòa Bình"])] = None,
    at: Annotated[
        IsoDate | None,
        Query(
            description="A day (YYYY-MM-DD) the old unit existed on, when its code or name named units of "
            "several periods (e.g. 04918: Xã Trung Minh of huyện Kỳ Sơn until 2009).",
            examples=["2019-06-01"],
        ),
    ] = None,
) -> ConversionModel:
    """The unit(s) an old unit's area belongs to now, through every change since 2008.

    A 2019 commune goes through its 2020 commune to the 2025 unit(s) (``via`` lists the
    steps); a split commune gives several successors, each partial. Give ``code``, or
    ``name`` (with ``district`` and ``province`` when the name is ambiguous).
    """
    with db.read() as conn:
        conversion = units.convert_unit(
            conn, unit=units.UnitName(code=code, name=name, district=district, province=province), at=at
        )
    return ConversionModel.model_validate(conversion)


@router.get(
    "/{code}",
    response_model=UnitDetailModel,
    summary="One unit by GSO code, with geometry and lineage",
    responses=ERROR_RESPONSES,
)
def get_unit(
    *,
    db: Db,
    code: Annotated[
        str, Path(description="GSO code: 2 digits province, 3 district, 5 commune.", examples=["04795"])
    ],
    at: AtParam = None,
) -> UnitDetailModel:
    """The unit a code names on ``at``, else the current one, else the latest (``resolution`` says which)."""
    with db.read() as conn:
        detail = units.get_unit(conn, code, at=at)
        history = units.lineage(conn, detail.unit.id)
    return UnitDetailModel(
        unit=UnitModel.model_validate(detail.unit),
        geometry=detail.geometry,
        label_point=detail.label_point,
        resolution=detail.resolution,
        note=detail.note,
        other_periods=[UnitModel.model_validate(unit) for unit in detail.other_periods],
        predecessors=[LineageLinkModel.model_validate(link) for link in history.predecessors],
        successors=[LineageLinkModel.model_validate(link) for link in history.successors],
        departure=None if history.departure is None else DepartureModel.model_validate(history.departure),
    )
