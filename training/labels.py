"""Churn labels from raw orders: who, at each cutoff, places no order within the horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd

from configs.schema import ChurnTaskConfig
from events.calendar import grid_after

LABEL = "churned"


def label_cutoffs(
    first_day: pd.Timestamp,
    last_event: pd.Timestamp,
    task: ChurnTaskConfig,
    snapshot_every_days: int,
) -> list[pd.Timestamp]:
    """Calendar-grid cutoffs (a subset of the snapshot times) whose whole horizon is in the data."""
    if task.cutoff_every_days % snapshot_every_days:
        raise ValueError(
            f"cutoff_every_days ({task.cutoff_every_days}) must be a multiple of "
            f"snapshot_every_days ({snapshot_every_days}) so every cutoff has fresh features"
        )
    latest = last_event.normalize() + pd.Timedelta(days=1) - pd.Timedelta(days=task.horizon_days)
    return grid_after(first_day, latest, task.cutoff_every_days)


def churn_labels(orders: pd.DataFrame, cutoffs: list[pd.Timestamp], task: ChurnTaskConfig) -> pd.DataFrame:
    """customer_id, event_timestamp (the cutoff), churned: active buyers at each cutoff."""
    order_times = orders[["customer_id", "order_ts"]].sort_values("order_ts")
    horizon = pd.Timedelta(days=task.horizon_days)
    active_window = pd.Timedelta(days=task.active_window_days)
    frames = []
    for cutoff in cutoffs:
        before = order_times[
            (order_times["order_ts"] < cutoff) & (order_times["order_ts"] >= cutoff - active_window)
        ]
        active = before["customer_id"].unique()
        after = order_times[
            (order_times["order_ts"] >= cutoff) & (order_times["order_ts"] < cutoff + horizon)
        ]
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": active.astype("int64"),
                    "event_timestamp": cutoff,
                    LABEL: (~np.isin(active, after["customer_id"].unique())).astype("int64"),
                }
            )
        )
    if not frames:
        raise ValueError("no label cutoffs fit in the data: simulate more days or shorten the horizon")
    return pd.concat(frames, ignore_index=True)
