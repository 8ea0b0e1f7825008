"""Health and summary of what the database holds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import Connection

from addresses import queries
from api.deps import connection

router = APIRouter(tags=["service"])


class Health(BaseModel):
    """Whether the service and its database work, and what is loaded."""

    status: str
    schema_revision: str | None
    counts: dict[str, int]


@router.get("/health", response_model=Health, summary="Service and database health")
def health(conn: Annotated[Connection, Depends(connection)]) -> Health:
    """Answer 200 with the schema revision and row counts when the database answers."""
    return Health(
        status="ok",
        schema_revision=queries.schema_revision(conn),
        counts=queries.table_counts(conn),
    )
