"""Lineage says what changed (merged, split, renamed, moved, transferred out), by which act, how surely.

The 2008-2021 changes of Hòa Bình (reorg_2020.json) are loaded into the same tables as
the 2025 reorganisation; a commune transferred to Hà Nội in 2008 has no successor here,
so ``successor_id`` may be NULL for that change only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

CHANGES = (
    "change IN ('merged', 'split', 'renamed', 'district_changed', 'district_dissolved', 'transferred_out')"
)


def upgrade() -> None:
    """Add change, legal_basis, confidence and note; allow no successor for a transfer out."""
    op.add_column(
        "unit_lineage",
        sa.Column(
            "change",
            sa.Text(),
            nullable=False,
            server_default="merged",
            comment="merged, split, renamed, district_changed, district_dissolved or transferred_out",
        ),
    )
    op.add_column(
        "unit_lineage",
        sa.Column("legal_basis", sa.Text(), nullable=True, comment="the act, e.g. 830/NQ-UBTVQH14"),
    )
    op.add_column(
        "unit_lineage",
        sa.Column(
            "confidence",
            sa.Text(),
            nullable=True,
            comment="high, medium or low: how well the sources support the link",
        ),
    )
    op.add_column(
        "unit_lineage",
        sa.Column(
            "note",
            sa.Text(),
            nullable=True,
            comment="which part went where (splits), where a transferred unit went",
        ),
    )
    op.execute("UPDATE unit_lineage SET change = 'split' WHERE kind = 'partial'")
    op.alter_column(
        "unit_lineage",
        "successor_id",
        existing_type=sa.Integer(),
        nullable=True,
        comment="NULL only when the unit left the province (change transferred_out)",
    )
    op.drop_constraint(op.f("uq_unit_lineage_predecessor_id_successor_id"), "unit_lineage", type_="unique")
    op.create_unique_constraint(
        op.f("uq_unit_lineage_predecessor_id_successor_id"),
        "unit_lineage",
        ["predecessor_id", "successor_id"],
        postgresql_nulls_not_distinct=True,
    )
    op.create_check_constraint(op.f("ck_unit_lineage_change"), "unit_lineage", CHANGES)
    op.create_check_constraint(
        op.f("ck_unit_lineage_confidence"),
        "unit_lineage",
        "confidence IS NULL OR confidence IN ('high', 'medium', 'low')",
    )
    op.create_check_constraint(
        op.f("ck_unit_lineage_successor"),
        "unit_lineage",
        "successor_id IS NOT NULL OR change = 'transferred_out'",
    )


def downgrade() -> None:
    """Drop the new columns; refused while transfers out (links without a successor) are recorded."""
    transfers = op.get_bind().execute(sa.text("SELECT count(*) FROM unit_lineage WHERE successor_id IS NULL"))
    if transfers.scalar_one():
        raise RuntimeError("unit_lineage holds transfers out (no successor): the old schema cannot hold them")
    op.drop_constraint(op.f("ck_unit_lineage_successor"), "unit_lineage", type_="check")
    op.drop_constraint(op.f("ck_unit_lineage_confidence"), "unit_lineage", type_="check")
    op.drop_constraint(op.f("ck_unit_lineage_change"), "unit_lineage", type_="check")
    op.alter_column("unit_lineage", "successor_id", existing_type=sa.Integer(), nullable=False, comment=None)
    op.drop_constraint(op.f("uq_unit_lineage_predecessor_id_successor_id"), "unit_lineage", type_="unique")
    op.create_unique_constraint(
        op.f("uq_unit_lineage_predecessor_id_successor_id"),
        "unit_lineage",
        ["predecessor_id", "successor_id"],
    )
    for column in ("note", "confidence", "legal_basis", "change"):
        op.drop_column("unit_lineage", column)
