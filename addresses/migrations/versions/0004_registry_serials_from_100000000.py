"""Registry serials from 100,000,000 upwards, so no registry code starts with 0 (docs/codes.md).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Move the sequence to at least 100,000,000; serials already issued are kept, never reused."""
    op.execute(
        "SELECT setval('address_registry_serial', "
        "GREATEST(nextval('address_registry_serial'), 100000000), false)"
    )
    op.execute("ALTER SEQUENCE address_registry_serial MINVALUE 100000000 START WITH 100000000")


def downgrade() -> None:
    """Allow small serials again (the sequence keeps its position: serials are never reused)."""
    op.execute("ALTER SEQUENCE address_registry_serial MINVALUE 1 START WITH 1")
