"""Domain exceptions of diachiso.

They describe what went wrong in the address domain and carry the data a caller
needs to explain it (the offending code, position, coordinates). They know nothing
about HTTP: the web layer maps each class to a status code in one table.

>>> err = InvalidCodeError("ABC", "invalid_character", position=2, character="O")
>>> isinstance(err, DiachisoError), isinstance(err, ValueError)
(True, True)
>>> err.position, err.reason
(2, 'invalid_character')
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "CodeErrorReason",
    "ConflictError",
    "DatabaseSetupError",
    "DiachisoError",
    "ImportValidationError",
    "InvalidCodeError",
    "InvalidParameterError",
    "NotFoundError",
    "OutOfTerritoryError",
]

CodeErrorReason = Literal["empty", "wrong_length", "invalid_character", "check_mismatch"]
"""Why a typed code was rejected (machine-readable, stable)."""


class DiachisoError(Exception):
    """Base class of every diachiso domain error."""


class DatabaseSetupError(DiachisoError):
    """The database could not be found, installed, started or reached."""


class NotFoundError(DiachisoError):
    """A thing asked for by its identifier does not exist."""


class InvalidParameterError(DiachisoError, ValueError):
    """A request parameter is out of range or malformed; ``parameter`` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


class ConflictError(DiachisoError):
    """A change conflicts with the current state (e.g. a stale version)."""


class ImportValidationError(DiachisoError):
    """An import file has rows that cannot be loaded; nothing was written.

    ``problems`` lists each one as "row N, field F: reason" so a clerk can fix the file.
    """

    def __init__(self, file_name: str, problems: list[str]) -> None:
        shown = "\n".join(f"  - {problem}" for problem in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{file_name}: {len(problems)} problem(s), nothing written:\n{shown}{more}")
        self.file_name = file_name
        self.problems = problems


class InvalidCodeError(DiachisoError, ValueError):
    """A location or registry code is mistyped: empty, wrong length, bad character, bad check.

    ``code`` is the normalised text (separators removed, upper case), ``position``
    the 1-based position of the bad character in it when known, ``character`` that
    character, ``index`` the row of an array input when the error comes from a
    vectorized function.
    """

    def __init__(
        self,
        code: str,
        reason: CodeErrorReason,
        *,
        position: int | None = None,
        character: str | None = None,
        detail: str = "",
        index: int | None = None,
    ) -> None:
        self.code = code
        self.reason: CodeErrorReason = reason
        self.position = position
        self.character = character
        self.detail = detail
        self.index = index
        super().__init__(self._message())

    def _message(self) -> str:
        """Build the one-line human message."""
        where = f" at position {self.position}" if self.position is not None else ""
        text = f"mistyped code {self.code!r}: {self.reason.replace('_', ' ')}{where}"
        return f"{text} ({self.detail})" if self.detail else text


class OutOfTerritoryError(DiachisoError, ValueError):
    """A coordinate (or geometry) lies outside the territory covered by the code grid.

    ``lon``/``lat`` is the (first) offending point, ``index`` its row for array
    input and ``count`` how many rows are outside.
    """

    def __init__(
        self,
        message: str,
        *,
        lon: float | None = None,
        lat: float | None = None,
        index: int | None = None,
        count: int = 1,
    ) -> None:
        self.lon = lon
        self.lat = lat
        self.index = index
        self.count = count
        super().__init__(message)
