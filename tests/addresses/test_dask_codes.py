"""Bulk code assignment on Dask (a LocalCluster) gives the codes the single-process path gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from distributed import Client, LocalCluster
from sqlalchemy import Connection, func, select, update

from addresses.codes import encode_array, registry_serial
from addresses.dask_codes import assign_codes_on_dask
from addresses.registry import assign_codes
from addresses.schema import address
from importers import synth

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, Client(cluster) as dask_client:
        yield dask_client


def _codes(conn: Connection) -> list[tuple[str, float, float, str, str]]:
    rows = conn.execute(
        select(
            address.c.source_id,
            func.ST_X(address.c.geom),
            func.ST_Y(address.c.geom),
            address.c.location_code,
            address.c.registry_code,
        )
        .where(address.c.source == "generated", address.c.source_id.like("gen-31-%"))
        .order_by(address.c.id)
    ).all()
    return [(str(r[0]), float(r[1]), float(r[2]), str(r[3]), str(r[4])) for r in rows]


def _forget_codes(conn: Connection) -> None:
    conn.execute(
        update(address)
        .where(address.c.source == "generated", address.c.source_id.like("gen-31-%"))
        .values(location_code=None, registry_code=None)
    )


def test_dask_assigns_the_codes_one_process_assigns(conn: Connection, client: Client, data_dir: Path) -> None:
    synth.load(conn, synth.generate(data_dir, 3_000, seed=31), name="synth-31")
    _forget_codes(conn)
    alone = conn.begin_nested()
    assert assign_codes(conn, source="generated") == 3_000
    single = _codes(conn)
    alone.rollback()
    assert all(r[3] == "None" for r in _codes(conn))  # back to no codes
    assert assign_codes_on_dask(conn, client, source="generated", rows_per_partition=400) == 3_000
    spread = _codes(conn)
    assert [r[:4] for r in spread] == [r[:4] for r in single]  # same points, same location codes
    lons, lats = np.array([r[1] for r in spread]), np.array([r[2] for r in spread])
    assert [r[3] for r in spread] == encode_array(lons, lats).astype(str).tolist()
    offsets = {registry_serial(b[4]) - registry_serial(a[4]) for a, b in zip(single, spread, strict=True)}
    assert len(offsets) == 1  # the same serials in the same order, drawn later from the sequence
