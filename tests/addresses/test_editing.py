"""The editing layer on the real database: versions, rights, validation, history, revert, the feed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from addresses.accounts import Principal
from addresses.codes import encode
from addresses.editing import (
    FeatureEdit,
    StatusChange,
    change_status,
    create_feature,
    read_feature,
    update_feature,
)
from addresses.errors import (
    ConflictError,
    DuplicateFeatureError,
    EditForbiddenError,
    EditRefusedError,
    RevertConflictError,
    StaleVersionError,
)
from addresses.feed import Changeset, events_after, last_seq
from addresses.history import (
    ChangesetWrite,
    FieldChange,
    changeset_view,
    feature_history,
    proposals,
    revert_changeset,
)
from addresses.schema import admin_unit, change_event, feature_version, place, tile_invalidation
from tests.accounts import create_account


@dataclass(frozen=True)
class Commune:
    """A current commune with a polygon and two points well inside it."""

    id: int
    code: str
    lon: float
    lat: float
    lon2: float
    lat2: float


def _communes(conn: Connection, count: int) -> list[Commune]:
    """Current communes with polygons, each with two interior points about 300 m apart."""
    inner = func.ST_Buffer(func.Geography(admin_unit.c.geom), -600)
    point = func.ST_PointOnSurface(func.geometry(inner))
    query = (
        select(admin_unit.c.id, admin_unit.c.code, func.ST_X(point), func.ST_Y(point))
        .where(admin_unit.c.level == 3, admin_unit.c.valid_to.is_(None), admin_unit.c.geom.is_not(None))
        .where(func.ST_Area(func.Geography(admin_unit.c.geom)) > 20e6)
        .order_by(admin_unit.c.code)
        .limit(count)
    )
    found = []
    for unit_id, code, lon, lat in conn.execute(query):
        moved = conn.execute(
            select(
                func.ST_Contains(
                    admin_unit.c.geom, func.ST_SetSRID(func.ST_MakePoint(lon + 0.003, lat), 4326)
                )
            ).where(admin_unit.c.id == unit_id)
        ).scalar()
        lon2 = lon + 0.003 if moved else lon - 0.003
        found.append(Commune(int(unit_id), str(code), float(lon), float(lat), lon2, float(lat)))
    return found


@dataclass(frozen=True)
class Staff:
    editor: Principal
    approver: Principal
    admin: Principal
    home: Commune
    away: Commune


@pytest.fixture
def staff(conn: Connection) -> Staff:
    home, away = _communes(conn, 2)
    return Staff(
        editor=create_account(conn, username="lan", role="editor", communes=[home.id]),
        approver=create_account(conn, username="hoa", role="approver", communes=[home.id]),
        admin=create_account(conn, username="root", role="admin"),
        home=home,
        away=away,
    )


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def _counts(conn: Connection) -> tuple[int, ...]:
    tables = (feature_version, change_event, tile_invalidation)
    return tuple(int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables)


@pytest.fixture
def write(conn: Connection) -> Any:
    """Run one write in its own changeset (closed, like a request's), in a savepoint."""

    def run(principal: Principal, work: Any, comment: str | None = None) -> Any:
        with conn.begin_nested():
            cs = Changeset(conn, principal, comment=comment)
            result = work(cs)
            cs.close()
        return result

    return run


def _new_address(write: Any, who: Principal, commune: Commune, number: str = "12A", **extra: Any) -> Any:
    properties = {"house_number": number, "street": "Đường Thử", **extra}
    return write(
        who,
        lambda cs: create_feature(
            cs, "addresses", properties=properties, geometry=_point(commune.lon, commune.lat)
        ),
    )


def test_an_editor_proposes_an_address_with_codes_commune_version_event_and_tiles(
    conn: Connection, staff: Staff, write: Any
) -> None:
    before_seq, before = last_seq(conn), _counts(conn)
    created = _new_address(write, staff.editor, staff.home)
    assert created.status == "proposed"
    assert created.version == 1
    assert created.properties["commune_id"] == staff.home.id
    assert created.properties["location_code"] == encode(staff.home.lon, staff.home.lat)
    assert len(created.key) == 10
    assert created.key == created.properties["registry_code"]
    after = _counts(conn)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
    assert after[2] > before[2]
    page = events_after(conn, after=before_seq)
    assert [(e.dataset, e.feature_id, e.version, e.action) for e in page.events] == [
        ("addresses", created.id, 1, "create")
    ]
    assert page.last_seq == before_seq + 1


def test_rights_are_checked_role_and_commune(conn: Connection, staff: Staff, write: Any) -> None:
    viewer = create_account(conn, username="xem", role="viewer")
    with pytest.raises(EditForbiddenError, match="needs the role editor"):
        _new_address(write, viewer, staff.home)
    with pytest.raises(EditForbiddenError, match="outside the communes assigned to lan") as caught:
        _new_address(write, staff.editor, staff.away)
    assert "nằm ngoài" in caught.value.message_vi
    created = _new_address(write, staff.editor, staff.home)
    with pytest.raises(EditForbiddenError, match="approver"):
        write(
            staff.editor,
            lambda cs: change_status(
                cs, "addresses", created.key, expected_version=1, change=StatusChange("approve")
            ),
        )
    other = create_account(conn, username="khac", role="approver", communes=[staff.away.id])
    with pytest.raises(EditForbiddenError):
        write(
            other,
            lambda cs: change_status(
                cs, "addresses", created.key, expected_version=1, change=StatusChange("approve")
            ),
        )
    with pytest.raises(EditForbiddenError, match="units"):
        write(
            staff.editor,
            lambda cs: update_feature(
                cs, "units", staff.home.id, expected_version=1, edit=FeatureEdit(properties={})
            ),
        )
    moved = _point(staff.away.lon, staff.away.lat)
    with pytest.raises(EditForbiddenError, match="new position"):
        write(
            staff.editor,
            lambda cs: update_feature(
                cs,
                "addresses",
                created.key,
                expected_version=1,
                edit=FeatureEdit(properties={}, geometry=moved),
            ),
        )
    assert read_feature(conn, "addresses", created.key).version == 1


def test_a_stale_write_is_refused_with_the_current_feature_and_changes_nothing(
    conn: Connection, staff: Staff, write: Any
) -> None:
    created = _new_address(write, staff.admin, staff.home)
    write(
        staff.admin,
        lambda cs: update_feature(
            cs, "addresses", created.key, expected_version=1, edit=FeatureEdit(properties={"alley": "5"})
        ),
    )
    before = _counts(conn)
    with pytest.raises(StaleVersionError) as caught:
        write(
            staff.admin,
            lambda cs: update_feature(
                cs, "addresses", created.key, expected_version=1, edit=FeatureEdit(properties={"alley": "7"})
            ),
        )
    assert caught.value.state is not None
    assert caught.value.state["properties"]["alley"] == "5"
    assert caught.value.state["properties"]["version"] == 2
    assert _counts(conn) == before
    assert read_feature(conn, "addresses", created.key).properties["alley"] == "5"


def test_moving_an_address_rederives_its_codes_and_marks_old_and_new_tiles(
    conn: Connection, staff: Staff, write: Any
) -> None:
    created = _new_address(write, staff.admin, staff.home)
    marks = int(conn.execute(select(func.count()).select_from(tile_invalidation)).scalar_one())
    target = _point(staff.away.lon, staff.away.lat)
    moved = write(
        staff.admin,
        lambda cs: update_feature(
            cs, "addresses", created.key, expected_version=1, edit=FeatureEdit(properties={}, geometry=target)
        ),
    )
    assert moved.version == 2
    assert moved.key == created.key
    assert moved.properties["commune_id"] == staff.away.id
    assert moved.properties["location_code"] == encode(staff.away.lon, staff.away.lat)
    boxes = conn.execute(
        select(func.ST_XMin(tile_invalidation.c.bbox), func.ST_YMin(tile_invalidation.c.bbox))
        .where(tile_invalidation.c.layer == "address")
        .order_by(tile_invalidation.c.id.desc())
        .limit(int(conn.execute(select(func.count()).select_from(tile_invalidation)).scalar_one()) - marks)
    ).all()
    corners = {(round(x, 5), round(y, 5)) for x, y in boxes}
    assert (round(staff.home.lon, 5), round(staff.home.lat, 5)) in corners
    assert (round(staff.away.lon, 5), round(staff.away.lat, 5)) in corners


def test_validation_speaks_english_and_vietnamese(conn: Connection, staff: Staff, write: Any) -> None:
    with pytest.raises(EditRefusedError, match="house_number: 'mười hai' is not a house number") as bad:
        _new_address(write, staff.editor, staff.home, number="mười hai")
    assert bad.value.parameter == "house_number"
    assert "không phải số nhà" in bad.value.message_vi
    with pytest.raises(EditRefusedError, match="house_number: is required") as missing:
        write(
            staff.editor,
            lambda cs: create_feature(
                cs, "addresses", properties={}, geometry=_point(staff.home.lon, staff.home.lat)
            ),
        )
    assert missing.value.message_vi == "house_number: là bắt buộc với addresses"
    with pytest.raises(EditRefusedError, match="outside the province") as outside:
        write(
            staff.admin,
            lambda cs: create_feature(
                cs, "addresses", properties={"house_number": "1"}, geometry=_point(105.85, 21.03)
            ),
        )
    assert "nằm ngoài tỉnh" in outside.value.message_vi
    with pytest.raises(EditRefusedError, match="colour: is not a field of places"):
        write(
            staff.admin,
            lambda cs: create_feature(
                cs, "places", properties={"colour": "red"}, geometry=_point(staff.home.lon, staff.home.lat)
            ),
        )
    with pytest.raises(EditRefusedError, match="geometry: must be a Point"):
        write(
            staff.admin,
            lambda cs: create_feature(
                cs,
                "addresses",
                properties={"house_number": "1"},
                geometry={"type": "LineString", "coordinates": [[105, 20], [105.1, 20.1]]},
            ),
        )


def test_a_probable_duplicate_is_refused_unless_confirmed(conn: Connection, staff: Staff, write: Any) -> None:
    first = _new_address(write, staff.admin, staff.home, number="77")
    near = _point(staff.home.lon + 0.00002, staff.home.lat)
    with pytest.raises(DuplicateFeatureError) as caught:
        write(
            staff.admin,
            lambda cs: create_feature(cs, "addresses", properties={"house_number": "77"}, geometry=near),
        )
    assert caught.value.duplicate == first.key
    assert "trùng" in caught.value.message_vi
    other = write(
        staff.admin,
        lambda cs: create_feature(cs, "addresses", properties={"house_number": "79"}, geometry=near),
    )
    assert other.status == "active"
    confirmed = write(
        staff.admin,
        lambda cs: create_feature(
            cs, "addresses", properties={"house_number": "77"}, geometry=near, confirm_duplicate=True
        ),
    )
    assert confirmed.key != first.key


def test_approval_queue_approve_and_reject_with_a_comment(conn: Connection, staff: Staff, write: Any) -> None:
    one = _new_address(write, staff.editor, staff.home, number="3")
    two = _new_address(write, staff.editor, staff.home, number="5")
    queue = {feature.key for feature in proposals(conn, staff.approver)}
    assert {one.key, two.key} <= queue
    approved = write(
        staff.approver,
        lambda cs: change_status(
            cs, "addresses", one.key, expected_version=1, change=StatusChange("approve")
        ),
    )
    assert (approved.status, approved.version) == ("active", 2)
    with pytest.raises(EditRefusedError, match="comment"):
        write(
            staff.approver,
            lambda cs: change_status(
                cs, "addresses", two.key, expected_version=1, change=StatusChange("reject")
            ),
        )
    rejected = write(
        staff.approver,
        lambda cs: change_status(cs, "addresses", two.key, expected_version=1, change=StatusChange("reject")),
        comment="không có nhà ở đây",
    )
    assert rejected.status == "retired"
    with pytest.raises(ConflictError, match="cannot approve"):
        write(
            staff.approver,
            lambda cs: change_status(
                cs, "addresses", one.key, expected_version=2, change=StatusChange("approve")
            ),
        )
    assert {one.key, two.key}.isdisjoint(feature.key for feature in proposals(conn, staff.approver))
    _, versions = feature_history(conn, "addresses", two.key)
    assert [(v.action, v.comment) for v in versions] == [("create", None), ("reject", "không có nhà ở đây")]


def test_history_diffs_changeset_view_and_revert(conn: Connection, staff: Staff, write: Any) -> None:
    existing = conn.execute(
        select(place.c.id, place.c.name, place.c.version)
        .where(place.c.status == "active", place.c.commune_id == staff.home.id)
        .limit(1)
    ).first()
    assert existing is not None, "the bundled data has places in the first commune"
    key = str(existing.id)
    renamed = write(
        staff.admin,
        lambda cs: update_feature(
            cs,
            "places",
            key,
            expected_version=existing.version,
            edit=FeatureEdit(properties={"name": "Chợ Mới"}),
        ),
        comment="tên mới",
    )
    feature, versions = feature_history(conn, "places", key)
    assert feature.version == existing.version + 1
    assert [v.action for v in versions] == ["import", "update"]
    assert versions[0].diff is None
    source = conn.execute(select(place.c.source).where(place.c.id == existing.id)).scalar_one()
    assert (versions[0].author, versions[0].comment) == (f"import:{source}", None)  # not the editor's
    assert versions[1].diff is not None
    assert versions[1].diff.fields == {"name": FieldChange(existing.name, "Chợ Mới")}
    assert not versions[1].diff.geometry_moved
    assert versions[1].comment == "tên mới"
    assert versions[1].author == "root"
    view = changeset_view(conn, versions[1].changeset_id)
    assert view.writes == (ChangesetWrite("places", key, renamed.version, "update"),)
    assert view.bbox is not None
    assert view.kind == "edit"

    with pytest.raises(EditForbiddenError):
        revert_changeset(conn, staff.editor, view.id, comment=None)
    reverted_id = revert_changeset(conn, staff.admin, view.id, comment="nhầm")
    after = read_feature(conn, "places", key)
    assert after.properties["name"] == existing.name
    assert after.version == existing.version + 2
    revert_view = changeset_view(conn, reverted_id)
    assert (revert_view.kind, revert_view.reverts_id) == ("revert", view.id)
    with pytest.raises(RevertConflictError, match="was changed after it"):
        revert_changeset(conn, staff.admin, view.id, comment=None)


def test_units_for_admins_boundaries_rederive_area_and_validity(
    conn: Connection, staff: Staff, write: Any
) -> None:
    version = int(
        conn.execute(select(admin_unit.c.version).where(admin_unit.c.id == staff.home.id)).scalar_one()
    )
    box = 0.01
    square = {
        "type": "Polygon",
        "coordinates": [
            [
                [staff.home.lon - box, staff.home.lat - box],
                [staff.home.lon + box, staff.home.lat - box],
                [staff.home.lon + box, staff.home.lat + box],
                [staff.home.lon - box, staff.home.lat + box],
                [staff.home.lon - box, staff.home.lat - box],
            ]
        ],
    }
    changed = write(
        staff.admin,
        lambda cs: update_feature(
            cs,
            "units",
            staff.home.id,
            expected_version=version,
            edit=FeatureEdit(properties={"name_en": "Test"}, geometry=square),
        ),
    )
    assert changed.geometry is not None
    assert changed.geometry["type"] == "MultiPolygon"
    assert 4 < changed.properties["area_km2"] < 6
    ended = write(
        staff.admin,
        lambda cs: change_status(
            cs, "units", staff.home.id, expected_version=version + 1, change=StatusChange("retire")
        ),
    )
    assert ended.properties["valid_to"] is not None
    with pytest.raises(ConflictError):
        write(
            staff.admin,
            lambda cs: change_status(
                cs, "units", staff.home.id, expected_version=version + 2, change=StatusChange("retire")
            ),
        )
