"""The address registry in the database: assigning both codes to addresses, in bulk.

Every address gets a location code (computed from its point, follows it when it
moves) and a registry code (9-digit serial from a database sequence + Damm check
digit: issued once, never changed, never reused).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, or_, select, update

from addresses.bulk import stage
from addresses.codes import encode_array, registry_codes_array
from addresses.schema import address, registry_serial


def next_serials(conn: Connection, count: int) -> np.ndarray:
    """Draw ``count`` serials from the registry sequence in one round trip."""
    if count == 0:
        return np.empty(0, dtype=np.int64)
    draws = select(func.nextval(registry_serial.name)).select_from(func.generate_series(1, count))
    return np.fromiter(conn.execute(draws).scalars(), dtype=np.int64, count=count)


def _needing_codes(conn: Connection, source: str | None) -> pd.DataFrame:
    """Addresses without a registry code, or written in this transaction (they may have moved)."""
    query = select(
        address.c.id, func.ST_X(address.c.geom), func.ST_Y(address.c.geom), address.c.registry_code
    ).where(or_(address.c.registry_code.is_(None), address.c.updated_at == func.now()))
    if source is not None:
        query = query.where(address.c.source == source)
    rows = conn.execute(query.order_by(address.c.id)).all()
    return pd.DataFrame(rows, columns=["address_id", "lon", "lat", "registry_code"])


def assign_codes(conn: Connection, *, source: str | None = None) -> int:
    """Give addresses their codes (vectorized); return how many got a new registry code."""
    todo = _needing_codes(conn, source)
    if todo.empty:
        return 0
    location = encode_array(todo["lon"].to_numpy(), todo["lat"].to_numpy()).astype(str)
    missing = todo["registry_code"].isna().to_numpy()
    registry = todo["registry_code"].to_numpy(dtype=object, copy=True)
    registry[missing] = registry_codes_array(next_serials(conn, int(missing.sum()))).astype(str)
    frame = pd.DataFrame(
        {"address_id": todo["address_id"], "location_code": location, "registry_code": registry}
    )
    staged = stage(conn, frame, name="code_staging")
    conn.execute(
        update(address)
        .where(address.c.id == staged.c.address_id)
        .values(location_code=staged.c.location_code, registry_code=staged.c.registry_code)
    )
    return int(missing.sum())
