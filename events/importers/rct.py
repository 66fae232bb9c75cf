"""Import a randomized controlled trial export (e.g. Hillstrom's e-mail test) into the contract.

One row per customer: the arm they were randomized to, a binary outcome over the test window and
optionally their spend. Each non-control arm becomes an e-mail campaign whose holdout is the shared
control group (the contract's multi-arm layout); an outcome of 1 becomes a session inside the
window and spend an order, so campaign measurement reads the test like any other campaign.

Source columns the contract has no place for (Hillstrom: recency, history, mens, womens, newbie...)
are kept verbatim in ``<dest>/../rct_covariates.parquet`` keyed by customer_id: uplift models need
these pre-period covariates, and contract tables do not grow ad-hoc columns.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from events.importers import fields
from events.importers.report import ImportReport
from events.importers.sidecar import covariates_path, write_with_covariates
from events.importers.source import read_source
from events.importers.trial import Trial, trial_tables
from events.store import ContractError

log = logging.getLogger(__name__)

DEFAULT_START = datetime(2008, 3, 1, tzinfo=UTC)  # Hillstrom's test ran in March 2008
DEFAULT_WINDOW = timedelta(days=14)
# Only a web channel says which device a customer uses; "Phone" in Hillstrom is phone ordering.
_DEVICE_BY_CHANNEL = {"web": "web"}


@dataclass(frozen=True)
class RctColumns:
    """Source column names; `control_value` is the arm label meaning "not contacted".

    `region` and `channel` (Hillstrom: zip_code and channel) fill the profile when given.
    """

    treatment: str
    outcome: str
    control_value: str
    spend: str | None = None
    region: str | None = None
    channel: str | None = None


def import_rct(
    path: Path,
    dest: Path,
    columns: RctColumns,
    *,
    start: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
) -> ImportReport:
    """Replace the dataset at `dest` and its covariates file with the trial at `path`.

    `start` is when customers were assigned and e-mailed (naive = UTC; default 2008-03-01, the
    Hillstrom test); campaigns end at start + window. Nothing is written when any value is bad.
    """
    started = time.perf_counter()
    begin = pd.Timestamp(start or DEFAULT_START)
    begin = begin.tz_localize("UTC") if begin.tzinfo is None else begin.tz_convert("UTC")
    used = (columns.treatment, columns.outcome, columns.spend)
    raw = read_source(path, (*used, columns.region, columns.channel), text=_text_columns(columns))
    trial = Trial(_people(raw, path, columns), begin, begin + pd.Timedelta(window))
    # A source id column stays as data; the contract's customer_id is the row number.
    covariates = raw.drop(columns=[c for c in used if c]).rename(
        columns={"customer_id": "source_customer_id"}
    )
    covariates.insert(0, "customer_id", trial.people["customer_id"])
    counts = write_with_covariates(trial_tables(trial), dest, covariates)
    spend_note = f"{columns.spend!r} > 0 -> an order" if columns.spend else "no spend: no orders"
    return ImportReport(
        source=path,
        dest=dest,
        rows_read=len(raw),
        dropped={},
        tables=counts,
        seconds=time.perf_counter() - started,
        notes=(
            f"outcome {columns.outcome!r} = 1 -> a session at {trial.outcome_ts:%Y-%m-%d %H:%M}; "
            + spend_note,
            f"campaigns run {trial.start:%Y-%m-%d} to {trial.end:%Y-%m-%d} (end = start + window)",
            f"customer_id = 0-based data row; other columns kept in {covariates_path(dest)}",
        ),
    )


def _text_columns(columns: RctColumns) -> list[str]:
    return [c for c in (columns.treatment, columns.region, columns.channel) if c]


def _people(raw: pd.DataFrame, path: Path, columns: RctColumns) -> pd.DataFrame:
    channel = _labels(raw, columns.channel).str.lower()
    return pd.DataFrame(
        {
            "customer_id": pd.RangeIndex(len(raw)),
            "arm": _arms(raw, path, columns),
            "outcome": _outcome(raw, path, columns.outcome),
            "spend": _spend(raw, path, columns.spend),
            "region": _labels(raw, columns.region),
            "acquisition_channel": channel,
            "device": channel.map(_DEVICE_BY_CHANNEL).fillna("unknown").astype("string"),
        }
    )


def _arms(raw: pd.DataFrame, path: Path, columns: RctColumns) -> pd.Series:
    """Campaign slug per row, missing for the control group."""
    source = raw[columns.treatment]
    labels = fields.labels(source)
    if labels.isna().any():
        raise fields.bad_values(path, columns.treatment, "missing arm(s)", source[labels.isna()])
    found = sorted(labels.unique())
    control = labels == columns.control_value
    if not control.any() or control.all():
        raise ContractError(
            f"{path}: column {columns.treatment!r} needs control rows ({columns.control_value!r}) "
            f"and treated rows; its values are {found}"
        )
    slugs = {label: slug(label) for label in found if label != columns.control_value}
    if "" in slugs.values() or len(set(slugs.values())) < len(slugs):
        raise ContractError(f"{path}: arms {found} do not give distinct campaign names {slugs}")
    return labels.map(slugs).where(~control).astype("string")


def _outcome(raw: pd.DataFrame, path: Path, column: str) -> pd.Series:
    values = fields.numbers(raw[column], path, column)
    non_binary = ~values.isin([0.0, 1.0])
    if non_binary.any():
        raise fields.bad_values(path, column, "value(s) other than 0 and 1", raw[column][non_binary])
    return values == 1.0


def _spend(raw: pd.DataFrame, path: Path, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series(0.0, index=raw.index)
    values = fields.numbers(raw[column], path, column)
    if (values < 0).any():
        raise fields.bad_values(path, column, "negative value(s)", raw[column][values < 0])
    return values


def _labels(raw: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series("unknown", index=raw.index, dtype="string")
    return fields.labels(raw[column]).fillna("unknown")


def slug(label: str) -> str:
    """'Mens E-Mail' -> 'mens_email': lower case, hyphens joined, other separators to '_'."""
    joined = re.sub(r"[-'\u2019]", "", label.lower())
    return re.sub(r"[^a-z0-9]+", "_", joined).strip("_")
