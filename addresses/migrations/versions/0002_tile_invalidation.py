"""Tile invalidation: where data changed, so every tile cache evicts exactly the tiles it touched.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:12:41.118204
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "tile_invalidation",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "layer",
            sa.Text(),
            nullable=False,
            comment="the table whose rows changed: admin_unit, village...",
        ),
        sa.Column(
            "bbox",
            geoalchemy2.types.Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
            comment="where they were and are: a box (or a point) around the changed rows",
        ),
        sa.Column(
            "txid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id())::text::bigint"),
            nullable=False,
            comment="the writing transaction; readers poll by it, so a late commit is never missed",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tile_invalidation")),
        comment="Where data changed, appended by importers and editors; tile caches poll it to evict tiles.",
    )
    op.create_index("ix_tile_invalidation_txid", "tile_invalidation", ["txid"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_tile_invalidation_txid", table_name="tile_invalidation")
    op.drop_table("tile_invalidation")
