"""What the geocoder tests ask of a search: its best result, and the 2025 ward of a result."""

from __future__ import annotations

from geocoder.index import GeocoderIndex
from geocoder.results import GeocodeResult
from geocoder.search import search


def top(index: GeocoderIndex, query: str, **options: object) -> GeocodeResult:
    """The best result (the search must find something)."""
    results = search(index, query, **options)  # type: ignore[arg-type]
    assert results, f"nothing found for {query!r}"
    return results[0]


def ward(result: GeocodeResult) -> str | None:
    """The 2025 commune/ward code of a result."""
    return None if result.current_unit is None else result.current_unit.code
