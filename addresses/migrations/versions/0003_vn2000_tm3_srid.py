"""VN-2000 / TM-3 106-00 bound to EPSG:6960 as spatial_ref_sys row 909211, for ST_Transform.

PostGIS 3.3's spatial_ref_sys has no EPSG:9211, and ST_Transform with a PROJ text
builds the transformation again for every row (about 3 ms each). A row of our own is
cached per query. It has no authority on purpose: PostGIS tries ``auth_name:auth_srid``
first and would let PROJ choose the datum shift point by point; without it PostGIS uses
srtext, whose TOWGS84 are the official EPSG:6960 parameters (the same as
importers.crs.VN2000_TOWGS84, position vector).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

SRID = 909211
TOWGS84 = "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"
PROJ4 = (
    "+proj=tmerc +lat_0=0 +lon_0=106 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
    f"+towgs84={TOWGS84} +units=m +no_defs"
)
WKT = (
    'PROJCS["VN-2000 / TM-3 106-00 (EPSG:9211 with EPSG:6960 to WGS 84)",'
    'GEOGCS["VN-2000",DATUM["Vietnam_2000",SPHEROID["WGS 84",6378137,298.257223563],'
    f"TOWGS84[{TOWGS84}]],"
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],'
    'PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],'
    'PARAMETER["central_meridian",106],PARAMETER["scale_factor",0.9999],'
    'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],'
    'UNIT["metre",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]]'
)


def upgrade() -> None:
    """Register (or correct) the row."""
    op.execute(
        sa.text(
            "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
            "VALUES (:srid, NULL, NULL, :wkt, :proj4) "
            "ON CONFLICT (srid) DO UPDATE SET auth_name = NULL, auth_srid = NULL, "
            "srtext = EXCLUDED.srtext, proj4text = EXCLUDED.proj4text"
        ).bindparams(srid=SRID, wkt=WKT, proj4=PROJ4)
    )


def downgrade() -> None:
    """Remove the row."""
    op.execute(sa.text("DELETE FROM spatial_ref_sys WHERE srid = :srid").bindparams(srid=SRID))
