"""Liveness (cheap, no database) and readiness with a summary of what the database holds."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from addresses import queries
from api.deps import Db
from api.responses import ERROR_RESPONSES

router = APIRouter(tags=["service"])


class Liveness(BaseModel):
    """That the process answers; says nothing of the database."""

    status: str


class Status(BaseModel):
    """Whether the database answers, its schema revision, and what is loaded."""

    status: str
    schema_revision: str | None
    counts: dict[str, int]


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
def status(db: Db) -> Status:
    """Answer 200 with the schema revision and row counts; 503 when the database does not answer."""
    with db.connect() as conn:
        return Status(
            status="ok",
            schema_revision=queries.schema_revision(conn),
            counts=queries.table_counts(conn),
        )
