"""Field mappings: which source column holds the name, code, house number, street...

A mapping names, for each target field, one or more source columns (the first
non-empty one wins) and constants. Built-in mappings cover the bundled Hoa Binh
files; other files use a small TOML mapping file or CLI options.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from addresses.datasets import DATASETS, DatasetSpec, get_dataset
from addresses.errors import ImportValidationError
from importers import arrowtext

FEATURE_COLUMN = "feature"
"""The row number column every frame read gets (importers.readers.FEATURE), not a source column."""


@dataclass(frozen=True)
class FieldMapping:
    """How the columns of one source file become the fields of one dataset."""

    dataset: str
    """The name of the dataset (addresses.datasets.DATASETS) the rows become."""
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    category_columns: tuple[str, ...] = ()
    lenient: bool = False
    """Conventional column names: the ones a file lacks are ignored instead of reported."""
    explicit: frozenset[str] = frozenset()
    """Fields whose columns were named by the user: reported when missing even if lenient."""

    @property
    def spec(self) -> DatasetSpec:
        """The dataset the rows become (NotFoundError when the name is not one)."""
        return get_dataset(self.dataset)

    def with_columns(self, **columns: str) -> FieldMapping:
        """A copy with some fields read from other columns (CLI overrides, never ignored when missing)."""
        merged = {**self.columns, **{name: (column,) for name, column in columns.items()}}
        return replace(self, columns=merged, explicit=self.explicit | set(columns))

    def with_constants(self, **constants: str) -> FieldMapping:
        """A copy with some fields set to one value for every row."""
        return replace(self, constants={**self.constants, **constants})


def apply_mapping(frame: pd.DataFrame, mapping: FieldMapping, file_name: str) -> pd.DataFrame:
    """Build the target fields (text, None where empty) from a source frame."""
    if mapping.lenient:
        mapping = present_columns(mapping, frame)
    _check_columns_exist(frame, mapping, file_name)
    out: dict[str, object] = {}
    for name in mapping.spec.target_fields:
        if name in mapping.constants:
            out[name] = mapping.constants[name]
        else:
            out[name] = _first_non_empty(frame, mapping.columns.get(name, ()))
    if mapping.category_columns:
        out["category"], out["kind"] = _category(frame, mapping.category_columns)
    return pd.DataFrame(out, index=frame.index)


def only_field(mapping: FieldMapping, name: str) -> FieldMapping:
    """The mapping of field ``name`` alone: :func:`apply_mapping` then leaves the other fields empty.

    >>> m = FieldMapping("addresses", {"source_id": ("id",), "street": ("duong",)}, category_columns=("x",))
    >>> only_field(m, "source_id").columns, only_field(m, "source_id").category_columns
    ({'source_id': ('id',)}, ())
    """
    return replace(
        mapping,
        columns={k: v for k, v in mapping.columns.items() if k == name},
        constants={k: v for k, v in mapping.constants.items() if k == name},
        category_columns=(),
    )


def unmapped_fields(frame: pd.DataFrame, mapping: FieldMapping) -> tuple[str, ...]:
    """The fields a re-import would overwrite that neither a column of the file nor a constant gives.

    A Shapefile truncates column names to 10 characters ("house_number" becomes
    "house_numb"): the conventional mapping then finds no house number column at all.
    """
    if mapping.lenient:
        mapping = present_columns(mapping, frame)
    return tuple(
        name
        for name in mapping.spec.blankable_fields
        if name not in mapping.constants and not mapping.columns.get(name)
    )


def _check_columns_exist(frame: pd.DataFrame, mapping: FieldMapping, file_name: str) -> None:
    """Every mapped column must exist in the file; say which do not."""
    wanted = {c: name for name, columns in mapping.columns.items() for c in columns}
    wanted |= {c: "category" for c in mapping.category_columns}
    have = set(map(str, frame.columns))
    missing = sorted(column for column in wanted if column not in have)
    if missing:
        columns = [str(c) for c in frame.columns if c not in (FEATURE_COLUMN, "geometry")]
        raise ImportValidationError(
            file_name,
            [
                f"column {column!r} (mapped to field {wanted[column]!r}) is not in the file; "
                f"its columns are {columns}"
                for column in missing
            ],
        )


def clean_text(values: pd.Series) -> pd.Series:
    """Values as stripped text, None for empty or missing (text dtype once any value is left)."""
    cleaned = clean_objects(values)
    if cleaned is None:
        text = values.astype(object).where(values.notna(), None)
        return text.map(lambda v: None if v is None else (str(v).strip() or None))
    if len(cleaned) == 0 or all_none(cleaned):
        return pd.Series(cleaned, index=values.index, dtype=object, name=values.name)
    return pd.Series(cleaned, index=values.index, dtype="str", name=values.name)


def all_none(values: NDArray[np.object_]) -> bool:
    """Whether every cell of an object array is None."""
    cells: list[object] = values.tolist()
    return cells.count(None) == len(cells)


def is_text(values: pd.Series) -> bool:
    """Whether every present cell is a ``str`` (a text dtype, or objects that are all text)."""
    if isinstance(values.dtype, pd.StringDtype):
        return True
    return values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "string"


def clean_objects(values: pd.Series) -> NDArray[np.object_] | None:
    """Stripped text cells as objects, None for empty or missing; None when not all text.

    Each distinct value is stripped once.
    """
    if not is_text(values):
        return None
    codes, uniques = pd.factorize(values)
    stripped = [value.strip() or None for value in np.asarray(uniques, dtype=object).tolist()]
    table = np.array([*stripped, None], dtype=object)
    taken: NDArray[np.object_] = table[codes]
    return taken


def _first_non_empty(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """The first non-empty value among ``columns``, row by row."""
    in_arrow = _arrow_first_non_empty(frame, columns)
    if in_arrow is not None:
        return in_arrow
    result = np.full(len(frame), None, dtype=object)
    empty = np.ones(len(frame), dtype=bool)
    for column in columns:
        cleaned = _cleaned_with_gaps(frame[column])
        result[empty] = cleaned[empty]
        empty &= pd.isna(cleaned)
    return pd.Series(result, index=frame.index, dtype=object)


def _arrow_first_non_empty(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series | None:
    """:func:`_first_non_empty` in Arrow, as ``str`` dtype: when every column is Arrow text needing no strip.

    Else (or when no cell has a value) None: the cells are then cleaned in Python.
    """
    texts = [arrowtext.arrow_text(frame[column]) for column in columns]
    present = [arrowtext.stripped_or_none(text) for text in texts if text is not None]
    cleaned = [text.cast(pa.large_string()) for text in present if text is not None]  # one type to coalesce
    if not cleaned or len(cleaned) < len(columns):
        return None
    merged = pc.coalesce(*cleaned) if len(cleaned) > 1 else cleaned[0]
    if merged.null_count == len(merged):
        return None
    return pd.Series(arrowtext.as_text(merged), index=frame.index)


def _cleaned_with_gaps(values: pd.Series) -> NDArray[np.object_]:
    """``clean_text`` as objects: gaps are NaN when it gives text dtype, None when all are empty."""
    cleaned = clean_objects(values)
    if cleaned is None:
        return clean_text(values).to_numpy(dtype=object)
    if len(cleaned) and not all_none(cleaned):
        cleaned[pd.isna(cleaned)] = np.nan
    return cleaned


def _category(frame: pd.DataFrame, columns: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """OSM-style category: the first tag key present among ``columns`` and its value."""
    category = np.full(len(frame), None, dtype=object)
    kind = category.copy()
    free = np.ones(len(frame), dtype=bool)
    for column in columns:
        value = _cleaned_with_gaps(frame[column])
        take = free & ~pd.isna(value)
        category[take] = column
        kind[take] = value[take]
        free &= ~take
    return pd.Series(category, index=frame.index, dtype=object), pd.Series(
        kind, index=frame.index, dtype=object
    )


def load_mapping_file(path: Path) -> FieldMapping:
    """Read a TOML mapping file (dataset, [fields], [constants], category_columns)."""
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ImportValidationError(path.name, [f"cannot read mapping: {error}"]) from error
    dataset = DATASETS.get(str(spec.get("dataset")))
    if dataset is None:
        problem = f"dataset must be one of {tuple(DATASETS)}, not {spec.get('dataset')!r}"
        raise ImportValidationError(path.name, [problem])
    unknown = set(spec.get("fields", {})) - set(dataset.target_fields)
    if unknown:
        raise ImportValidationError(path.name, [f"unknown field(s) {sorted(unknown)} for {dataset}"])
    columns = {
        name: (value,) if isinstance(value, str) else tuple(value)
        for name, value in spec.get("fields", {}).items()
    }
    constants = {name: str(value) for name, value in spec.get("constants", {}).items()}
    return FieldMapping(dataset.name, columns, constants, tuple(spec.get("category_columns", ())))


def default_mapping(dataset: str) -> FieldMapping:
    """A mapping that reads conventional column names (name, code, house_number...)."""
    aliases: dict[str, tuple[str, ...]] = {
        "source_id": ("id", "source_id", "fid", "ma"),
        "name": ("name", "ten", "ten_thon", "fullName", "full_name"),
        "code": ("code", "ma", "gso_code", "ma_gso"),
        "full_name": ("fullName", "full_name", "ten_day_du"),
        "house_number": ("house_number", "housenumber", "addr:housenumber", "so_nha"),
        "alley": ("alley", "ngo", "hem", "kiet"),
        "street": ("street", "addr:street", "duong", "ten_duong"),
        "village_name": ("village", "village_name", "thon", "xom", "ban"),
        "commune_code": ("commune_code", "ma_xa", "ward_code"),
        "official_code": ("official_code", "ma_dia_chi", "madiachi"),
        "status": ("status", "trang_thai"),
    }
    fields = set(get_dataset(dataset).target_fields)
    return FieldMapping(dataset, {k: v for k, v in aliases.items() if k in fields}, lenient=True)


def present_columns(mapping: FieldMapping, frame: pd.DataFrame) -> FieldMapping:
    """Drop mapped columns a file does not have (for conventional default mappings)."""
    have = set(map(str, frame.columns))
    columns = {
        name: cols if name in mapping.explicit else tuple(c for c in cols if c in have)
        for name, cols in mapping.columns.items()
    }
    return replace(mapping, columns={k: v for k, v in columns.items() if v})


def as_int(values: pd.Series) -> pd.Series:
    """Text to nullable integers (None where empty)."""
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers.astype(object).where(numbers.notna() & np.isfinite(numbers.astype(float)), None)
