"""Campaign assignments joined to what happened in each campaign's window: the rows uplift models
learn from and campaign measurement counts.

Outcome = at least one order in [assigned_ts, campaign end_ts); revenue = net order value in the same
window. The propensity is P(treatment) for the row's campaign, recovered from the logged
probability of the arm the customer actually got.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from events.store import read_table

COLUMNS = [
    "customer_id", "event_timestamp", "campaign_id", "action", "channel",
    "treated", "propensity", "converted", "revenue",
]  # fmt: skip


def campaign_rows(raw: Path) -> pd.DataFrame:
    """Every logged assignment of the dataset at `raw` with its window outcome."""
    return window_outcomes(
        read_table(raw, "campaign_assignments"), read_table(raw, "campaigns"), read_table(raw, "orders")
    )


def window_outcomes(assignments: pd.DataFrame, campaigns: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    unknown = set(assignments["campaign_id"]) - set(campaigns["campaign_id"])
    if unknown:
        raise ValueError(f"campaign_assignments: campaign ids with no campaign row: {sorted(unknown)[:5]}")
    rows = assignments.merge(
        campaigns[["campaign_id", "action", "channel", "end_ts"]], on="campaign_id", how="left"
    ).reset_index(drop=True)
    treated = (rows["arm"] == "treatment").to_numpy()
    probability = rows["assignment_probability"].to_numpy(dtype=np.float64)
    revenue, converted = _window_revenue(rows, orders)
    return pd.DataFrame(
        {
            "customer_id": rows["customer_id"].astype("int64"),
            "event_timestamp": rows["assigned_ts"],
            "campaign_id": rows["campaign_id"].astype("string"),
            "action": rows["action"].astype("string"),
            "channel": rows["channel"].astype("string"),
            "treated": treated.astype(np.int8),
            "propensity": np.where(treated, probability, 1.0 - probability),
            "converted": converted.astype(np.int8),
            "revenue": revenue,
        }
    )[COLUMNS]


def _window_revenue(rows: pd.DataFrame, orders: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row: net revenue and whether any order fell in [assigned_ts, end_ts)."""
    keyed = rows[["customer_id", "assigned_ts", "end_ts"]].reset_index(names="row")
    joined = keyed.merge(orders[["customer_id", "order_ts", "net_amount"]], on="customer_id")
    inside = joined[(joined["order_ts"] >= joined["assigned_ts"]) & (joined["order_ts"] < joined["end_ts"])]
    per_row = inside.groupby("row")["net_amount"].agg(["sum", "size"])
    revenue = np.zeros(len(rows))
    counts = np.zeros(len(rows))
    revenue[per_row.index.to_numpy()] = per_row["sum"].to_numpy()
    counts[per_row.index.to_numpy()] = per_row["size"].to_numpy()
    return revenue, counts > 0
