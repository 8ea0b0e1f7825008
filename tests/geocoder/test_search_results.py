"""The compiled search builds its results field by field: the same results as the dataclass builds.

:func:`geocoder.search._result` and :func:`geocoder.search._changed` stand in for
``GeocodeResult(...)`` and ``dataclasses.replace`` (interpreted, the dearest step of an
answer): every field must come out as the dataclass would set it, and a field added to
:class:`geocoder.results.GeocodeResult` must be added there too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from addresses.types import UnitRef
from geocoder.parse import ParsedAddress
from geocoder.results import EXACT, Codes, GeocodeResult, OldUnit
from geocoder.search import _changed, _result


def _fields() -> dict[str, Any]:
    """Every field of a result, none at its default."""
    unit = UnitRef("04540", "Lạc Sơn", "Xã Lạc Sơn", "commune")
    return {
        "lon": 105.34,
        "lat": 20.82,
        "score": 0.625,
        "kind": "address",
        "match_level": "address",
        "label": "12 Lê Lợi, Xã Lạc Sơn",
        "name": "12 Lê Lợi",
        "ref": "address:1",
        "current_unit": unit,
        "current_province": None,
        "old_units": (OldUnit("04543", "Vũ Lâm", "Xã Vũ Lâm", "commune", "approximate"),),
        "codes": Codes("8VGDHS6HB", "8VG-DHS-6HB", "1234567894", "1234 567 894"),
        "parsed": ParsedAddress(),
        "point_precision": "village centre",
        "house_number": "12",
        "note": "a note",
    }


def test_result_takes_every_field_of_the_dataclass() -> None:
    """A field added to GeocodeResult must be added here, and then to _result (else it is left unset).

    (A compiled function has no signature to compare: the sample names every field instead.)
    """
    assert list(_fields()) == [field.name for field in dataclasses.fields(GeocodeResult)]
    assert _result(**_fields()) == GeocodeResult(**_fields())


def test_result_equals_the_dataclass() -> None:
    fields = _fields()
    built, made = _result(**fields), GeocodeResult(**fields)
    assert built == made
    assert repr(built) == repr(made)
    assert type(built) is GeocodeResult
    assert hash(built) == hash(made)


def test_result_defaults_are_the_dataclass_defaults() -> None:
    fields = {
        name: value
        for name, value in _fields().items()
        if name not in {"point_precision", "house_number", "note"}
    }
    built = _result(**fields)
    assert built == GeocodeResult(**fields)
    assert (built.point_precision, built.house_number, built.note) == (EXACT, None, None)


def test_result_stays_frozen() -> None:
    built = _result(**_fields())
    try:
        built.score = 1.0  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        return
    raise AssertionError("a built result can be changed")


def test_changed_equals_replace() -> None:
    made = GeocodeResult(**_fields())
    assert _changed(made, score=0.5, note=None) == dataclasses.replace(made, score=0.5, note=None)
    assert _changed(made, score=made.score, note="other") == dataclasses.replace(made, note="other")
