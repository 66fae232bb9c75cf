"""The oracle: the simulator's exact label probabilities, the ceiling any model is measured against.

Only simulated data has one (events/simulator/README.md, "Ground truth"). Its probabilities hold
for the simulator's `horizon_days`: they are the oracle of a task only when the task uses the same
horizon (both default to 30 days). They also assume no new campaign after the cutoff, so observed
churn runs a few points below p_churn; the ranking is unaffected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ORACLE_TASKS = ("churn", "conversion", "vip")
CUTOFFS_FILE = "cutoffs.parquet"
# The ground-truth column holding P(label = 1) per task. VIP has none: becoming a VIP depends on
# the future spend of every other customer (the threshold is a quantile), which the simulator does
# not compute in closed form, so the VIP oracle is missing rather than approximated.
_TRUTH_COLUMN: dict[str, str | None] = {"churn": "p_churn", "conversion": "p_convert", "vip": None}


def has_oracle(truth_dir: Path) -> bool:
    """True when `truth_dir` holds simulator ground truth (never for real data)."""
    return (truth_dir / CUTOFFS_FILE).is_file()


def oracle_scores(truth_dir: Path, labels: pd.DataFrame, task: str) -> pd.Series:
    """The true P(label = 1) of each `labels` row (customer_id, event_timestamp), on its index.

    Rows match ground truth on customer_id and event_timestamp == cutoff_ts. NaN where there is no
    truth: real data, a cutoff off the ground-truth grid, a customer outside the truth's stage for
    the task (p_churn exists for buyers only, p_convert for prospects only), or the VIP task.
    """
    if task not in _TRUTH_COLUMN:
        raise ValueError(f"unknown task {task!r}; allowed: {', '.join(ORACLE_TASKS)}")
    column = _TRUTH_COLUMN[task]
    missing = pd.Series(np.nan, index=labels.index, dtype="float64", name="oracle")
    if column is None or labels.empty or not has_oracle(truth_dir):
        return missing
    truth = pd.read_parquet(truth_dir / CUTOFFS_FILE, columns=["customer_id", "cutoff_ts", column])
    keys = pd.DataFrame(
        {
            "customer_id": labels["customer_id"].to_numpy(dtype=np.int64),
            "cutoff_ts": _utc_ns(labels["event_timestamp"]).reset_index(drop=True),
        }
    )
    truth = truth.assign(
        customer_id=truth["customer_id"].astype("int64"), cutoff_ts=_utc_ns(truth["cutoff_ts"])
    )
    # A left merge keeps the label rows' order; many_to_one guards against a duplicated truth row
    # silently duplicating labels.
    joined = keys.merge(truth, on=["customer_id", "cutoff_ts"], how="left", validate="many_to_one")
    return pd.Series(joined[column].to_numpy(dtype=np.float64), index=labels.index, name="oracle")


def _utc_ns(times: pd.Series) -> pd.Series:
    """One dtype for both sides of the join: naive times read as UTC, any unit as ns."""
    return pd.to_datetime(times, utc=True).dt.as_unit("ns")
