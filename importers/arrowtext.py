"""Text checks done on columns pandas already stores as Arrow strings, without a Python string per cell.

A file read from GeoParquet (and every column the text checks leave as ``str`` dtype)
holds its text as Arrow strings. Asking Python for each cell (to search, measure or
strip it) first builds a Python string per cell, most of an import's client time for
texts that need nothing done. These helpers answer "does any cell need it?" with Arrow
kernels and numpy over the UTF-8 bytes, so the Python path runs only for the columns
that do.

Arrow strings are valid UTF-8: they cannot hold an unpaired surrogate, and their length
in code points is Python's ``len``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

PYTHON_WHITESPACE: Final = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
"""The characters ``str.strip()`` removes (``str.isspace()``: none lies above U+3000, a test checks)."""
TEXT: Final = pd.StringDtype("pyarrow", na_value=np.nan)
"""pandas' ``str`` dtype kept in Arrow, the dtype the text checks give text columns."""
_WHITESPACE: Final = pa.array(list(PYTHON_WHITESPACE), type=pa.large_string())


def arrow_text(values: pd.Series) -> pa.ChunkedArray | None:
    """The cells of a text column pandas keeps in Arrow (``str``, ``string[pyarrow]``); else None."""
    dtype = values.dtype
    if not isinstance(dtype, pd.StringDtype) or dtype.storage != "pyarrow":
        return None
    text = pa.chunked_array(pa.array(values.array))  # __arrow_array__: the stored Arrow data
    return text if pa.types.is_string(text.type) or pa.types.is_large_string(text.type) else None


def holds_any(text: pa.ChunkedArray, characters: str) -> bool:
    """Whether a cell of ``text`` may hold one of ``characters``: False means none does.

    Searches the UTF-8 bytes of the cells for the encoding of each character (UTF-8
    is self-synchronising: such bytes found at a character's start are that character).
    Bytes left under a missing cell, if any, may also be found: True then only means
    "look cell by cell".

    >>> text = pa.chunked_array([pa.array(["Hòa Bình", None, "12\\u202e34"])])
    >>> holds_any(text, "\\u202e\\u200b"), holds_any(text, "\\x00\\u200b")
    (True, False)
    """
    encodings = _encodings(characters)
    return any(_holds(_utf8_bytes(chunk), encodings) for chunk in text.chunks)


@dataclass(frozen=True)
class _Encodings:
    """The UTF-8 encodings of a set of characters, and the ranges of their first bytes."""

    sequences: tuple[bytes, ...]
    firsts: NDArray[np.bool_]
    """Which bytes start one of the sequences."""
    ranges: tuple[tuple[int, int], ...]
    """The first bytes as runs (first, last - first): a run is one vectorised comparison."""


@functools.cache
def _encodings(characters: str) -> _Encodings:
    """The encodings of ``characters`` (computed once per set)."""
    sequences = tuple(sorted({c.encode("utf-8") for c in characters}))
    firsts = np.zeros(256, dtype=bool)
    firsts[[sequence[0] for sequence in sequences]] = True
    ranges: list[tuple[int, int]] = []
    for byte in np.flatnonzero(firsts).tolist():
        if ranges and sum(ranges[-1]) + 1 == byte:
            ranges[-1] = (ranges[-1][0], ranges[-1][1] + 1)
        else:
            ranges.append((byte, 0))
    return _Encodings(sequences, firsts, tuple(ranges))


def _utf8_bytes(chunk: pa.Array) -> NDArray[np.uint8]:
    """The UTF-8 bytes of the cells of one string array, one after the other."""
    _, offset_buffer, data = chunk.buffers()
    if len(chunk) == 0 or offset_buffer is None or data is None:
        return np.empty(0, dtype=np.uint8)
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(offset_buffer, dtype=width)
    first, last = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
    return np.frombuffer(data, dtype=np.uint8)[first:last]


def _holds(data: NDArray[np.uint8], encodings: _Encodings) -> bool:
    """Whether one of the encoded sequences occurs in ``data``.

    Most texts hold none of their first bytes, which a comparison per run of them tells
    (in SIMD, unsigned bytes wrapping below the run's first); only otherwise are the
    sequences looked for where they may start.
    """
    if not any(bool(((data - first) <= span).any()) for first, span in encodings.ranges):
        return False
    starts = np.flatnonzero(encodings.firsts[data])
    for sequence in encodings.sequences:
        at = starts[(data[starts] == sequence[0]) & (starts + len(sequence) <= len(data))]
        for step, byte in enumerate(sequence[1:], start=1):
            at = at[data[at + step] == byte]
        if len(at):
            return True
    return False


def any_longer(text: pa.ChunkedArray, limit: int) -> bool:
    """Whether one cell of ``text`` has more than ``limit`` characters.

    A character takes at least one byte: when no cell has more than ``limit`` bytes
    (the lengths Arrow stores), no cell has more characters, and none is counted.
    """
    if not any(_longest(chunk) > limit for chunk in text.chunks):
        return False
    return bool(pc.any(pc.greater(pc.utf8_length(text), limit)).as_py())


def _longest(chunk: pa.Array) -> int:
    """The most bytes a cell of a string array takes (missing cells may count: a bound)."""
    _, offset_buffer, _ = chunk.buffers()
    if len(chunk) == 0 or offset_buffer is None:
        return 0
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(offset_buffer, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
    return int(np.diff(offsets).max())


def stripped_or_none(text: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """The cells with empty ones missing, when no cell changes under ``str.strip()``; else None.

    Only a cell whose first or last character is whitespace changes when stripped: the
    UTF-8 bytes at both ends of each cell are compared with the encodings of whitespace.
    """
    if any(_ends_in_whitespace(chunk) for chunk in text.chunks):
        return None
    blanks = pc.equal(pc.binary_length(text), 0)
    cells: pa.ChunkedArray = pc.if_else(blanks, pa.scalar(None, type=text.type), text)
    return cells


def _ends_in_whitespace(chunk: pa.Array) -> bool:
    """Whether a present cell of a string array starts or ends with a character ``str.strip()`` removes."""
    _, offset_buffer, data_buffer = chunk.buffers()
    if len(chunk) == 0 or offset_buffer is None or data_buffer is None:
        return False
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(offset_buffer, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
    starts, stops = offsets[:-1].astype(np.int64), offsets[1:].astype(np.int64)
    present = stops > starts
    if chunk.null_count:
        present &= chunk.is_valid().to_numpy(zero_copy_only=False)
    starts, stops = starts[present], stops[present]
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    firsts, lasts = data[starts], data[stops - 1]
    if (_ASCII_WHITESPACE[firsts] | _ASCII_WHITESPACE[lasts]).any():
        return True
    leading, trailing = _LEADS[firsts], _TRAILS[lasts]  # may start or end a longer whitespace
    sizes = stops - starts
    for width_in_bytes, encodings in enumerate(_WHITESPACE_BYTES[1:], start=2):
        at_start, at_end = (
            starts[leading & (sizes >= width_in_bytes)],
            stops[trailing & (sizes >= width_in_bytes)],
        )
        for first in (at_start, at_end - width_in_bytes):
            if len(first) and np.isin(_code(data, first, width_in_bytes), encodings).any():
                return True
    return False


def _code(data: NDArray[np.uint8], at: NDArray[np.int64], width: int) -> NDArray[np.int64]:
    """The ``width`` bytes of ``data`` from each position ``at``, as one big-endian number."""
    code = data[at].astype(np.int64)
    for step in range(1, width):
        code = (code << 8) | data[at + step]
    return code


def _utf8_codes(characters: str, width: int) -> NDArray[np.int64]:
    """The UTF-8 encodings ``width`` bytes long of ``characters``, each as one big-endian number."""
    encoded = [c.encode("utf-8") for c in characters]
    return np.array([int.from_bytes(e, "big") for e in encoded if len(e) == width], dtype=np.int64)


_WHITESPACE_BYTES: Final = tuple(_utf8_codes(PYTHON_WHITESPACE, width) for width in (1, 2, 3))
"""The encodings of whitespace, by length (UTF-8 lead bytes make a match at a cell's end exact)."""


def _byte_table(values: list[int]) -> NDArray[np.bool_]:
    """A table of the 256 byte values, true at ``values``."""
    table = np.zeros(256, dtype=bool)
    table[values] = True
    return table


_LONGER: Final = [c.encode("utf-8") for c in PYTHON_WHITESPACE if len(c.encode("utf-8")) > 1]
_ASCII_WHITESPACE: Final = _byte_table(_WHITESPACE_BYTES[0].tolist())
_LEADS: Final = _byte_table([encoded[0] for encoded in _LONGER])
"""The bytes a longer whitespace encoding starts with."""
_TRAILS: Final = _byte_table([encoded[-1] for encoded in _LONGER])
"""The bytes a longer whitespace encoding ends with."""


def as_text(text: pa.ChunkedArray | pa.Array) -> pd.arrays.ArrowStringArray:
    """Arrow strings as the values of a pandas ``str`` column (:data:`TEXT`), without copying them."""
    joined = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    return pd.arrays.ArrowStringArray(joined.cast(pa.large_string()), dtype=TEXT)  # type: ignore[call-arg]
