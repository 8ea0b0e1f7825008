"""Health and summary of what the database holds."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from addresses import queries
from api.deps import Db
from api.schemas import ERROR_RESPONSES

router = APIRouter(tags=["service"])


class Health(BaseModel):
    """Whether the service and its database work, and what is loaded."""

    status: str
    schema_revision: str | None
    counts: dict[str, int]


@router.get(
    "/health", response_model=Health, summary="Service and database health", responses=ERROR_RESPONSES
)
def health(db: Db) -> Health:
    """Answer 200 with the schema revision and row counts when the database answers, else 503."""
    with db.connect() as conn:
        return Health(
            status="ok",
            schema_revision=queries.schema_revision(conn),
            counts=queries.table_counts(conn),
        )
