"""Merges are edits like the others: a changeset of kind merge, a feature_version of action merge.

The address kept by a merge gets a version of action ``merge`` (so it shows in its
history and in the change feed); those retired into it get one of action ``retire``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

_KINDS = "'edit', 'review', 'revert', 'import'"
_ACTIONS = "'create', 'update', 'retire', 'restore', 'approve', 'reject', 'import'"


def _constraints(kinds: str, actions: str, comments: tuple[str, str]) -> None:
    """Replace the checks of changeset.kind and feature_version.action, and their comments."""
    op.drop_constraint(op.f("ck_changeset_kind"), "changeset", type_="check")
    op.create_check_constraint(op.f("ck_changeset_kind"), "changeset", f"kind IN ({kinds})")
    op.alter_column("changeset", "kind", comment=comments[0])
    op.drop_constraint(op.f("ck_feature_version_action"), "feature_version", type_="check")
    op.create_check_constraint(op.f("ck_feature_version_action"), "feature_version", f"action IN ({actions})")
    op.alter_column("feature_version", "action", comment=comments[1])


def upgrade() -> None:
    """Allow the kind and the action merge."""
    comments = (
        "edit, review, revert, import or merge",
        "create, update, retire, restore, approve, reject, import or merge",
    )
    _constraints(f"{_KINDS}, 'merge'", f"{_ACTIONS}, 'merge'", comments)


def downgrade() -> None:
    """Refuse them again (fails while merges are stored)."""
    comments = (
        "edit, review, revert or import",
        "create, update, retire, restore, approve, reject or import",
    )
    _constraints(_KINDS, _ACTIONS, comments)
