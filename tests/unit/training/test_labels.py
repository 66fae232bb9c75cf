import itertools

import pandas as pd
import pytest

from configs.schema import ChurnTaskConfig, ConversionTaskConfig, VipTaskConfig
from events.calendar import on_grid
from training.labels import (
    CONVERSION_LABEL,
    LABEL,
    VIP_LABEL,
    CutoffTask,
    churn_labels,
    conversion_labels,
    label_cutoffs,
    task_cutoffs,
    vip_labels,
)

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


def _customers(signup_days: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": list(signup_days),
            "signup_ts": [T0 + pd.Timedelta(days=d) for d in signup_days.values()],
        }
    )


def _spend(rows: list[tuple[int, float, float]]) -> pd.DataFrame:
    """Orders as (customer, day relative to T0, net amount)."""
    return pd.DataFrame(
        {
            "customer_id": [c for c, _, _ in rows],
            "order_ts": [T0 + pd.Timedelta(days=d) for _, d, _ in rows],
            "net_amount": [a for _, _, a in rows],
        }
    )


@pytest.mark.parametrize(
    "task", [ChurnTaskConfig(), ConversionTaskConfig(horizon_days=21), VipTaskConfig(horizon_days=60)]
)
def test_every_task_gets_grid_cutoffs_whose_horizon_fits_the_data(task: CutoffTask) -> None:
    customers = _customers({1: 0.5, 2: 40})
    orders = _orders([(1, 150.2)])
    cutoffs = task_cutoffs(customers, orders, task, snapshot_every_days=7)
    assert cutoffs == label_cutoffs(T0 + pd.Timedelta(days=0.5), orders["order_ts"].max(), task, 7)
    assert cutoffs and all(on_grid(c.date(), task.cutoff_every_days) for c in cutoffs)
    data_end = T0 + pd.Timedelta(days=151)
    assert cutoffs[-1] + pd.Timedelta(days=task.horizon_days) <= data_end


def test_conversion_population_is_recent_sign_ups_without_an_order_and_label_is_first_order() -> None:
    task = ConversionTaskConfig(max_days_since_signup=30, horizon_days=10)
    customers = _customers({1: -5, 2: -20, 3: -31, 4: 0, 5: 3, 6: -2, 7: -1})
    # 2 ordered before T0; 6 orders exactly at T0 (still a prospect then, converts); 7 orders
    # exactly one horizon later (outside [T0, T0 + 10 days)).
    orders = _orders([(1, 4), (1, 6), (2, -3), (2, 2), (6, 0), (7, 10)])
    labels = conversion_labels(customers, orders, [T0], task)
    assert list(labels.columns) == ["customer_id", "event_timestamp", CONVERSION_LABEL]
    assert (labels["event_timestamp"] == T0).all()
    # 3 signed up 31 days before (> 30), 4 exactly at the cutoff and 5 after it: not prospects.
    assert labels.set_index("customer_id")[CONVERSION_LABEL].to_dict() == {1: 1, 6: 1, 7: 0}


def test_conversion_follows_a_prospect_across_cutoffs_until_the_first_order() -> None:
    task = ConversionTaskConfig(max_days_since_signup=60, horizon_days=14)
    cutoffs = [T0 + pd.Timedelta(days=14 * k) for k in range(5)]  # T0, +14, +28, +42, +56
    customers = _customers({1: -1, 2: 20, 3: -50})
    orders = _orders([(1, 30)])
    labels = conversion_labels(customers, orders, list(reversed(cutoffs)), task)
    days = (labels["event_timestamp"] - T0).dt.days
    seen = {(c, d): y for c, d, y in zip(labels["customer_id"], days, labels[CONVERSION_LABEL], strict=True)}
    # 1 is a prospect up to its first order at day 30; 2 from its sign-up; 3 until day 10 (60 days).
    assert seen == {(1, 0): 0, (1, 14): 0, (1, 28): 1, (2, 28): 0, (2, 42): 0, (2, 56): 0, (3, 0): 0}
    assert labels["event_timestamp"].is_monotonic_increasing


def test_vip_threshold_is_a_spend_quantile_and_population_is_early_life_non_vips() -> None:
    task = VipTaskConfig(top_share=0.2, horizon_days=30, max_tenure_days=60)
    # Ten customers signed up before T0. Spend before T0: 10, 20, 30, 100 (ids 7-10), others 0;
    # the 80th percentile is 22, so 9 and 10 are VIPs at T0 and are left out of the population.
    customers = _customers({i: -10.0 * i for i in range(1, 11)} | {11: 5})
    history = [(7, -5, 10.0), (8, -5, 20.0), (9, -5, 30.0), (10, -5, 100.0)]
    # Before T0 + 30 days 1 spends 200 and 2 spends 25; 11 signs up after T0 and spends 500, which
    # counts towards the threshold (now the 80th percentile of 11 customers: 100) but 11 is not
    # in the population. So 1 becomes a VIP and 2 does not.
    future = [(1, 10, 200.0), (2, 12, 25.0), (11, 20, 500.0), (3, 30, 1000.0)]
    labels = vip_labels(customers, _spend(history + future), [T0], task)
    by_id = labels.set_index("customer_id")[VIP_LABEL].to_dict()
    # Tenure <= 60 days: ids 1-6 (10..60 days), 7 and 8 are older; 3's order lands at the horizon end.
    assert by_id == {1: 1, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0}


def test_nobody_is_vip_for_spending_nothing_even_when_most_customers_spent_nothing() -> None:
    task = VipTaskConfig(top_share=0.3, horizon_days=10, max_tenure_days=100)
    customers = _customers({1: -3, 2: -3, 3: -3, 4: -3})
    labels = vip_labels(customers, _spend([(1, 2, 50.0)]), [T0], task)
    assert labels.set_index("customer_id")[VIP_LABEL].to_dict() == {1: 1, 2: 0, 3: 0, 4: 0}
