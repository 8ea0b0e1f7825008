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
    """Whether one cell of ``text`` has more than ``limit`` characters."""
    return bool(pc.any(pc.greater(pc.utf8_length(text), limit)).as_py())


def stripped_or_none(text: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """The cells with empty ones missing, when no cell changes under ``str.strip()``; else None.

    Only a cell whose first or last character is whitespace changes when stripped.
    """
    for end in (pc.utf8_slice_codeunits(text, 0, 1), pc.utf8_slice_codeunits(text, -1)):
        if pc.any(pc.is_in(end, value_set=_WHITESPACE.cast(text.type))).as_py():
            return None
    blanks = pc.equal(pc.utf8_length(text), 0)
    cells: pa.ChunkedArray = pc.if_else(blanks, pa.scalar(None, type=text.type), text)
    return cells


def as_text(text: pa.ChunkedArray | pa.Array) -> pd.arrays.ArrowStringArray:
    """Arrow strings as the values of a pandas ``str`` column (:data:`TEXT`), without copying them."""
    joined = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    return pd.arrays.ArrowStringArray(joined.cast(pa.large_string()), dtype=TEXT)  # type: ignore[call-arg]
