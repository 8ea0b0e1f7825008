"""Domain exceptions of diachiso.

They describe what went wrong in the address domain and carry the data a caller
needs to explain it (the offending code, position, coordinates). They know nothing
about HTTP: the web layer maps each class to a status code in one table.

>>> err = InvalidCodeError("ABC", "invalid_character", slip=Slip(2, "O"))
>>> isinstance(err, DiachisoError), isinstance(err, ValueError)
(True, True)
>>> err.position, err.reason
(2, 'invalid_character')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "AmbiguousUnitError",
    "BusyError",
    "CodeErrorReason",
    "ConflictError",
    "DatabaseSetupError",
    "DiachisoError",
    "DuplicateFeatureError",
    "EditForbiddenError",
    "EditRefusedError",
    "GoneError",
    "ImportValidationError",
    "InvalidCodeError",
    "InvalidParameterError",
    "InvalidSuccessorError",
    "LoginThrottledError",
    "NotFoundError",
    "OutOfTerritoryError",
    "RevertConflictError",
    "Slip",
    "StaleVersionError",
    "StatusTransitionError",
    "SuccessorProblem",
]

CodeErrorReason = Literal["empty", "wrong_length", "invalid_character", "check_mismatch"]
"""Why a typed code was rejected (machine-readable, stable)."""

SuccessorProblem = Literal["self", "retired"]
"""Why a successor was refused: the address itself, or an address that is retired too."""


class DiachisoError(Exception):
    """Base class of every diachiso domain error."""


class DatabaseSetupError(DiachisoError):
    """The database could not be found, installed, started or reached."""


class BusyError(DiachisoError):
    """Every slot of a bounded pool of work is taken; ``retry_after_s`` says when to try again.

    >>> BusyError("2 CSV files are being geocoded already", retry_after_s=5).retry_after_s
    5
    """

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class NotFoundError(DiachisoError):
    """A thing asked for by its identifier does not exist."""


class InvalidParameterError(DiachisoError, ValueError):
    """A request parameter is out of range or malformed; ``parameter`` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


class AuthenticationError(DiachisoError):
    """No valid credentials: no session or token, a wrong password, an expired or revoked token."""


class PermissionDeniedError(DiachisoError):
    """The principal is known but may not do this (role too low, or a commune not assigned to it)."""


class LoginThrottledError(DiachisoError):
    """Too many failed log-ins in a row: the account is locked for ``retry_after_s`` seconds.

    >>> str(LoginThrottledError(8))
    'too many failed log-ins: try again in 8 s'
    """

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"too many failed log-ins: try again in {retry_after_s} s")


class ConflictError(DiachisoError):
    """A change conflicts with the current state (e.g. a stale version)."""


class EditRefusedError(InvalidParameterError):
    """An edit the validation refuses: ``parameter`` names the field, in English and in Vietnamese.

    >>> err = EditRefusedError("house_number", "is required", "là bắt buộc")
    >>> str(err), err.message_vi
    ('house_number: is required', 'house_number: là bắt buộc')
    """

    def __init__(self, parameter: str, message: str, message_vi: str) -> None:
        super().__init__(parameter, message)
        self.message_vi = f"{parameter}: {message_vi}"


class DuplicateFeatureError(ConflictError):
    """A new address with the house number of an active address a few metres away (send it confirmed).

    ``duplicate`` is the registry code of the address it probably repeats.
    """

    def __init__(self, message: str, message_vi: str, *, duplicate: str) -> None:
        super().__init__(message)
        self.message_vi = message_vi
        self.duplicate = duplicate
        self.parameter = "confirm_duplicate"


class EditForbiddenError(PermissionDeniedError):
    """A write the principal may not make (role too low, a commune not theirs), said in both languages."""

    def __init__(self, message: str, message_vi: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.message_vi = message_vi
        self.parameter = parameter


class RevertConflictError(ConflictError):
    """A changeset cannot be reverted: a later edit changed one of its features."""


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


@dataclass(frozen=True, slots=True)
class Slip:
    """Where a typed code goes wrong: the 1-based position of the bad character, and that character."""

    position: int
    character: str


class InvalidCodeError(DiachisoError, ValueError):
    """A location or registry code is mistyped: empty, wrong length, bad character, bad check.

    ``code`` is the normalised text (separators removed, upper case), ``slip`` the bad
    character and its 1-based position when known (also as ``position`` and
    ``character``), ``index`` the row of an array input when the error comes from a
    vectorized function.
    """

    def __init__(
        self,
        code: str,
        reason: CodeErrorReason,
        *,
        slip: Slip | None = None,
        detail: str = "",
        index: int | None = None,
    ) -> None:
        self.code = code
        self.reason: CodeErrorReason = reason
        self.slip = slip
        self.position = None if slip is None else slip.position
        self.character = None if slip is None else slip.character
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


class StaleVersionError(ConflictError):
    """An edit was based on an older version of an address than the one stored.

    ``registry_code`` names the address, ``expected`` is the version the editor saw,
    ``current`` the version now stored: reload, re-apply, retry.

    >>> str(StaleVersionError("1000000005", expected=1, current=3))
    'address 1000-000-005 is at version 3, not 1: it was changed meanwhile; reload it and retry'
    """

    def __init__(
        self,
        registry_code: str,
        *,
        expected: int,
        current: int,
        what: str = "address",
        state: dict[str, Any] | None = None,
    ) -> None:
        self.registry_code = registry_code
        self.expected = expected
        self.current = current
        self.state = state
        """The feature as it is now (a GeoJSON Feature) when the editing layer raised it."""
        super().__init__(
            f"{what} {_grouped(registry_code)} is at version {current}, not {expected}: "
            "it was changed meanwhile; reload it and retry"
        )


class StatusTransitionError(ConflictError):
    """A change the address's status does not allow (only proposed -> active -> retired).

    ``current`` is the stored status, ``action`` what was asked ("retire", "edit"...).

    >>> str(StatusTransitionError("1000000005", current="retired", action="retire"))
    'cannot retire address 1000-000-005: it is retired'
    """

    def __init__(self, registry_code: str, *, current: str, action: str, detail: str = "") -> None:
        self.registry_code = registry_code
        self.current = current
        self.action = action
        text = f"cannot {action} address {_grouped(registry_code)}: it is {current}"
        super().__init__(f"{text} ({detail})" if detail else text)


class InvalidSuccessorError(ConflictError):
    """The successor chosen for a retired address is the address itself, or is retired too.

    ``reason`` says which (``"self"`` or ``"retired"``); ``parameter`` is always
    ``"successor"``.
    """

    def __init__(
        self, registry_code: str, successor: str, *, reason: SuccessorProblem, detail: str = ""
    ) -> None:
        self.registry_code = registry_code
        self.successor = successor
        self.reason: SuccessorProblem = reason
        self.parameter = "successor"
        what = "is the address itself" if reason == "self" else "is retired"
        text = f"successor {_grouped(successor)} of address {_grouped(registry_code)} {what}"
        super().__init__(f"{text} ({detail})" if detail else text)


def _grouped(registry_code: str) -> str:
    """Write a 10-digit registry code 4-3-3 for messages (other text unchanged).

    >>> _grouped("1234567894"), _grouped("12")
    ('1234-567-894', '12')
    """
    if len(registry_code) != 10:
        return registry_code
    return f"{registry_code[:4]}-{registry_code[4:7]}-{registry_code[7:]}"


class AmbiguousUnitError(InvalidParameterError):
    """A unit name matches several units; ``candidates`` describes each (name, parent, code, period).

    ``parameter`` names what would tell them apart (district, province).
    """

    def __init__(self, parameter: str, name: str, candidates: list[str]) -> None:
        listed = "; ".join(candidates)
        super().__init__(
            parameter, f"{name!r} matches {len(candidates)} units: {listed}; give {parameter} too"
        )
        self.candidates = candidates


class GoneError(DiachisoError):
    """A thing that existed was retired for good; ``successor`` names what replaced it, if anything.

    >>> str(GoneError("address 1000-000-005 is retired", successor="1000000013"))
    'address 1000-000-005 is retired; its successor is 1000-000-013'
    """

    def __init__(self, message: str, *, successor: str | None = None) -> None:
        self.successor = successor
        tail = f"; its successor is {_grouped(successor)}" if successor else ""
        super().__init__(message + tail)
