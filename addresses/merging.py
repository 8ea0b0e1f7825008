"""Merging addresses: several retired at once into one that stays, as one changeset of kind merge.

A merge is an edit like the others (:mod:`addresses.editing`): the caller opens a
:class:`addresses.feed.Changeset` of kind ``merge`` whose comment is the reason, and
closes it last. Each address merged is retired pointing to the one kept (a
``feature_version`` of action ``retire``); the one kept gets a version of action
``merge``, so the merge shows in the history of both and in the change feed (which the
geocoder's refresher follows). Tiles of every address touched are invalidated. All or
nothing: one address that cannot be retired fails the whole merge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func

from addresses import edit_checks
from addresses.codes import normalise_registry_code
from addresses.datasets import get_dataset
from addresses.editing import Feature, apply_write, read_feature
from addresses.errors import InvalidParameterError, InvalidSuccessorError, StatusTransitionError
from addresses.feed import Changeset
from addresses.queries import AddressRecord, address_records

__all__ = ["MergeResult", "merge_addresses"]

_RETIRED_HINT: Final = "a retired address never changes; look up its registry code for its successor"
_PROPOSED_HINT: Final = "only an active address can be retired: approve it first"


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The address kept by a merge and the addresses retired into it (in the order given)."""

    survivor: AddressRecord
    retired: tuple[AddressRecord, ...]


def distinct_codes(registry_codes: Iterable[str]) -> list[str]:
    """Return canonical registry codes without repeats, in the order given; refuse none.

    >>> distinct_codes(["1000-000-005", "1000000005 ", "1000 000 018"])
    ['1000000005', '1000000018']
    """
    codes = list(dict.fromkeys(normalise_registry_code(code) for code in registry_codes))
    if not codes:
        raise InvalidParameterError("registry_codes", "name at least one address to merge")
    return codes


def _locked(cs: Changeset, code: str) -> Feature:
    """Lock an address and check the principal works in its commune."""
    found = read_feature(cs.conn, "addresses", code, lock=True)
    where = f"address {found.key}", f"địa chỉ {found.key}"
    edit_checks.check_commune(cs.principal, found.commune_id, where=where[0], where_vi=where[1])
    return found


def _check_mergeable(merged: Feature, survivor: Feature) -> None:
    """Refuse merging an address into itself, one not active, or into a retired address."""
    if merged.id == survivor.id:
        raise InvalidSuccessorError(merged.key, survivor.key, reason="self")
    if merged.status != "active":
        hint = _RETIRED_HINT if merged.status == "retired" else _PROPOSED_HINT
        raise StatusTransitionError(merged.key, current=str(merged.status), action="retire", detail=hint)
    if survivor.status == "retired":
        detail = "choose the address in force that replaced it"
        raise InvalidSuccessorError(merged.key, survivor.key, reason="retired", detail=detail)


def merge_addresses(cs: Changeset, registry_codes: Iterable[str], *, into: str) -> MergeResult:
    """Retire the addresses of ``registry_codes`` into ``into`` in the changeset ``cs`` (kind merge).

    Needs an editor working in the communes of every address named. Refused whole when
    one cannot be retired: proposed or retired (StatusTransitionError), ``into`` itself or
    ``into`` retired (InvalidSuccessorError), a code never issued (NotFoundError).
    """
    codes = distinct_codes(registry_codes)
    spec = get_dataset("addresses")
    edit_checks.check_role(cs.principal, edit_checks.WRITE_ROLE[spec.name], action="merge addresses")
    survivor = _locked(cs, into)
    retired: list[int] = []
    for code in codes:
        merged = _locked(cs, code)
        _check_mergeable(merged, survivor)
        values = {"status": "retired", "retired_at": func.now(), "successor_id": survivor.id}
        retired.append(apply_write(cs, spec, merged, values, "retire").id)
    apply_write(cs, spec, survivor, {}, "merge")
    kept = address_records(cs.conn, ids=[survivor.id])[0]
    return MergeResult(survivor=kept, retired=tuple(address_records(cs.conn, ids=retired)))
