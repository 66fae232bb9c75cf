"""The feature pipeline computes what the catalog says, from strictly earlier events only."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from configs.schema import FeaturesConfig
from events.store import write_dataset
from features.catalog import ACTIVITY_FEATURES, SNAPSHOT_FILE
from features.pipeline import build_features, snapshot_times

START = pd.Timestamp("2025-01-01", tz="UTC")


def _dataset(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    n = 40
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "signup_ts": START + pd.to_timedelta(rng.uniform(0, 20, n), unit="D"),
            "region": "r",
            "acquisition_channel": "organic",
            "device": "ios",
            "consent_email": True,
            "consent_sms": True,
            "consent_push": True,
            "consent_kakao": True,
        }
    )
    k = 400
    owners = rng.integers(0, n, k)
    order_ts = customers["signup_ts"].iloc[owners].reset_index(drop=True) + pd.to_timedelta(
        rng.uniform(0, 120, k), unit="D"
    )
    amounts = rng.uniform(5, 100, k).round(2)
    orders = pd.DataFrame(
        {
            "order_id": np.arange(k),
            "customer_id": owners,
            "order_ts": order_ts,
            "gross_amount": amounts,
            "discount_amount": 0.0,
            "net_amount": amounts,
            "n_items": 1,
        }
    )
    raw = tmp_path / "raw"
    write_dataset({"customers": customers, "orders": orders}, raw)
    return raw


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    tmp_path = tmp_path_factory.mktemp("features")
    raw = _dataset(tmp_path)
    build_features(FeaturesConfig(snapshot_every_days=7), raw, tmp_path / "features")
    return pd.read_parquet(tmp_path / "features" / SNAPSHOT_FILE), pd.read_parquet(
        raw / "orders.parquet"
    )


def test_columns_match_the_catalog(built: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    snapshots, _ = built
    assert list(snapshots.columns) == ["customer_id", "event_timestamp", *ACTIVITY_FEATURES]
    assert snapshots.duplicated(["customer_id", "event_timestamp"]).sum() == 0


def test_counts_and_amounts_equal_a_direct_recount(
    built: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    snapshots, orders = built
    for row in snapshots.sample(60, random_state=1).itertuples():
        mine = orders[orders["customer_id"] == row.customer_id]
        before = mine[mine["order_ts"] < row.event_timestamp]
        last_30 = before[before["order_ts"] >= row.event_timestamp - pd.Timedelta(days=30)]
        assert row.orders_total == len(before)
        assert row.orders_30d == len(last_30)
        assert row.orders_amount_90d == pytest.approx(
            before[before["order_ts"] >= row.event_timestamp - pd.Timedelta(days=90)][
                "net_amount"
            ].sum()
        )
        if len(before):
            expected = (row.event_timestamp - before["order_ts"].max()) / pd.Timedelta(days=1)
            assert row.days_since_last_orders == pytest.approx(expected, abs=1 / 24)
        else:
            assert np.isnan(row.days_since_last_orders)


def test_no_feature_uses_data_at_or_after_its_timestamp(tmp_path: Path) -> None:
    """Leakage: adding events at or after a snapshot time must not change that snapshot."""
    raw = _dataset(tmp_path)
    build_features(FeaturesConfig(), raw, tmp_path / "a")
    first = pd.read_parquet(tmp_path / "a" / SNAPSHOT_FILE)
    cut = first["event_timestamp"].sort_values().unique()[3]
    orders = pd.read_parquet(raw / "orders.parquet")
    customers = pd.read_parquet(raw / "customers.parquet")
    future = orders.sample(50, random_state=2).assign(order_ts=cut)
    future["order_id"] += 10_000
    write_dataset({"customers": customers, "orders": pd.concat([orders, future])}, raw)
    build_features(FeaturesConfig(), raw, tmp_path / "b")
    second = pd.read_parquet(tmp_path / "b" / SNAPSHOT_FILE)
    upto = first[first["event_timestamp"] <= cut].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        upto, second[second["event_timestamp"] <= cut].reset_index(drop=True)
    )
    later = second[second["event_timestamp"] > cut]["orders_total"].sum()
    assert later > first[first["event_timestamp"] > cut]["orders_total"].sum()


def test_snapshot_grid_ends_after_the_last_event() -> None:
    grid = snapshot_times(START, START + pd.Timedelta(days=20, hours=5), 7)
    assert grid[0] == START + pd.Timedelta(days=1)
    assert grid[-1] == START + pd.Timedelta(days=21)
    assert all(b > a for a, b in itertools.pairwise(grid))
