import itertools

import pandas as pd
import pytest

from configs.schema import ChurnTaskConfig
from events.calendar import on_grid
from training.labels import LABEL, churn_labels, label_cutoffs

T0 = pd.Timestamp("2025-03-01", tz="UTC")


def _orders(rows: list[tuple[int, int]]) -> pd.DataFrame:
    times = [T0 + pd.Timedelta(days=d) for _, d in rows]
    return pd.DataFrame({"customer_id": [c for c, _ in rows], "order_ts": times})


def test_only_recently_active_buyers_are_labelled_and_churn_means_no_order_in_horizon() -> None:
    task = ChurnTaskConfig(active_window_days=30, horizon_days=14)
    orders = _orders([(1, -5), (1, 3), (2, -10), (3, -40), (4, 2), (5, -1), (5, 14)])
    labels = churn_labels(orders, [T0], task).set_index("customer_id")[LABEL]
    # 3 ordered too long ago, 4 only after the cutoff: neither is an active buyer at T0.
    assert labels.to_dict() == {1: 0, 2: 1, 5: 1}


def test_cutoffs_sit_on_the_snapshot_grid_and_leave_room_for_the_horizon() -> None:
    task = ChurnTaskConfig(cutoff_every_days=14, horizon_days=30)
    first, last = T0, T0 + pd.Timedelta(days=120, hours=3)
    cutoffs = label_cutoffs(first, last, task, snapshot_every_days=7)
    assert cutoffs and all(on_grid(c.date(), 14) for c in cutoffs)
    assert all(b - a == pd.Timedelta(days=14) for a, b in itertools.pairwise(cutoffs))
    assert cutoffs[-1] + pd.Timedelta(days=30) <= last.normalize() + pd.Timedelta(days=1)
    # The newest cutoff is the last one whose horizon fits: one step later would not.
    assert cutoffs[-1] + pd.Timedelta(days=30 + 14) > last.normalize() + pd.Timedelta(days=1)


def test_cutoff_period_must_be_a_multiple_of_the_snapshot_period() -> None:
    with pytest.raises(ValueError, match="multiple"):
        label_cutoffs(T0, T0 + pd.Timedelta(days=90), ChurnTaskConfig(cutoff_every_days=10), 7)
