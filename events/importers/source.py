"""Reading a source file (CSV or parquet) and checking that the columns an import names exist."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from pathlib import Path

import pandas as pd

from events.store import ContractError

log = logging.getLogger(__name__)

_PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz")


def read_source(path: Path, columns: Iterable[str | None], *, text: Collection[str] = ()) -> pd.DataFrame:
    """Every column of the CSV or parquet file at `path`, with a 0-based RangeIndex of data rows.

    `columns` are the ones the import needs (None entries are options not given); a missing one
    raises ContractError listing what the file has. `text` columns are read from CSV as strings
    so identifiers keep their exact spelling (leading zeros, letters) rather than a guessed type.
    """
    wanted = [c for c in columns if c is not None]
    frame = _read(path, [c for c in wanted if c in text])
    missing = [c for c in dict.fromkeys(wanted) if c not in frame.columns]
    if missing:
        raise ContractError(f"{path}: missing column(s) {missing}; the file has {list(frame.columns)}")
    log.info("read %d rows x %d columns from %s", len(frame), frame.shape[1], path)
    return frame.reset_index(drop=True)


def _read(path: Path, text: list[str]) -> pd.DataFrame:
    name = path.name.lower()
    try:
        if name.endswith(_PARQUET_SUFFIXES):
            return pd.read_parquet(path)
        if name.endswith(_CSV_SUFFIXES):
            # Columns absent from the file are reported by the caller, so only ask for present ones.
            header = pd.read_csv(path, nrows=0).columns
            return pd.read_csv(path, dtype={c: "string" for c in text if c in header})
    except (OSError, ValueError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise ContractError(f"{path}: cannot be read as a table: {err}") from None
    raise ContractError(
        f"{path}: unsupported file type; give a CSV ({', '.join(_CSV_SUFFIXES)}) "
        f"or parquet ({', '.join(_PARQUET_SUFFIXES)}) file"
    )
