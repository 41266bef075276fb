"""The grid every table format is rendered from, and the helpers that lay out its header rows and labels.

:func:`to_grid` turns a DataFrame into a :class:`Grid` of plain Python values (missing values as None,
numpy scalars unwrapped), so that no renderer in :mod:`gripcode.export.tables` deals with pandas types.
With a column MultiIndex, each column level becomes a header row (:func:`header_rows`) and a label of an
upper level spans the stretch of columns that share it (:func:`column_spans`); with a row MultiIndex, an
outer row label that repeats the row above can be left blank (:func:`sparse_row_keys`).
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

SEPARATOR = " / "


@dataclass(frozen=True)
class RenderOptions:
    """What the caller asked of every format besides the data: caption, LaTeX label, decimals shown."""

    caption: str | None
    label: str | None
    digits: int


# ------------------------------------------------------------------------------------------------ cell values


def _plain(value: Any) -> Any:
    """A cell as a Python value: None for every kind of missing, numpy scalars unwrapped.

    numpy and pandas values can only occur once those libraries are loaded, so a table built from plain rows
    is rendered without importing them."""
    kind = type(value)
    if kind is str or kind is int or kind is bool:
        return value
    if kind is float:
        return None if math.isnan(value) else value
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        value = value.item()
    pd = sys.modules.get("pandas")
    if value is None or (pd is not None and (value is pd.NaT or value is pd.NA)):
        return None
    if pd is not None and isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, float) and math.isnan(value):
        return None
    if pd is not None and isinstance(value, pd.Timedelta):
        return str(value)
    return value


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def label_text(value: Any) -> str:
    """A label (or a text cell) as a string: empty for missing, dates ISO 8601."""
    value = _plain(value)
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)


def display_text(value: Any, digits: int) -> str:
    """A plain value as a display format shows it: floats with ``digits`` decimals."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


# ------------------------------------------------------------------------------------------------ the grid


@dataclass(frozen=True)
class Grid:
    """The DataFrame as plain values: ``k`` row-label columns, then the data columns."""

    index_names: list[str]
    column_names: list[str]  # one per column level
    column_keys: list[tuple[str, ...]]  # per data column, its label at each level
    row_keys: list[tuple[Any, ...]]  # per row, its label at each row level
    values: list[list[Any]]
    numeric: list[bool]  # per data column

    @property
    def k(self) -> int:
        return len(self.index_names)

    @property
    def levels(self) -> int:
        return len(self.column_names)

    def header(self) -> list[str]:
        return self.index_names + [SEPARATOR.join(p for p in key if p) for key in self.column_keys]

    def rows(self) -> list[list[Any]]:
        return [[*keys, *values] for keys, values in zip(self.row_keys, self.values, strict=True)]


def to_grid(df: pd.DataFrame, *, index: bool) -> Grid:
    """``df`` as a :class:`Grid`; ``index=False`` leaves the row labels out."""
    import pandas as pd

    multi_columns = isinstance(df.columns, pd.MultiIndex)
    multi_rows = isinstance(df.index, pd.MultiIndex)
    columns = [tuple(label_text(p) for p in (c if multi_columns else (c,))) for c in df.columns]
    rows = [tuple(_plain(p) for p in (r if multi_rows else (r,))) for r in df.index] if index else []
    numeric = [
        pd.api.types.is_numeric_dtype(df.iloc[:, j]) and not pd.api.types.is_bool_dtype(df.iloc[:, j])
        for j in range(df.shape[1])
    ]
    return Grid(
        index_names=[label_text(n) for n in df.index.names] if index else [],
        column_names=[label_text(n) for n in df.columns.names],
        column_keys=columns,
        row_keys=rows if index else [() for _ in range(len(df))],
        values=_plain_rows(df),
        numeric=numeric,
    )


def _plain_rows(df: pd.DataFrame) -> list[list[Any]]:
    """The cells of ``df`` row by row as plain values, converted a column at a time (``tolist`` unwraps numpy
    scalars in C)."""
    columns = [[_plain(v) for v in df.iloc[:, j].tolist()] for j in range(df.shape[1])]
    if not columns:
        return [[] for _ in range(len(df))]
    return [list(row) for row in zip(*columns, strict=True)]


def without_row_keys(grid: Grid) -> Grid:
    """``grid`` without its row labels (what ``index=False`` gives for a DataFrame)."""
    return Grid(index_names=[], column_names=grid.column_names, column_keys=grid.column_keys,
                row_keys=[() for _ in grid.values], values=grid.values, numeric=grid.numeric)


def grid_frame(grid: Grid) -> pd.DataFrame:
    """The DataFrame a :class:`Grid` was or could have been made from: one index level per row-label column
    (an empty name as None), one column level per header row, each column's dtype inferred from its values
    (whole numbers int64; numbers with a missing value float64 with NaN; text object; object without rows)."""
    import pandas as pd

    names = [name or None for name in grid.column_names]
    if len(names) > 1:
        columns: pd.Index = (pd.MultiIndex.from_tuples(grid.column_keys, names=names) if grid.column_keys
                              else pd.MultiIndex.from_arrays([[] for _ in names], names=names))
    else:
        columns = pd.Index([key[0] for key in grid.column_keys], name=names[0] if names else None, dtype=object)
    index: pd.Index | None = None
    if grid.k > 1:
        index = pd.MultiIndex.from_tuples(grid.row_keys, names=[name or None for name in grid.index_names])
    elif grid.k == 1:
        index = pd.Index([key[0] for key in grid.row_keys], name=grid.index_names[0] or None)
    data = {j: [row[j] for row in grid.values] for j in range(len(grid.column_keys))}
    frame = pd.DataFrame(data, index=index, dtype=None if grid.values else object)
    frame.columns = columns
    return frame


def subgrid(grid: Grid, data_columns: Sequence[int]) -> Grid:
    """``grid`` with only these data columns (the row labels stay)."""
    return Grid(
        index_names=grid.index_names,
        column_names=grid.column_names,
        column_keys=[grid.column_keys[j] for j in data_columns],
        row_keys=grid.row_keys,
        values=[[row[j] for j in data_columns] for row in grid.values],
        numeric=[grid.numeric[j] for j in data_columns],
    )


# ------------------------------------------------------------------------------------------------ labels, spans


def key_runs(keys: Sequence[tuple[Any, ...]], depth: int) -> list[tuple[int, int]]:
    """Half-open stretches ``[start, end)`` of consecutive keys that share their first ``depth`` parts."""
    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i][:depth] != keys[start][:depth]:
            runs.append((start, i))
            start = i
    return runs


def sparse_row_keys(keys: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """Row labels with an outer level blanked (None) where it repeats the row above."""
    out = []
    for i, key in enumerate(keys):
        row = list(key)
        for level in range(len(key) - 1):
            if i > 0 and keys[i - 1][: level + 1] == key[: level + 1]:
                row[level] = None
        out.append(row)
    return out


def header_rows(grid: Grid) -> list[list[str]]:
    """One header row per column level; a spanning label only in the first column it spans."""
    rows = []
    for level in range(grid.levels):
        last = level == grid.levels - 1
        index_part = list(grid.index_names) if last else [""] * grid.k
        if not last and grid.k:
            index_part[-1] = grid.column_names[level]
        data = [key[level] for key in grid.column_keys]
        if not last:
            for start, end in key_runs(grid.column_keys, level + 1):
                data[start + 1 : end] = [""] * (end - start - 1)
        rows.append(index_part + data)
    return rows


ColumnSpans = list[list[tuple[int, int]]]


def column_spans(grid: Grid) -> ColumnSpans:
    """For each upper column level, the ``[start, end)`` table columns each of its labels spans."""
    levels = range(grid.levels - 1)
    return [[(grid.k + a, grid.k + b) for a, b in key_runs(grid.column_keys, level + 1)] for level in levels]


def widen_for_spans(
    widths: list[int], header: list[list[str]], spans: ColumnSpans, size: Callable[[str], int], gap: int
) -> None:
    """Widen columns so that every spanning label fits over the columns it spans (shared out evenly)."""
    for level, level_spans in enumerate(spans):
        for a, b in level_spans:
            missing = size(header[level][a]) - sum(widths[a:b]) - gap * (b - a - 1)
            for j in range(a, b):
                widths[j] += -(-max(0, missing) // (b - a))
