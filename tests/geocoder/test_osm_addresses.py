"""The address tags OpenStreetMap mappers typed, as a tune-side check (OSM-derived: © OpenStreetMap
contributors, ODbL; benchmarks/osm_addresses.py). Apart from the real-text development set.

The POIs are in the index with these very tags, so the check runs on an index loaded without them
(the tags removed in a transaction rolled back after): a query cannot find its POI by its own tags.
"""

from __future__ import annotations

import doctest
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from benchmarks import devset, osm_addresses
from geocoder.index import GeocoderIndex
from geocoder.search import search

pytestmark = pytest.mark.db

OSM_FLOOR = 11 / 16
"""Reached 11 of the 16 tag sets kept when set. The misses: villages the bundled data lacks (bản/xóm Lác,
xóm Mỏ, a xóm Kha other than the Xóm Khả it has) and a town named for a POI that lies in the next
2025 commune ("Mai Chàu")."""


@pytest.fixture(scope="module")
def index(engine: Engine) -> Iterator[GeocoderIndex]:
    """The index of the bundled data without the POIs' address tags."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            conn.execute(
                text(
                    "UPDATE place SET street = NULL, house_number = NULL, "
                    "tags = tags - 'addr:street' - 'addr:housenumber' - 'addr:city' - 'addr:full'"
                )
            )
            yield GeocoderIndex.load(conn)
        finally:
            transaction.rollback()


def test_the_rule_keeps_what_its_examples_say() -> None:
    failed, tried = doctest.testmod(osm_addresses)
    assert tried > 5
    assert failed == 0


def test_the_check_keeps_the_tags_that_locate_a_commune() -> None:
    tag_sets = osm_addresses.load_tag_sets()
    kept = [address for address in tag_sets if address.kept]
    assert len(tag_sets) >= 40
    assert 15 <= len(kept) < len(tag_sets)
    assert not any(address.text.isdigit() for address in kept)  # a house number alone locates nothing
    queries = osm_addresses.load_queries()
    assert len(queries) == len(kept)  # every kept POI lies in a 2025 ward
    assert all(query.truth.wards for query in queries)


def test_the_typed_tags_answer_the_commune_of_their_poi(index: GeocoderIndex) -> None:
    queries = osm_addresses.load_queries()
    answers = []
    for query in queries:
        found = search(index, query.text, limit=1)
        answers.append((found[0].lon, found[0].lat) if found else None)
    hits = devset.judge(queries, answers).hit
    assert hits.mean() >= OSM_FLOOR - 1e-9, int(hits.sum())
