"""Validated reading and all-or-nothing writing of contract tables (one parquet file per table)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from configs.atomic import staging_folder, swap_in
from configs.locks import file_lock
from events.contract import REQUIRED_TABLES, TABLES, empty_table

log = logging.getLogger(__name__)

_MAX_BAD_ROWS = 5


class ContractError(ValueError):
    """A table broke the event contract; the message names the file, column and first bad rows."""


def validate_table(name: str, frame: pd.DataFrame, source: str | Path) -> pd.DataFrame:
    """Return `frame` coerced to the contract of table `name`, or raise ContractError."""
    if name not in TABLES:
        raise ContractError(f"{source}: unknown table {name!r}; allowed: {', '.join(TABLES)}")
    schema = TABLES[name].schema
    missing = [c for c in schema.columns if c not in frame.columns]
    extra = [c for c in frame.columns if c not in schema.columns]
    if missing or extra:
        raise ContractError(
            f"{source}: table {name!r} has missing columns {missing} and unexpected columns {extra}"
        )
    try:
        return schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        raise ContractError(_describe_failures(name, source, frame, err.failure_cases)) from None


def _describe_failures(name: str, source: str | Path, frame: pd.DataFrame, cases: pd.DataFrame) -> str:
    lines = [f"{source}: table {name!r} breaks the contract"]
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        rows = group["index"].dropna().astype(int).unique()[:_MAX_BAD_ROWS].tolist()
        values = group["failure_case"].head(_MAX_BAD_ROWS).tolist()
        lines.append(
            f"  column {column!r} fails {check}: {len(group)} row(s), first rows {rows} with values {values}"
        )
        if rows and column in frame.columns:
            lines.append(f"    {frame.loc[frame.index.isin(rows)].head(_MAX_BAD_ROWS).to_dict('records')}")
    return "\n".join(lines)


def write_dataset(tables: Mapping[str, pd.DataFrame], dest: Path) -> dict[str, int]:
    """Validate every table, then replace `dest` with them in one move.

    Nothing is written if any table fails: validation happens before the first byte, and the files
    land in a sibling temporary folder that is swapped in only when complete.
    """
    with _dataset_lock(dest):
        return _replace_dataset(tables, dest)


def update_dataset(dest: Path, change: Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]]) -> None:
    """Read the dataset at `dest`, `change` it and write it back, all under the dataset's lock: two
    updates at once (say, two campaigns measured together) would otherwise each write back the
    dataset without the other's rows."""
    with _dataset_lock(dest):
        _replace_dataset(change(read_dataset(dest)), dest)


def _dataset_lock(dest: Path) -> AbstractContextManager[None]:
    # Beside the folder, not in it: the folder itself is swapped out by every write.
    return file_lock(dest.parent / f".{dest.name}.lock")


def _replace_dataset(tables: Mapping[str, pd.DataFrame], dest: Path) -> dict[str, int]:
    for required in REQUIRED_TABLES:
        if required not in tables:
            raise ContractError(f"{dest}: dataset lacks required table {required!r}")
    # An empty import would silently replace a working dataset with nothing.
    if tables["customers"].empty:
        raise ContractError(f"{dest}: the new dataset has no customers; the current one is kept")
    valid = {name: validate_table(name, frame, f"{dest}/{name}.parquet") for name, frame in tables.items()}
    with staging_folder(dest) as staging:
        for name, frame in valid.items():
            frame.reset_index(drop=True).to_parquet(staging / f"{name}.parquet", index=False)
        swap_in(staging, dest)
    log.info("wrote %d tables to %s", len(valid), dest)
    return {name: len(frame) for name, frame in valid.items()}


def read_table(root: Path, name: str) -> pd.DataFrame:
    """Read and validate one table of the dataset at `root`; optional tables may be absent."""
    path = root / f"{name}.parquet"
    if not path.exists():
        if name in REQUIRED_TABLES:
            raise ContractError(f"{path}: required table {name!r} is missing")
        return empty_table(name)
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        raise ContractError(f"{path}: cannot be read as parquet ({err})") from None
    return validate_table(name, frame, path)


def read_dataset(root: Path) -> dict[str, pd.DataFrame]:
    """Every contract table of the dataset at `root`, validated."""
    if not root.is_dir():
        raise ContractError(f"{root}: no dataset here (expected a folder of <table>.parquet files)")
    return {name: read_table(root, name) for name in TABLES}
