"""Liveness (cheap, no database) and readiness with a summary of what the database holds."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

import geocoder
from addresses import queries
from api.deps import AppState, Db, State
from api.responses import ERROR_RESPONSES

router = APIRouter(tags=["service"])


class Liveness(BaseModel):
    """That the process answers; says nothing of the database."""

    status: str


class IndexStatus(BaseModel):
    """The geocoder index of the worker process that answered."""

    pid: int = Field(description="The worker process.")
    source: str = Field(
        description="Where its address arrays are: 'database' (read into this process) or the folder of "
        "the memory-mapped files every worker shares."
    )
    addresses: int = Field(description="Addresses in the index.")
    fingerprint: list[Any] = Field(
        description="Largest address, history and change-log ids it was built from."
    )
    addresses_fresh: bool = Field(description="Whether /reverse reads the nearest address from memory now.")
    compiled: bool = Field(
        description="Whether the geocoder's hot modules run compiled (the mypyc build of these very "
        "sources, `make native`) or as pure Python."
    )


class Status(BaseModel):
    """Whether the database answers, its schema revision, and what is loaded."""

    status: str
    schema_revision: str | None
    counts: dict[str, int]
    index: IndexStatus | None = None


LIVE = Liveness(status="ok")


@router.get("/health", response_model=Liveness, summary="Liveness: the process answers")
def health() -> Liveness:
    """Answer 200 at once, without touching the database (for load balancers and probes)."""
    return LIVE


@router.get(
    "/status",
    response_model=Status,
    summary="Readiness: database, schema revision and row counts",
    responses=ERROR_RESPONSES,
)
def status(db: Db, state: State) -> Status:
    """Answer 200 with the schema revision, row counts and this worker's index; 503 when the database
    does not answer."""
    with db.connect() as conn:
        return Status(
            status="ok",
            schema_revision=queries.schema_revision(conn),
            counts=queries.table_counts(conn),
            index=_index_status(state),
        )


def _index_status(app: AppState) -> IndexStatus:
    index = app.geocoder
    state = index.state
    return IndexStatus(
        pid=os.getpid(),
        source=state.source,
        addresses=len(state.houses),
        fingerprint=list(state.fingerprint.addresses),
        addresses_fresh=index.addresses_fresh(app.settings.geocode.fresh_s),
        compiled=geocoder.NATIVE.compiled,
    )
