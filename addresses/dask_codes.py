"""Bulk code assignment on a Dask cluster: location codes computed on the workers.

``assign_codes_on_dask(conn, client)`` is :func:`addresses.registry.assign_codes` with
the location codes computed partition by partition (row ranges of a dask-geopandas
frame of the points) on the cluster's workers. The database work stays with the caller's
connection: reading the addresses that need codes, drawing registry serials from the
one counter (they must be unique), writing the codes back in one transaction.
"""

from __future__ import annotations

from typing import Final

import dask_geopandas
import geopandas as gpd
import numpy as np
import shapely
from dask.delayed import delayed
from distributed import Client
from numpy.typing import NDArray
from sqlalchemy import Connection

from addresses.codes import encode_array
from addresses.registry import LocationEncoder, assign_codes

ROWS_PER_PARTITION: Final = 250_000


def _encode_part(part: gpd.GeoDataFrame) -> NDArray[np.bytes_]:
    """The location codes of one partition's points."""
    points = part.geometry.to_numpy()
    return encode_array(shapely.get_x(points), shapely.get_y(points))


def dask_encoder(client: Client, *, rows_per_partition: int = ROWS_PER_PARTITION) -> LocationEncoder:
    """A location encoder that splits the points into row ranges and encodes them on ``client``."""

    def encode(lons: NDArray[np.float64], lats: NDArray[np.float64]) -> NDArray[np.bytes_]:
        if len(lons) == 0:
            return encode_array(lons, lats)
        points = gpd.GeoDataFrame(geometry=shapely.points(lons, lats), crs="EPSG:4326")
        frame = dask_geopandas.from_geopandas(points, chunksize=rows_per_partition, sort=False)
        parts = client.compute([delayed(_encode_part)(part) for part in frame.to_delayed()], sync=True)
        codes: NDArray[np.bytes_] = np.concatenate(parts)
        return codes

    return encode


def assign_codes_on_dask(
    conn: Connection,
    client: Client,
    *,
    source: str | None = None,
    rows_per_partition: int = ROWS_PER_PARTITION,
) -> int:
    """``assign_codes`` with the location codes computed on the Dask cluster; the same codes."""
    return assign_codes(
        conn, source=source, encoder=dask_encoder(client, rows_per_partition=rows_per_partition)
    )
