"""Merging addresses on the real database: one changeset of kind merge, versions, events, history, tiles."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, func, select

from addresses.accounts import Principal
from addresses.editing import read_feature
from addresses.errors import (
    EditForbiddenError,
    InvalidParameterError,
    InvalidSuccessorError,
    NotFoundError,
    StatusTransitionError,
)
from addresses.feed import Changeset, events_after, last_seq
from addresses.history import FieldChange, feature_history
from addresses.merging import MergeResult, merge_addresses
from addresses.queries import AddressRecord
from addresses.registry import lookup_registry
from addresses.schema import address, change_event, changeset, feature_version, tile_invalidation
from tests.accounts import create_account
from tests.records import TESTER, new_address, retire_address

HOA_BINH = (105.338, 20.817)
UNISSUED = "9999999980"


def _three(conn: Connection) -> list[AddressRecord]:
    return [
        new_address(conn, HOA_BINH[0] + i * 0.0001, HOA_BINH[1], house_number=str(i + 1)) for i in range(3)
    ]


def _merge(
    conn: Connection, codes: list[str], into: str, *, who: Principal = TESTER, reason: str = "same house"
) -> MergeResult:
    """Merge in a changeset of kind merge, in a savepoint (as the route does in its transaction)."""
    with conn.begin_nested():
        merging = Changeset(conn, who, comment=reason, kind="merge")
        result = merge_addresses(merging, codes, into=into)
        merging.close()
    return result


def _counts(conn: Connection) -> tuple[int, ...]:
    tables = (changeset, feature_version, change_event)
    return tuple(int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables)


def test_a_merge_is_one_changeset_with_a_version_and_an_event_per_address(conn: Connection) -> None:
    a, b, keep = _three(conn)
    start = last_seq(conn)
    result = _merge(conn, [a.registry_code_display, b.registry_code, a.registry_code], keep.registry_code)
    assert result.survivor.id == keep.id
    assert result.survivor.version == 2  # the merge is in its history
    assert [r.id for r in result.retired] == [a.id, b.id]
    assert all(r.status == "retired" and r.successor_id == keep.id and r.version == 2 for r in result.retired)
    events = events_after(conn, after=start).events
    assert [(e.feature_id, e.version, e.action) for e in events] == [
        (a.id, 2, "retire"),
        (b.id, 2, "retire"),
        (keep.id, 2, "merge"),
    ]
    assert len({e.changeset_id for e in events}) == 1
    kind, comment, author = conn.execute(
        select(changeset.c.kind, changeset.c.comment, changeset.c.author).where(
            changeset.c.id == events[0].changeset_id
        )
    ).one()
    assert (kind, comment, author) == ("merge", "same house", TESTER.username)
    for merged in (a, b):
        found = lookup_registry(conn, merged.registry_code)
        assert found.successor is not None
        assert found.successor.id == keep.id
        assert found.reason == "same house"


def test_the_merge_shows_in_the_history_of_both_addresses(conn: Connection) -> None:
    a, _, keep = _three(conn)
    _merge(conn, [a.registry_code], keep.registry_code)
    for record, action in ((a, "retire"), (keep, "merge")):
        _, versions = feature_history(conn, "addresses", record.registry_code)
        last = versions[-1]
        assert (last.version, last.action, last.author, last.comment) == (
            2,
            action,
            TESTER.username,
            "same house",
        )
    _, merged = feature_history(conn, "addresses", a.registry_code)
    assert merged[-1].diff is not None
    assert merged[-1].diff.fields["status"] == FieldChange("active", "retired")
    assert merged[-1].diff.fields["successor_id"] == FieldChange(None, keep.id)


def test_a_merge_invalidates_the_tiles_of_every_address_touched(conn: Connection) -> None:
    a, b, keep = _three(conn)
    before = conn.execute(select(func.coalesce(func.max(tile_invalidation.c.id), 0))).scalar_one()
    _merge(conn, [a.registry_code, b.registry_code], keep.registry_code)
    box = tile_invalidation.c.bbox
    touched = select(func.ST_XMin(box), func.ST_XMax(box)).where(
        tile_invalidation.c.layer == "address", tile_invalidation.c.id > before
    )
    boxes = list(conn.execute(touched))
    assert len(boxes) >= 3
    for record in (a, b, keep):
        assert any(west <= record.lon <= east for west, east in boxes)


def test_a_merge_is_all_or_nothing(conn: Connection) -> None:
    a, b, keep = _three(conn)
    retire_address(conn, b.registry_code, reason="demolished")
    before = _counts(conn)
    with pytest.raises(StatusTransitionError, match="never changes"):
        _merge(conn, [a.registry_code, b.registry_code], keep.registry_code)
    with pytest.raises(InvalidSuccessorError, match="itself"):
        _merge(conn, [a.registry_code, keep.registry_code], keep.registry_code)
    with pytest.raises(InvalidSuccessorError, match="is retired"):
        _merge(conn, [a.registry_code], b.registry_code)
    with pytest.raises(NotFoundError):
        _merge(conn, [a.registry_code], UNISSUED)
    with pytest.raises(InvalidParameterError, match="at least one"):
        _merge(conn, [], keep.registry_code)
    proposed = new_address(conn, HOA_BINH[0], HOA_BINH[1] + 0.0002, house_number="9", status="proposed")
    before = _counts(conn)
    with pytest.raises(StatusTransitionError, match="approve it first"):
        _merge(conn, [proposed.registry_code], keep.registry_code)
    assert _counts(conn) == before  # no changeset, version or event was left behind
    status = select(address.c.status, address.c.version).where(address.c.id.in_([a.id, keep.id]))
    assert sorted(conn.execute(status)) == [("active", 1), ("active", 1)]


def test_a_merge_needs_an_editor_of_every_commune_involved(conn: Connection) -> None:
    a, _, keep = _three(conn)
    elsewhere = new_address(conn, 105.0833, 20.6601, house_number="4")  # Xã Mai Châu
    home = read_feature(conn, "addresses", keep.registry_code).commune_id
    assert home is not None
    editor = create_account(conn, username="lan", role="editor", communes=[home])
    viewer = create_account(conn, username="mai", role="viewer", communes=[home])
    with pytest.raises(EditForbiddenError, match="editor"):
        _merge(conn, [a.registry_code], keep.registry_code, who=viewer)
    with pytest.raises(EditForbiddenError):
        _merge(conn, [elsewhere.registry_code], keep.registry_code, who=editor)
    assert _merge(conn, [a.registry_code], keep.registry_code, who=editor).retired[0].id == a.id
