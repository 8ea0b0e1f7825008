"""Each row of a frame as one compact JSON object, encoding every distinct value once.

Gives, row by row, the same objects as pandas ``to_json(orient="records", lines=True,
force_ascii=False, date_format="iso", default_handler=str)``: text through orjson, other
values through pandas itself (its float precision, ISO dates and ``str`` fallback).
"""

from __future__ import annotations

import json

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from importers import arrowtext

SMALL_FRAME = 5000
"""Below this many rows pandas alone is faster than encoding distinct values."""
_NEEDS_ESCAPE = r'["\\\x00-\x1f]'
_ESCAPED = '"\\' + "".join(map(chr, range(0x20)))
"""The characters ``_NEEDS_ESCAPE`` matches."""


def raw_json(frame: pd.DataFrame, *, small: int = SMALL_FRAME) -> pd.Series:
    """Each row's fields as a JSON object text (keys in column order, NaN/None as null).

    Frames of fewer than ``small`` rows go through pandas directly (faster for them).
    """
    if frame.empty:
        return pd.Series([], index=frame.index, dtype=object)
    if len(frame) < small:
        return pd.Series(_pandas_lines(frame).rstrip("\n").split("\n"), index=frame.index, dtype=object)
    return pd.Series(_joined(frame).to_numpy(zero_copy_only=False), index=frame.index, dtype=object)


def raw_json_arrow(frame: pd.DataFrame, *, small: int = SMALL_FRAME) -> pa.Array:
    """:func:`raw_json` as an Arrow ``large_string`` array (from ``small`` rows on, no Python str per row)."""
    if len(frame) < small:
        return pa.array(raw_json(frame, small=small).tolist(), type=pa.large_string())
    return _joined(frame)


def _joined(frame: pd.DataFrame) -> pa.Array:
    """Each row's JSON object, joined in Arrow from the encoded cells of each column.

    The braces come with the first and last cells (the long rows are not copied again for them).
    """
    keys = _keys(frame)
    if not keys:
        return _enclosed(pc.binary_join_element_wise(_text(",")), "{", "}")
    ends = [""] * (len(keys) - 1) + ["}"]
    keys[0] = "{" + keys[0]
    parts = [
        _encoded(frame.iloc[:, at], key, end) for at, (key, end) in enumerate(zip(keys, ends, strict=True))
    ]
    rows: pa.Array = pc.binary_join_element_wise(*parts, _text(","))
    return rows


def _enclosed(text: pa.Array, before: str, after: str) -> pa.Array:
    """Each cell with ``before`` put in front and ``after`` behind it (missing cells stay missing).

    >>> _enclosed(pa.array(["a", None, ""], type=pa.large_string()), "{", "}").to_pylist()
    ['{a}', None, '{}']
    """
    end = np.iinfo(np.int64).max  # past the end of every cell
    enclosed: pa.Array = pc.binary_replace_slice(pc.binary_replace_slice(text, 0, 0, before), end, end, after)
    return enclosed


def _text(value: str) -> pa.Scalar:
    """A scalar of the string type the columns use."""
    return pa.scalar(value, type=pa.large_string())


def _keys(frame: pd.DataFrame) -> list[str]:
    """Each column's JSON key followed by a colon, as pandas names the columns."""
    first = _pandas_lines(frame.iloc[:1])
    pairs: list[tuple[str, object]] = json.loads(first, object_pairs_hook=list)
    return [orjson.dumps(key).decode() + ":" for key, _ in pairs]


def _encoded(values: pd.Series, key: str, end: str = "") -> pa.Array:
    """A column's cells as ``"key":value`` then ``end``, each distinct value encoded once where exact."""
    if _is_text(values):
        try:
            return _text_column(_large_text(values), key, end)
        except (pa.ArrowException, orjson.JSONEncodeError):
            return _as_text(key, _pandas_values(values), end)
    codes = _distinct_codes(values)
    if codes is None:
        return _as_text(key, _pandas_values(values), end)
    present = codes >= 0
    first = np.zeros(int(codes.max(initial=-1)) + 1, dtype=np.intp)
    first[codes[present][::-1]] = np.flatnonzero(present)[::-1]
    table = _as_text(key, [*_pandas_values(values.iloc[first]), "null"], end)
    return table.take(np.where(present, codes, len(first)))


def _large_text(values: pd.Series) -> pa.Array:
    """A text column as one Arrow ``large_string`` array (the stored one when pandas keeps it in Arrow)."""
    stored = arrowtext.arrow_text(values)
    if stored is not None:
        combined: pa.Array = stored.combine_chunks().cast(pa.large_string())
        return combined
    return pa.array(values.to_numpy(), from_pandas=True, type=pa.large_string())


def _as_text(key: str, texts: list[str], end: str = "") -> pa.Array:
    """``"key":``, each value text and ``end`` as an Arrow string array."""
    return pa.array([key + text + end for text in texts], type=pa.large_string())


def _text_column(text: pa.Array, key: str, end: str = "") -> pa.Array:
    """Text cells quoted as they are, unless they hold a quote, backslash or control character (orjson)."""
    quoted = _enclosed(text, key + '"', '"' + end)
    if arrowtext.holds_any(pa.chunked_array([text]), _ESCAPED):  # else no cell needs the regex
        special = pc.fill_null(pc.match_substring_regex(text, _NEEDS_ESCAPE), False)
        escaped = [key + orjson.dumps(cell).decode() + end for cell in text.filter(special).to_pylist()]
        if escaped:
            quoted = pc.replace_with_mask(quoted, special, pa.array(escaped, type=pa.large_string()))
    return pc.fill_null(quoted, _text(key + "null" + end))


def _is_text(values: pd.Series) -> bool:
    """Whether every present cell is a ``str``."""
    if isinstance(values.dtype, pd.StringDtype):
        return True
    return values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def _distinct_codes(values: pd.Series) -> NDArray[np.intp] | None:
    """Codes of distinct cells (-1 for missing), or None when equal cells may encode differently.

    Floats are told apart by their bits (-0.0 is not 0.0); mixed objects are not grouped
    (1, 1.0 and True are equal in Python).
    """
    kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else ""
    if kind != "" and kind in "biuM":
        codes, _ = pd.factorize(values)
        return np.asarray(codes, dtype=np.intp)
    if kind == "f":
        numbers = values.to_numpy()
        bits = numbers.view(f"i{numbers.dtype.itemsize}")
        codes, _ = pd.factorize(np.where(np.isnan(numbers), 0, bits))
        return np.where(np.isnan(numbers), -1, codes).astype(np.intp)
    return None


def _pandas_values(values: pd.Series) -> list[str]:
    """Cells as pandas writes them, each cut out of its ``{"v":...}`` line."""
    if values.empty:
        return []
    column = values.reset_index(drop=True).rename("v").to_frame()
    lines = _pandas_lines(column)
    return [line[5:-1] for line in lines.rstrip("\n").split("\n")]


def _pandas_lines(frame: pd.DataFrame) -> str:
    """The frame as pandas writes JSON lines (the format this module reproduces)."""
    return frame.to_json(
        orient="records", lines=True, force_ascii=False, date_format="iso", default_handler=str
    )
