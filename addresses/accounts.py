"""Who is writing: roles, the principal behind a request, and what a role may touch.

The roles form a ladder: ``viewer`` reads; ``editor`` also creates and changes
addresses, villages and places inside the communes assigned to them; ``approver``
also approves or rejects proposals there; ``admin`` may do everything everywhere,
including units, boundaries and accounts. Accounts, passwords, sessions and tokens
are stored in the tables ``account``, ``account_commune``, ``api_token``,
``login_session`` and ``login_attempt`` (addresses/schema.py).

>>> editor = Principal(account_id=7, username="lan", role="editor", commune_ids=frozenset({12}))
>>> editor.at_least("editor"), editor.at_least("approver"), editor.works_in(12), editor.works_in(13)
(True, False, True, False)
>>> SYSTEM.works_in(13), SYSTEM.at_least("admin")
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

from addresses.schema import ROLES

__all__ = ["ROLE_RANK", "SYSTEM", "Principal", "Role", "Via"]

Role = Literal["viewer", "editor", "approver", "admin"]
"""A staff role; each may do what the ones before it may (see the module docstring)."""

Via = Literal["session", "token", "cli", "import"]
"""How the principal proved who it is: a viewer log-in, an API token, the command line, an import."""

ROLE_RANK: Final[dict[str, int]] = {role: rank for rank, role in enumerate(ROLES)}
assert tuple(get_args(Role)) == ROLES, "Role and schema.ROLES must list the same roles"


@dataclass(frozen=True, slots=True)
class Principal:
    """The account behind one write, with the role and communes it acts with.

    ``commune_ids`` is None for "every commune" (admins, the CLI, imports); a token
    scoped to fewer communes than its account carries only those.
    """

    account_id: int | None
    username: str
    role: Role
    commune_ids: frozenset[int] | None
    via: Via = "session"

    def at_least(self, role: Role) -> bool:
        """Whether this principal's role is ``role`` or one above it."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    def works_in(self, commune_id: int | None) -> bool:
        """Whether this principal may write in the commune (None: outside every commune)."""
        if self.commune_ids is None:
            return True
        return commune_id is not None and commune_id in self.commune_ids


SYSTEM: Final = Principal(account_id=None, username="system", role="admin", commune_ids=None, via="cli")
"""The command line and imports: every commune, every dataset, recorded as author "system"."""
