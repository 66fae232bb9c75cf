"""Typed columns from raw source values; bad values fail with the file, column and first bad rows.

Rows are named by their 0-based position among the file's data rows (header excluded), the same
numbering pandas and pyarrow use, so `frame.iloc[row]` finds them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from events.store import ContractError

_SHOWN = 5


def bad_values(source: Path, column: str, problem: str, bad: pd.Series) -> ContractError:
    """The error for the rows of `bad` (raw values indexed by row) of `column`."""
    rows = [int(i) for i in bad.index[:_SHOWN]]
    values = ["<missing>" if pd.isna(v) else v for v in bad.head(_SHOWN).tolist()]
    return ContractError(
        f"{source}: column {column!r} has {len(bad):,} {problem}; "
        f"first rows {rows} (0-based data rows) with values {values}"
    )


def timestamps(values: pd.Series, source: Path, column: str) -> pd.Series:
    """UTC timestamps; naive values are read as UTC, aware ones converted to it.

    pandas infers one format from the first value and holds every row to it: a column mixing
    formats fails loudly instead of having day and month swapped on some rows.
    """
    if pd.api.types.is_numeric_dtype(values):
        # An epoch number could be seconds, milliseconds or nanoseconds: guessing silently is worse.
        raise ContractError(
            f"{source}: column {column!r} holds numbers ({values.dtype}), not timestamps; "
            "export it as date-time text (ISO 8601, e.g. 2011-12-09 12:50:00)"
        )
    parsed = pd.to_datetime(values, errors="coerce", utc=True)
    failed = parsed.isna()
    if failed.any():
        raise bad_values(
            source,
            column,
            "missing or unparsable timestamp(s) (one format per column)",
            values[failed],
        )
    return parsed.astype(pd.DatetimeTZDtype("ns", "UTC"))


def numbers(values: pd.Series, source: Path, column: str) -> pd.Series:
    """Finite float64 values; missing and non-numeric values are errors, not silent NaN."""
    parsed = pd.to_numeric(values, errors="coerce").astype("float64")
    failed = ~np.isfinite(parsed.to_numpy())
    if failed.any():
        raise bad_values(source, column, "missing or non-numeric value(s)", values[failed])
    return parsed


def whole_numbers(values: pd.Series, source: Path, column: str) -> pd.Series:
    """int64 values (e.g. quantities): fractions are errors rather than being truncated."""
    parsed = numbers(values, source, column)
    fractional = parsed % 1 != 0
    if fractional.any():
        raise bad_values(source, column, "non-integer value(s)", values[fractional])
    return parsed.astype("int64")


def labels(values: pd.Series) -> pd.Series:
    """Stripped text with blanks as missing (<NA>), for ids and categories."""
    text = values.astype("string").str.strip()
    return text.mask(text == "")
