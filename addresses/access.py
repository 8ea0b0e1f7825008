"""Whether a principal may write where: the commune of a point or of an address (before and after a move).

Raise :class:`PermissionDeniedError` (403) when the commune is not one of the
principal's. A point outside every commune or an address never issued is left to the
edit itself, which refuses it with its own error (400, 404).

>>> editor = Principal(account_id=1, username="lan", role="editor", commune_ids=frozenset({5}))
>>> check_commune(editor, 5, what="this address")
>>> check_commune(editor, 6, what="this address")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
addresses.errors.PermissionDeniedError: lan may not edit this address: it lies in commune 6, ...
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from addresses.accounts import Principal
from addresses.codes import normalise_registry_code
from addresses.errors import PermissionDeniedError
from addresses.queries import current_commune_id
from addresses.schema import address

__all__ = ["check_address_access", "check_commune", "check_point_access"]


def check_commune(principal: Principal, commune_id: int | None, *, what: str) -> None:
    """Refuse (PermissionDeniedError) a write in a commune the principal does not work in."""
    if commune_id is None or principal.works_in(commune_id):
        return
    name = principal.username
    raise PermissionDeniedError(
        f"{name} may not edit {what}: it lies in commune {commune_id}, which is not one of {name}'s communes"
    )


def check_point_access(conn: Connection, principal: Principal, *, lon: float, lat: float) -> None:
    """Refuse a new or moved point outside the principal's communes."""
    if principal.commune_ids is None:
        return
    check_commune(principal, current_commune_id(conn, lon, lat), what=f"a point at lon={lon}, lat={lat}")


def check_address_access(conn: Connection, principal: Principal, registry_codes: Iterable[str]) -> None:
    """Refuse an edit of addresses outside the principal's communes.

    Called before an edit, and again after a move inside the same transaction: a move out
    of the principal's communes then raises and the whole edit is rolled back.
    """
    if principal.commune_ids is None:
        return
    for text in registry_codes:
        code = normalise_registry_code(text)
        query = select(address.c.commune_id).where(address.c.registry_code == code)
        check_commune(principal, conn.execute(query).scalar(), what=f"address {code}")
