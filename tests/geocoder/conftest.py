"""Fixtures of the geocoder tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from geocoder.index import GeocoderIndex


@pytest.fixture(scope="module")
def index(engine: Engine) -> Iterator[GeocoderIndex]:
    """The index of the bundled data, built once for the module (a module may define its own)."""
    with engine.connect() as conn:
        yield GeocoderIndex.load(conn)
