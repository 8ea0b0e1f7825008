"""The database schema: the single source of truth, changed only through Alembic migrations.

All geometries are WGS 84 (SRID 4326) with GiST indexes. An administrative unit is
identified by its level, GSO code and validity period, never by the code alone:
GSO codes are reused after the 1 July 2025 reorganisation (04795 was Phường Thịnh
Lang and is now Phường Hòa Bình).
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, ExcludeConstraint

from addresses.types import DEFAULT_STATUS, STATUSES

SRID = 4326

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_STATUS_CHECK = f"status IN ({', '.join(map(repr, STATUSES))})"
"""The statuses every editable dataset shares, as a CHECK (addresses, villages, places)."""

ROLES = ("viewer", "editor", "approver", "admin")
"""Staff roles, each allowed what the one before may do and more (README: "Roles")."""

FIRST_REGISTRY_SERIAL = 100_000_000
"""Serials start here so that no registry code begins with 0 (migration 0004)."""


_ROLE_CHECK = f"role IN ({', '.join(map(repr, ROLES))})"
"""The staff roles as a CHECK (accounts and the API tokens they hold)."""


def _id(type_: type[Integer] | type[BigInteger] = Integer) -> Column[object]:
    """The surrogate key every table but the singletons and link tables starts with."""
    return Column("id", type_, Identity(), primary_key=True)


def _geometry(name: str, kind: str, *, nullable: bool = True, comment: str | None = None) -> Column[object]:
    """A WGS 84 geometry column; its GiST index, where it has one, is declared by the table."""
    return Column(name, Geometry(kind, srid=SRID, spatial_index=False), nullable=nullable, comment=comment)


def _gist(table: str, column: str) -> Index:
    """The GiST index on a table's geometry column, named like the others."""
    return Index(f"ix_{table}_{column}", column, postgresql_using="gist")


def _created_at() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


def _updated_at() -> Column[object]:
    return Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now())


def _source_columns() -> list[Column[object]]:
    """Where a row came from: dataset name (file label or "generated"), its id there, its raw fields."""
    return [
        Column("source", Text, nullable=False),
        Column("source_id", Text, nullable=False),
        Column("raw", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    ]


def _imported_columns() -> list[Column[object]]:
    """The columns every imported dataset ends with: its source, then when the row was made and changed."""
    return [*_source_columns(), _created_at(), _updated_at()]


def _status() -> Column[object]:
    """An editable feature's status (draft, published, retired...: addresses.types.STATUSES)."""
    return Column("status", Text, nullable=False, server_default=DEFAULT_STATUS)


def _version() -> Column[object]:
    """The feature's version, counted up by every write."""
    return Column("version", Integer, nullable=False, server_default="1")


def _retired_at() -> Column[object]:
    return Column("retired_at", DateTime(timezone=True))


def _editable_constraints() -> list[UniqueConstraint | CheckConstraint]:
    """What an editable dataset enforces: one row per source id, a known status."""
    return [UniqueConstraint("source", "source_id"), CheckConstraint(_STATUS_CHECK, name="status")]


def _one_row() -> list[Column[object] | CheckConstraint]:
    """The key of a table that holds one row (a counter): always true, checked."""
    return [
        Column("id", Boolean, primary_key=True, server_default=text("true"), comment="always true: one row"),
        CheckConstraint("id", name="one_row"),
    ]


admin_unit = Table(
    "admin_unit",
    metadata,
    _id(),
    Column("code", String(10), nullable=False, comment="GSO code, as published (e.g. 04795)"),
    Column("level", SmallInteger, nullable=False, comment="1 province, 2 district, 3 commune/ward"),
    Column("unit_type", Text, nullable=False, comment="tỉnh, thành phố, huyện, thị xã, xã, phường..."),
    Column("name", Text, nullable=False, comment="short name, NFC, canonical tone marks"),
    Column("full_name", Text, nullable=False, comment="type + name, e.g. Phường Tân Hòa"),
    Column("name_en", Text),
    Column("parent_id", Integer, ForeignKey("admin_unit.id")),
    Column("valid_from", Date, comment="first day; NULL when the sources do not say"),
    Column("valid_to", Date, comment="exclusive end; NULL while the unit exists"),
    _geometry("geom", "MULTIPOLYGON"),
    _geometry("label_point", "POINT"),
    Column("geom_quality", Text, comment="polygon, point, bbox or none: how precise geom is"),
    Column("population", Integer),
    Column("area_km2", Float),
    _version(),
    *_imported_columns(),
    UniqueConstraint("level", "code", "valid_from", postgresql_nulls_not_distinct=True),
    CheckConstraint("level IN (1, 2, 3)", name="level"),
    CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
    _gist("admin_unit", "geom"),
    _gist("admin_unit", "label_point"),
    Index("ix_admin_unit_parent_id", "parent_id"),
    comment="Administrative units of every level and period, side by side.",
)

admin_unit.append_constraint(
    ExcludeConstraint(
        ("level", "="),
        ("code", "="),
        (func.daterange(admin_unit.c.valid_from, admin_unit.c.valid_to), "&&"),
        using="gist",
        name="ex_admin_unit_code_validity",
    )
)

unit_lineage = Table(
    "unit_lineage",
    metadata,
    _id(),
    Column("predecessor_id", Integer, ForeignKey("admin_unit.id"), nullable=False),
    Column(
        "successor_id",
        Integer,
        ForeignKey("admin_unit.id"),
        comment="NULL only when the unit left the province (change transferred_out)",
    ),
    Column("kind", Text, nullable=False, comment="full: all of the old unit; partial: a part"),
    Column("effective_date", Date, nullable=False),
    Column("source", Text, nullable=False),
    Column(
        "change",
        Text,
        nullable=False,
        server_default="merged",
        comment="merged, split, renamed, district_changed, district_dissolved or transferred_out",
    ),
    Column("legal_basis", Text, comment="the act, e.g. 830/NQ-UBTVQH14"),
    Column("confidence", Text, comment="high, medium or low: how well the sources support the link"),
    Column("note", Text, comment="which part went where (splits), where a transferred unit went"),
    UniqueConstraint("predecessor_id", "successor_id", postgresql_nulls_not_distinct=True),
    CheckConstraint("kind IN ('full', 'partial')", name="kind"),
    CheckConstraint(
        "change IN ('merged', 'split', 'renamed', 'district_changed', 'district_dissolved', "
        "'transferred_out')",
        name="change",
    ),
    CheckConstraint("confidence IS NULL OR confidence IN ('high', 'medium', 'low')", name="confidence"),
    CheckConstraint("successor_id IS NOT NULL OR change = 'transferred_out'", name="successor"),
    Index("ix_unit_lineage_successor_id", "successor_id"),
    comment="Which old unit became which new unit(s) in a reorganisation.",
)

village = Table(
    "village",
    metadata,
    _id(),
    Column("name", Text, nullable=False, comment="NFC, canonical tone marks, with the type word"),
    Column("village_type", Text, comment="thôn, xóm, bản, làng, tổ dân phố, khu..."),
    Column("commune_id", Integer, ForeignKey("admin_unit.id"), comment="the current unit"),
    _geometry("geom", "GEOMETRY", nullable=False),
    _status(),
    _version(),
    _retired_at(),
    *_imported_columns(),
    *_editable_constraints(),
    _gist("village", "geom"),
    Index("ix_village_commune_id", "commune_id"),
    comment="Villages (thôn, xóm, bản, tổ dân phố...) as points or polygons.",
)

place = Table(
    "place",
    metadata,
    _id(),
    Column("name", Text, comment="NULL for unnamed places (e.g. a fuel station)"),
    Column("category", Text, nullable=False, comment="e.g. amenity, tourism, shop"),
    Column("kind", Text, nullable=False, comment="e.g. school, guest_house, fuel"),
    Column("tags", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("house_number", Text),
    Column("street", Text),
    Column("commune_id", Integer, ForeignKey("admin_unit.id")),
    _geometry("geom", "POINT", nullable=False),
    _status(),
    _version(),
    _retired_at(),
    *_imported_columns(),
    *_editable_constraints(),
    _gist("place", "geom"),
    comment="Points of interest with category and tags.",
)

address = Table(
    "address",
    metadata,
    _id(BigInteger),
    _geometry("geom", "POINT", nullable=False),
    Column("house_number", Text, comment="free text: 12A, 40bis, 1806/127/2"),
    Column("alley", Text, comment="ngõ / ngách / hẻm / kiệt"),
    Column("street", Text),
    Column("village_name", Text, comment="the village as the source wrote it"),
    Column("village_id", Integer, ForeignKey("village.id")),
    Column("commune_id", Integer, ForeignKey("admin_unit.id"), comment="the current unit"),
    _status(),
    _version(),
    Column("official_code", Text, comment="a national code the source carried, kept as-is"),
    Column("location_code", String(9), comment="mã vị trí: grid cell code with check character"),
    Column("registry_code", String(10), comment="mã địa chỉ số: 9-digit serial + Damm check digit"),
    Column("successor_id", BigInteger, ForeignKey("address.id"), comment="set when retired"),
    _retired_at(),
    Column("is_generated", Boolean, nullable=False, server_default="false"),
    *_imported_columns(),
    *_editable_constraints(),
    UniqueConstraint("registry_code"),
    CheckConstraint("status <> 'retired' OR retired_at IS NOT NULL", name="retired_at"),
    _gist("address", "geom"),
    Index("ix_address_location_code", "location_code"),
    Index("ix_address_commune_id", "commune_id"),
    Index("ix_address_successor_id", "successor_id"),
    comment="Address points; never deleted once published, retired instead.",
)

address_history = Table(
    "address_history",
    metadata,
    _id(BigInteger),
    Column("address_id", BigInteger, ForeignKey("address.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("snapshot", JSONB, nullable=False, comment="the row as it was before the change"),
    Column("change", Text, nullable=False, comment="update, move, merge, retire..."),
    Column("changed_by", Text),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("address_id", "version"),
    comment="Every earlier version of every address.",
)

registry_counter = Table(
    "registry_counter",
    metadata,
    *_one_row(),
    Column("next_serial", BigInteger, nullable=False, comment="the serial the next registry code gets"),
    CheckConstraint(f"next_serial >= {FIRST_REGISTRY_SERIAL}", name="next_serial"),
    comment="Where registry serials stand: drawn by an UPDATE in the drawing transaction, so a "
    "transaction that rolls back burns none (a sequence would).",
)

import_run = Table(
    "import_run",
    metadata,
    _id(),
    Column("dataset", Text, nullable=False, comment="what kind of data: units_2025, villages..."),
    Column("source", Text, nullable=False, comment="the source label rows carry"),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    Column("counts", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("report", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Index("ix_import_run_sha256", "sha256"),
    comment="One row per committed import: what was read, written, repaired and rejected.",
)

tile_invalidation = Table(
    "tile_invalidation",
    metadata,
    _id(BigInteger),
    Column("layer", Text, nullable=False, comment="the table whose rows changed: admin_unit, village..."),
    _geometry(
        "bbox",
        "GEOMETRY",
        nullable=False,
        comment="where they were and are: a box (or a point) around the changed rows",
    ),
    Column(
        "txid",
        BigInteger,
        nullable=False,
        server_default=text("(pg_current_xact_id())::text::bigint"),
        comment="the writing transaction; readers poll by it, so a late commit is never missed",
    ),
    _created_at(),
    Index("ix_tile_invalidation_txid", "txid"),
    comment="Where data changed, appended by importers and editors; tile caches poll it to evict tiles.",
)

account = Table(
    "account",
    metadata,
    _id(),
    Column("username", Text, nullable=False),
    Column("display_name", Text),
    Column("password_hash", Text, comment="argon2id; NULL for an account that only uses API tokens"),
    Column("role", Text, nullable=False, comment="viewer, editor, approver or admin"),
    Column("language", Text, nullable=False, server_default="vi", comment="vi or en: the viewer's language"),
    Column("failed_logins", Integer, nullable=False, server_default="0", comment="since the last success"),
    Column("locked_until", DateTime(timezone=True), comment="log-ins refused until then (slowed down)"),
    Column("disabled_at", DateTime(timezone=True), comment="set when disabled; accounts are never deleted"),
    _created_at(),
    _updated_at(),
    UniqueConstraint("username"),
    CheckConstraint(_ROLE_CHECK, name="role"),
    comment="Staff and machine accounts; who may write where is role + assigned communes.",
)

account_commune = Table(
    "account_commune",
    metadata,
    Column("account_id", Integer, ForeignKey("account.id"), primary_key=True),
    Column("commune_id", Integer, ForeignKey("admin_unit.id"), primary_key=True),
    Index("ix_account_commune_commune_id", "commune_id"),
    comment="The communes an editor or approver works in (admins work everywhere).",
)

api_token = Table(
    "api_token",
    metadata,
    _id(),
    Column("account_id", Integer, ForeignKey("account.id"), nullable=False),
    Column("name", Text, nullable=False, comment="what the token is for, e.g. 'post office sync'"),
    Column(
        "token_hash", String(64), nullable=False, comment="SHA-256 hex of the token; the token is shown once"
    ),
    Column("prefix", Text, nullable=False, comment="the token's first characters, to recognise it in lists"),
    Column("role", Text, nullable=False, comment="at most the account's role"),
    Column("commune_ids", ARRAY(Integer), comment="NULL: the account's communes; else a subset of them"),
    Column("expires_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    _created_at(),
    UniqueConstraint("token_hash"),
    CheckConstraint(_ROLE_CHECK, name="role"),
    Index("ix_api_token_account_id", "account_id"),
    comment="API tokens for machines: scoped to a role and communes, stored hashed, revocable.",
)

login_session = Table(
    "login_session",
    metadata,
    _id(BigInteger),
    Column("account_id", Integer, ForeignKey("account.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, comment="SHA-256 hex of the session cookie's value"),
    Column(
        "csrf_token", Text, nullable=False, comment="sent back in X-CSRF-Token by cookie-authenticated writes"
    ),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True), comment="set at log-out"),
    Column("remote", Text, comment="client address at log-in"),
    Column("user_agent", Text),
    _created_at(),
    UniqueConstraint("token_hash"),
    Index("ix_login_session_account_id", "account_id"),
    comment="Viewer log-in sessions behind an HttpOnly cookie.",
)

login_attempt = Table(
    "login_attempt",
    metadata,
    _id(BigInteger),
    Column("username", Text, nullable=False, comment="as typed (the account may not exist)"),
    Column("remote", Text),
    Column("succeeded", Boolean, nullable=False),
    Column("reason", Text, comment="why it failed: unknown user, wrong password, disabled, locked"),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_login_attempt_username_at", "username", "at"),
    comment="Every log-in attempt, kept for audit; failures slow the next attempts down.",
)

changeset = Table(
    "changeset",
    metadata,
    _id(BigInteger),
    Column("account_id", Integer, ForeignKey("account.id"), comment="NULL for imports and the CLI"),
    Column("author", Text, nullable=False, comment="the username, or e.g. 'import:gso' for an import"),
    Column("comment", Text, comment="why: the editor's changeset comment"),
    Column(
        "kind", Text, nullable=False, server_default="edit", comment="edit, review, revert, import or merge"
    ),
    Column("reverts_id", BigInteger, ForeignKey("changeset.id"), comment="the changeset a revert undoes"),
    _geometry("bbox", "GEOMETRY", comment="what it touched"),
    _created_at(),
    CheckConstraint("kind IN ('edit', 'review', 'revert', 'import', 'merge')", name="kind"),
    Index("ix_changeset_account_id", "account_id"),
    comment="One coherent set of writes by one author with one comment, in one transaction.",
)

feature_version = Table(
    "feature_version",
    metadata,
    _id(BigInteger),
    Column("dataset", Text, nullable=False, comment="units, villages, places or addresses"),
    Column("feature_id", BigInteger, nullable=False, comment="the row's id in the dataset's table"),
    Column("version", Integer, nullable=False, comment="the version this write made"),
    Column("changeset_id", BigInteger, ForeignKey("changeset.id"), nullable=False),
    Column(
        "action",
        Text,
        nullable=False,
        comment="create, update, retire, restore, approve, reject, import or merge",
    ),
    Column("properties", JSONB, nullable=False, comment="the feature's attributes after the write"),
    _geometry("geom", "GEOMETRY", comment="its geometry after"),
    _created_at(),
    UniqueConstraint("dataset", "feature_id", "version"),
    CheckConstraint(
        "action IN ('create', 'update', 'retire', 'restore', 'approve', 'reject', 'import', 'merge')",
        name="action",
    ),
    Index("ix_feature_version_changeset_id", "changeset_id"),
    comment="Every version of every edited feature, as it was after each write.",
)

change_event = Table(
    "change_event",
    metadata,
    Column("seq", BigInteger, primary_key=True, comment="commit-ordered: drawn from event_counter"),
    Column("changeset_id", BigInteger, ForeignKey("changeset.id"), nullable=False),
    Column("dataset", Text, nullable=False),
    Column("feature_id", BigInteger, comment="NULL for an import event (the whole dataset)"),
    Column("version", Integer),
    Column("action", Text, nullable=False),
    _created_at(),
    Index("ix_change_event_changeset_id", "changeset_id"),
    comment="The append-only feed of every change, read by /events?after=N.",
)

event_counter = Table(
    "event_counter",
    metadata,
    *_one_row(),
    Column("next_seq", BigInteger, nullable=False, server_default="1"),
    comment="Where the feed's sequence stands: drawn by an UPDATE at the end of the writing "
    "transaction, whose row lock orders the numbers by commit (a sequence would not).",
)
