"""Labels from raw sign-ups and orders: at each cutoff, who is in a task's population and what
happens within the horizon after it (churn, first-purchase conversion, becoming a VIP).

Populations read only events before the cutoff and labels only events in [cutoff, cutoff +
horizon), so a label never leaks into the features a model sees as of the cutoff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import pandas as pd

from configs.schema import ChurnTaskConfig, ConversionTaskConfig, VipTaskConfig
from events.calendar import grid_after

LABEL = "churned"
CONVERSION_LABEL = "converted"
VIP_LABEL = "became_vip"

_DAY_NS = 86_400 * 10**9
_NEVER = np.iinfo(np.int64).max  # "no such event": later than any cutoff


class CutoffTask(Protocol):
    """What the cutoff logic needs from a task config (churn, conversion and VIP all have it)."""

    @property
    def cutoff_every_days(self) -> int: ...

    @property
    def horizon_days(self) -> int: ...


def label_cutoffs(
    first_day: pd.Timestamp,
    last_event: pd.Timestamp,
    task: CutoffTask,
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


def task_cutoffs(
    customers: pd.DataFrame, orders: pd.DataFrame, task: CutoffTask, snapshot_every_days: int
) -> list[pd.Timestamp]:
    """label_cutoffs over the raw data's span: the first sign-up to the last sign-up or order."""
    times = pd.concat([customers["signup_ts"], orders["order_ts"]], ignore_index=True).dropna()
    if times.empty:
        raise ValueError("no sign-ups or orders: cannot place label cutoffs")
    return label_cutoffs(customers["signup_ts"].min(), times.max(), task, snapshot_every_days)


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


def conversion_labels(
    customers: pd.DataFrame, orders: pd.DataFrame, cutoffs: list[pd.Timestamp], task: ConversionTaskConfig
) -> pd.DataFrame:
    """customer_id, event_timestamp (the cutoff), converted: prospects at each cutoff.

    A prospect signed up before the cutoff, at most `max_days_since_signup` days before it, and
    placed no order before it. converted = 1 if their first order falls in [cutoff, cutoff + horizon).
    """
    grid = _grid_ns(cutoffs)
    ids = customers["customer_id"].to_numpy(dtype=np.int64)
    signup = _ns(customers["signup_ts"])
    first_order = _ns(customers["customer_id"].map(orders.groupby("customer_id")["order_ts"].min()))
    # A cutoff at the very instant of the first order still sees a prospect: orders before it count.
    last_cutoff = np.minimum(signup + task.max_days_since_signup * _DAY_NS, first_order)
    rows, at = _cutoffs_between(signup, last_cutoff, grid)
    converted = first_order[rows] < grid[at] + task.horizon_days * _DAY_NS
    return _label_frame(ids[rows], grid[at], CONVERSION_LABEL, converted)


def vip_labels(
    customers: pd.DataFrame, orders: pd.DataFrame, cutoffs: list[pd.Timestamp], task: VipTaskConfig
) -> pd.DataFrame:
    """customer_id, event_timestamp (the cutoff), became_vip: early-life non-VIPs at each cutoff.

    VIP at time T: cumulative net spend (orders before T) at or above the (1 - top_share) quantile
    of that spend over every customer signed up before T (no orders = 0 spend), and above 0 (so
    that when most customers have spent nothing, not spending is not "top"). The population at a
    cutoff: tenure at most `max_tenure_days` and not VIP at the cutoff; became_vip = VIP at
    cutoff + horizon.

    This is a positive-unlabeled setting: a 0 only says "not VIP yet by the horizon end", and a
    customer labelled 0 may still become a VIP later. Read scores as resemblance to future VIPs and
    precision against these labels as a lower bound.
    """
    grid = _grid_ns(cutoffs)
    ids = customers["customer_id"].to_numpy(dtype=np.int64)
    signup = _ns(customers["signup_ts"])
    spend_before = _spend_ledger(ids, orders)
    horizon, max_tenure = task.horizon_days * _DAY_NS, task.max_tenure_days * _DAY_NS
    parts_ids, parts_at, parts_label = [], [], []
    for cutoff in grid:  # a handful of cutoffs; each step is vectorized over all customers
        vip_now = _is_vip(spend_before(cutoff), signup < cutoff, task.top_share)
        eligible = (signup < cutoff) & (cutoff - signup <= max_tenure) & ~vip_now
        vip_later = _is_vip(spend_before(cutoff + horizon), signup < cutoff + horizon, task.top_share)
        parts_ids.append(ids[eligible])
        parts_at.append(np.full(int(eligible.sum()), cutoff, dtype=np.int64))
        parts_label.append(vip_later[eligible])
    return _label_frame(
        np.concatenate(parts_ids), np.concatenate(parts_at), VIP_LABEL, np.concatenate(parts_label)
    )


def _spend_ledger(ids: np.ndarray, orders: pd.DataFrame) -> Callable[[int], np.ndarray]:
    """`at -> cumulative net spend per customer (aligned with ids) over the orders before at`."""
    owner = pd.Index(ids).get_indexer(orders["customer_id"].to_numpy(dtype=np.int64))
    known = owner >= 0  # orders of customers missing from the profile table cannot be attributed
    times = _ns(orders["order_ts"])[known]
    order = np.argsort(times, kind="stable")
    times, owner = times[order], owner[known][order]
    amount = orders["net_amount"].to_numpy(dtype=np.float64)[known][order]

    def spend_before(at: int) -> np.ndarray:
        k = int(np.searchsorted(times, at, side="left"))
        return np.bincount(owner[:k], weights=amount[:k], minlength=len(ids))

    return spend_before


def _is_vip(spend: np.ndarray, signed_up: np.ndarray, top_share: float) -> np.ndarray:
    if not signed_up.any():
        return np.zeros(len(spend), dtype=bool)
    threshold = np.quantile(spend[signed_up], 1.0 - top_share)
    return signed_up & (spend >= threshold) & (spend > 0)


def _cutoffs_between(after: np.ndarray, until: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, cutoff index) pairs for every grid cutoff c with after[row] < c <= until[row]."""
    lo = np.searchsorted(grid, after, side="right")
    counts = np.maximum(np.searchsorted(grid, until, side="right") - lo, 0)
    rows = np.repeat(np.arange(len(after)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return rows, np.repeat(lo, counts) + np.arange(len(rows)) - starts


def _grid_ns(cutoffs: list[pd.Timestamp]) -> np.ndarray:
    if not cutoffs:
        raise ValueError("no label cutoffs fit in the data: simulate more days or shorten the horizon")
    return np.sort(_ns(pd.Series(cutoffs)))


def _ns(times: pd.Series) -> np.ndarray:
    """UTC nanoseconds since the epoch as int64, missing times as _NEVER."""
    index = pd.DatetimeIndex(pd.to_datetime(times, utc=True)).as_unit("ns")
    return np.where(index.isna(), _NEVER, index.asi8)


def _label_frame(ids: np.ndarray, at_ns: np.ndarray, label: str, values: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "customer_id": ids.astype("int64"),
            "event_timestamp": pd.to_datetime(at_ns, utc=True),
            label: values.astype("int64"),
        }
    )
    return frame.sort_values(["event_timestamp", "customer_id"], ignore_index=True)
