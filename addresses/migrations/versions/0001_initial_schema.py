"""Initial schema: administrative units, lineage, villages, places, addresses, imports.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 17:34:28.437272
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(sa.schema.CreateSequence(sa.Sequence("address_registry_serial", start=1, minvalue=1)))
    op.create_table(
        "admin_unit",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "code",
            sa.String(length=10),
            nullable=False,
            comment="GSO code, as published (e.g. 04795)",
        ),
        sa.Column(
            "level",
            sa.SmallInteger(),
            nullable=False,
            comment="1 province, 2 district, 3 commune/ward",
        ),
        sa.Column(
            "unit_type",
            sa.Text(),
            nullable=False,
            comment="tỉnh, thành phố, huyện, thị xã, xã, phường...",
        ),
        sa.Column("name", sa.Text(), nullable=False, comment="short name, NFC, canonical tone marks"),
        sa.Column("full_name", sa.Text(), nullable=False, comment="type + name, e.g. Phường Tân Hòa"),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "valid_from",
            sa.Date(),
            nullable=True,
            comment="first day; NULL when the sources do not say",
        ),
        sa.Column(
            "valid_to",
            sa.Date(),
            nullable=True,
            comment="exclusive end; NULL while the unit exists",
        ),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column(
            "label_point",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column(
            "geom_quality",
            sa.Text(),
            nullable=True,
            comment="polygon, point, bbox or none: how precise geom is",
        ),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("area_km2", sa.Float(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=False),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        postgresql.ExcludeConstraint(
            (sa.column("level"), "="),
            (sa.column("code"), "="),
            (sa.text("daterange(valid_from, valid_to)"), "&&"),
            using="gist",
            name="ex_admin_unit_code_validity",
        ),
        sa.CheckConstraint("level IN (1, 2, 3)", name=op.f("ck_admin_unit_level")),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_admin_unit_validity")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["admin_unit.id"], name=op.f("fk_admin_unit_parent_id_admin_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_unit")),
        sa.UniqueConstraint(
            "level",
            "code",
            "valid_from",
            name=op.f("uq_admin_unit_level_code_valid_from"),
            postgresql_nulls_not_distinct=True,
        ),
        comment="Administrative units of every level and period, side by side.",
    )
    op.create_index("ix_admin_unit_geom", "admin_unit", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(
        "ix_admin_unit_label_point",
        "admin_unit",
        ["label_point"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index("ix_admin_unit_parent_id", "admin_unit", ["parent_id"], unique=False)
    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "dataset",
            sa.Text(),
            nullable=False,
            comment="what kind of data: units_2025, villages...",
        ),
        sa.Column("source", sa.Text(), nullable=False, comment="the source label rows carry"),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "counts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "report",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_run")),
        comment="One row per committed import: what was read, written, repaired and rejected.",
    )
    op.create_index("ix_import_run_sha256", "import_run", ["sha256"], unique=False)
    op.create_table(
        "place",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "name",
            sa.Text(),
            nullable=True,
            comment="NULL for unnamed places (e.g. a fuel station)",
        ),
        sa.Column("category", sa.Text(), nullable=False, comment="e.g. amenity, tourism, shop"),
        sa.Column("kind", sa.Text(), nullable=False, comment="e.g. school, guest_house, fuel"),
        sa.Column(
            "tags",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("house_number", sa.Text(), nullable=True),
        sa.Column("street", sa.Text(), nullable=True),
        sa.Column("commune_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=False),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["commune_id"], ["admin_unit.id"], name=op.f("fk_place_commune_id_admin_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_place_source_source_id")),
        comment="Points of interest with category and tags.",
    )
    op.create_index("ix_place_geom", "place", ["geom"], unique=False, postgresql_using="gist")
    op.create_table(
        "unit_lineage",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("predecessor_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False, comment="full: all of the old unit; partial: a part"),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('full', 'partial')", name=op.f("ck_unit_lineage_kind")),
        sa.ForeignKeyConstraint(
            ["predecessor_id"],
            ["admin_unit.id"],
            name=op.f("fk_unit_lineage_predecessor_id_admin_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"],
            ["admin_unit.id"],
            name=op.f("fk_unit_lineage_successor_id_admin_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_lineage")),
        sa.UniqueConstraint(
            "predecessor_id",
            "successor_id",
            name=op.f("uq_unit_lineage_predecessor_id_successor_id"),
        ),
        comment="Which old unit became which new unit(s) in a reorganisation.",
    )
    op.create_index("ix_unit_lineage_successor_id", "unit_lineage", ["successor_id"], unique=False)
    op.create_table(
        "village",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "name",
            sa.Text(),
            nullable=False,
            comment="NFC, canonical tone marks, with the type word",
        ),
        sa.Column(
            "village_type",
            sa.Text(),
            nullable=True,
            comment="thôn, xóm, bản, làng, tổ dân phố, khu...",
        ),
        sa.Column("commune_id", sa.Integer(), nullable=True, comment="the current unit"),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=False),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["commune_id"], ["admin_unit.id"], name=op.f("fk_village_commune_id_admin_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_village_source_source_id")),
        comment="Villages (thôn, xóm, bản, tổ dân phố...) as points or polygons.",
    )
    op.create_index("ix_village_commune_id", "village", ["commune_id"], unique=False)
    op.create_index("ix_village_geom", "village", ["geom"], unique=False, postgresql_using="gist")
    op.create_table(
        "address",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("house_number", sa.Text(), nullable=True, comment="free text: 12A, 40bis, 1806/127/2"),
        sa.Column("alley", sa.Text(), nullable=True, comment="ngõ / ngách / hẻm / kiệt"),
        sa.Column("street", sa.Text(), nullable=True),
        sa.Column("village_name", sa.Text(), nullable=True, comment="the village as the source wrote it"),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("commune_id", sa.Integer(), nullable=True, comment="the current unit"),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "official_code",
            sa.Text(),
            nullable=True,
            comment="a national code the source carried, kept as-is",
        ),
        sa.Column(
            "location_code",
            sa.String(length=9),
            nullable=True,
            comment="mã vị trí: grid cell code with check character",
        ),
        sa.Column(
            "registry_code",
            sa.String(length=10),
            nullable=True,
            comment="mã địa chỉ số: 9-digit serial + Damm check digit",
        ),
        sa.Column("successor_id", sa.BigInteger(), nullable=True, comment="set when retired"),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_generated", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=False),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'retired' OR retired_at IS NOT NULL", name=op.f("ck_address_retired_at")
        ),
        sa.CheckConstraint("status IN ('proposed', 'active', 'retired')", name=op.f("ck_address_status")),
        sa.ForeignKeyConstraint(
            ["commune_id"], ["admin_unit.id"], name=op.f("fk_address_commune_id_admin_unit")
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"], ["address.id"], name=op.f("fk_address_successor_id_address")
        ),
        sa.ForeignKeyConstraint(["village_id"], ["village.id"], name=op.f("fk_address_village_id_village")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address")),
        sa.UniqueConstraint("registry_code", name=op.f("uq_address_registry_code")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_address_source_source_id")),
        comment="Address points; never deleted once published, retired instead.",
    )
    op.create_index("ix_address_commune_id", "address", ["commune_id"], unique=False)
    op.create_index("ix_address_geom", "address", ["geom"], unique=False, postgresql_using="gist")
    op.create_index("ix_address_location_code", "address", ["location_code"], unique=False)
    op.create_table(
        "address_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("address_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "snapshot",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="the row as it was before the change",
        ),
        sa.Column("change", sa.Text(), nullable=False, comment="update, move, merge, retire..."),
        sa.Column("changed_by", sa.Text(), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["address_id"], ["address.id"], name=op.f("fk_address_history_address_id_address")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_history")),
        sa.UniqueConstraint("address_id", "version", name=op.f("uq_address_history_address_id_version")),
        comment="Every earlier version of every address.",
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("address_history")
    op.drop_index("ix_address_location_code", table_name="address")
    op.drop_index("ix_address_geom", table_name="address", postgresql_using="gist")
    op.drop_index("ix_address_commune_id", table_name="address")
    op.drop_table("address")
    op.drop_index("ix_village_geom", table_name="village", postgresql_using="gist")
    op.drop_index("ix_village_commune_id", table_name="village")
    op.drop_table("village")
    op.drop_index("ix_unit_lineage_successor_id", table_name="unit_lineage")
    op.drop_table("unit_lineage")
    op.drop_index("ix_place_geom", table_name="place", postgresql_using="gist")
    op.drop_table("place")
    op.drop_index("ix_import_run_sha256", table_name="import_run")
    op.drop_table("import_run")
    op.drop_index("ix_admin_unit_parent_id", table_name="admin_unit")
    op.drop_index("ix_admin_unit_label_point", table_name="admin_unit", postgresql_using="gist")
    op.drop_index("ix_admin_unit_geom", table_name="admin_unit", postgresql_using="gist")
    op.drop_table("admin_unit")
    op.execute(sa.schema.DropSequence(sa.Sequence("address_registry_serial")))
