"""The feature pipeline computes what the catalog says, from strictly earlier events only."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from configs.schema import FeaturesConfig
from events.store import ContractError, write_dataset
from features import pipeline
from features.catalog import ACTIVITY, HABITS, PROFILE, REALTIME, VALUE, VIEWS, all_features
from features.pipeline import build_features, snapshot_times

START = pd.Timestamp("2025-01-01", tz="UTC")
N = 40


def _customers(rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": np.arange(100, 100 + N),
            "signup_ts": START + pd.to_timedelta(rng.uniform(0, 20, N), unit="D"),
            "region": rng.choice(["north", "south"], N),
            "acquisition_channel": "organic",
            "device": "ios",
            "consent_email": True,
            "consent_sms": rng.random(N) < 0.5,
            "consent_push": True,
            "consent_kakao": False,
        }
    )


def _after_signup(customers: pd.DataFrame, owners: np.ndarray, rng: np.random.Generator) -> pd.Series:
    signup = customers.set_index("customer_id")["signup_ts"]
    return signup.loc[owners].reset_index(drop=True) + pd.to_timedelta(
        rng.uniform(0, 120, len(owners)), unit="D"
    )


def _dataset(root: Path) -> Path:
    rng = np.random.default_rng(3)
    customers = _customers(rng)
    owners = rng.integers(100, 100 + N, 400)
    amounts = rng.uniform(5, 100, 400).round(2)
    orders = pd.DataFrame(
        {
            "order_id": np.arange(400),
            "customer_id": owners,
            "order_ts": _after_signup(customers, owners, rng),
            "gross_amount": amounts,
            "discount_amount": 0.0,
            "net_amount": amounts,
            "n_items": rng.integers(1, 4, 400),
        }
    )
    adders = rng.integers(100, 100 + N, 300)
    carts = pd.DataFrame(
        {
            "customer_id": adders,
            "session_id": np.arange(300),
            "event_ts": _after_signup(customers, adders, rng),
            "product_id": 1,
            "action": "add",
            "quantity": 1,
            "price": 10.0,
        }
    )
    viewers = rng.integers(100, 100 + N, 600)
    views = pd.DataFrame(
        {
            "customer_id": viewers,
            "session_id": np.arange(600),
            "view_ts": _after_signup(customers, viewers, rng),
            "product_id": 1,
            "category": rng.choice(["shoes", "books", "garden"], 600, p=[0.6, 0.3, 0.1]),
            "price": rng.uniform(5, 50, 600).round(2),
            "is_discounted": rng.random(600) < 0.3,
        }
    )
    recipients = rng.integers(100, 100 + N, 200)
    sent = _after_signup(customers, recipients, rng)
    opened = sent + pd.to_timedelta(rng.exponential(2.0, 200), unit="D")
    messages = pd.DataFrame(
        {
            "message_id": np.arange(200),
            "customer_id": recipients,
            "campaign_id": "c1",
            "channel": "email",
            "sent_ts": sent,
            "opened_ts": opened.where(rng.random(200) < 0.5),
            "clicked_ts": (opened + pd.Timedelta(minutes=3)).where(rng.random(200) < 0.2),
        }
    )
    raw = root / "raw"
    tables = {"customers": customers, "orders": orders, "cart_events": carts}
    write_dataset({**tables, "product_views": views, "messages": messages}, raw)
    return raw


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("features")
    raw = _dataset(root)
    build_features(FeaturesConfig(snapshot_every_days=7), raw, root / "features", progress=False)
    return raw, root / "features"


def _read(features: Path, view: str) -> pd.DataFrame:
    return pd.read_parquet(features / f"{view}.parquet")


def test_every_view_has_exactly_the_catalogued_columns(built: tuple[Path, Path]) -> None:
    _, features = built
    for spec in (*VIEWS, REALTIME):
        frame = _read(features, spec.name)
        assert list(frame.columns) == ["customer_id", "event_timestamp", *spec.features]
        assert frame.duplicated(["customer_id", "event_timestamp"]).sum() == 0
    assert len(all_features()) >= 80
    assert all(text.strip() for text in all_features().values())


def test_counts_and_amounts_equal_a_direct_recount(built: tuple[Path, Path]) -> None:
    raw, features = built
    orders = pd.read_parquet(raw / "orders.parquet")
    activity = _read(features, ACTIVITY.name).merge(_read(features, VALUE.name))
    for row in activity.sample(80, random_state=1).itertuples():
        mine = orders[orders["customer_id"] == row.customer_id]
        before = mine[mine["order_ts"] < row.event_timestamp]
        in_days = {
            d: before[before["order_ts"] >= row.event_timestamp - pd.Timedelta(days=d)]
            for d in (1, 7, 30, 90)
        }
        assert row.orders_total == len(before)
        assert [row.orders_1d, row.orders_7d, row.orders_30d, row.orders_90d] == [
            len(in_days[d]) for d in (1, 7, 30, 90)
        ]
        assert row.orders_amount_90d == pytest.approx(in_days[90]["net_amount"].sum())
        if len(before):
            expected = (row.event_timestamp - before["order_ts"].max()) / pd.Timedelta(days=1)
            assert row.days_since_last_orders == pytest.approx(expected, abs=1e-4)
            assert row.avg_basket_items == pytest.approx(before["n_items"].mean())
        else:
            assert np.isnan(row.days_since_last_orders) and np.isnan(row.avg_order_value)


def test_lifelong_habits_equal_a_direct_recount(built: tuple[Path, Path]) -> None:
    raw, features = built
    views = pd.read_parquet(raw / "product_views.parquet")
    messages = pd.read_parquet(raw / "messages.parquet")
    orders = pd.read_parquet(raw / "orders.parquet")
    habits = _read(features, HABITS.name)
    checked = 0
    for row in habits.sample(80, random_state=4).itertuples():
        t = row.event_timestamp
        seen = views[(views["customer_id"] == row.customer_id) & (views["view_ts"] < t)]
        got = messages[(messages["customer_id"] == row.customer_id) & (messages["sent_ts"] < t)]
        if seen.empty:
            assert np.isnan(row.category_view_entropy_total) and np.isnan(row.avg_viewed_price_total)
        else:
            share = seen["category"].value_counts(normalize=True).to_numpy()
            entropy = -(share * np.log(share)).sum() / np.log(3)  # three categories in the data
            assert row.category_view_entropy_total == pytest.approx(entropy)
            assert row.categories_viewed_total == len(share)
            assert row.top_category_share_total == pytest.approx(share.max())
            assert row.discounted_view_share_total == pytest.approx(seen["is_discounted"].mean())
            assert row.avg_viewed_price_total == pytest.approx(seen["price"].mean())
            checked += 1
        if got.empty:
            assert np.isnan(row.open_rate_total) and np.isnan(row.click_rate_total)
        else:
            # An open counts once it has happened, even for a message sent earlier.
            assert row.open_rate_total == pytest.approx((got["opened_ts"] < t).sum() / len(got))
            assert row.click_rate_total == pytest.approx((got["clicked_ts"] < t).sum() / len(got))
        ordered = (orders["customer_id"] == row.customer_id) & (orders["order_ts"] < t)
        # No coupons in this data: 0 per order once there is an order, unknown before.
        assert row.coupon_uses_per_order == 0 if ordered.any() else np.isnan(row.coupon_uses_per_order)
    assert checked > 20


def test_an_abandoned_cart_counts_only_once_24h_have_passed_without_an_order(
    built: tuple[Path, Path],
) -> None:
    raw, features = built
    carts = pd.read_parquet(raw / "cart_events.parquet")
    orders = pd.read_parquet(raw / "orders.parquet")
    activity = _read(features, ACTIVITY.name)
    for row in activity.sample(60, random_state=2).itertuples():
        mine = carts[(carts["customer_id"] == row.customer_id)]
        theirs = orders[orders["customer_id"] == row.customer_id]["order_ts"]
        abandoned = [
            ts
            for ts in mine["event_ts"]
            if ts + pd.Timedelta(hours=24) < row.event_timestamp
            and not ((theirs >= ts) & (theirs < ts + pd.Timedelta(hours=24))).any()
        ]
        assert row.abandoned_carts_total == len(abandoned)


def test_no_feature_uses_data_at_or_after_its_timestamp(tmp_path: Path) -> None:
    """Leakage: adding events at or after a snapshot time must not change that snapshot."""
    raw = _dataset(tmp_path)
    build_features(FeaturesConfig(), raw, tmp_path / "a", progress=False)
    first = {v.name: _read(tmp_path / "a", v.name) for v in VIEWS}
    cut = first[ACTIVITY.name]["event_timestamp"].sort_values().unique()[5]
    orders = pd.read_parquet(raw / "orders.parquet")
    future = orders.sample(50, random_state=2).assign(order_ts=cut)
    future["order_id"] += 10_000
    tables = {name: pd.read_parquet(raw / f"{name}.parquet") for name in ("customers", "cart_events")}
    write_dataset({**tables, "orders": pd.concat([orders, future])}, raw)
    build_features(FeaturesConfig(), raw, tmp_path / "b", progress=False)
    for view in VIEWS:
        before, after = first[view.name], _read(tmp_path / "b", view.name)
        upto = before["event_timestamp"] <= cut
        pd.testing.assert_frame_equal(
            before[upto].reset_index(drop=True),
            after[after["event_timestamp"] <= cut].reset_index(drop=True),
        )
    later = first[ACTIVITY.name]["event_timestamp"] > cut
    new_activity = _read(tmp_path / "b", ACTIVITY.name)
    assert (
        new_activity[new_activity["event_timestamp"] > cut]["orders_total"].sum()
        > first[ACTIVITY.name][later]["orders_total"].sum()
    )


def test_early_life_counts_stop_at_the_window_and_at_the_snapshot(built: tuple[Path, Path]) -> None:
    raw, features = built
    orders = pd.read_parquet(raw / "orders.parquet")
    customers = pd.read_parquet(raw / "customers.parquet").set_index("customer_id")
    early = _read(features, "customer_early_life")
    for row in early.sample(60, random_state=3).itertuples():
        signup = customers.loc[row.customer_id, "signup_ts"]
        end = min(row.event_timestamp, signup + pd.Timedelta(days=7))
        mine = orders[
            (orders["customer_id"] == row.customer_id)
            & (orders["order_ts"] >= signup)
            & (orders["order_ts"] < end)
        ]
        assert row.orders_first_7d == len(mine)
        assert row.revenue_first_7d == pytest.approx(mine["net_amount"].sum())


def test_profile_and_realtime_views(built: tuple[Path, Path]) -> None:
    raw, features = built
    profile = _read(features, "customer_profile")
    customers = pd.read_parquet(raw / "customers.parquet").set_index("customer_id")
    row = profile.iloc[-1]
    assert row["region"] == customers.loc[row["customer_id"], "region"]
    assert row["consented_channels"] == 2 + customers.loc[row["customer_id"], "consent_sms"]
    opt_ins = customers.loc[profile["customer_id"], ["consent_email", "consent_sms", "consent_kakao"]]
    assert (profile["marketing_opt_ins"].to_numpy() == opt_ins.sum(axis=1).to_numpy()).all()
    realtime = _read(features, REALTIME.name)
    orders = pd.read_parquet(raw / "orders.parquet")
    latest = realtime[realtime["event_timestamp"] == realtime["event_timestamp"].max()]
    last = latest[latest["customer_id"].isin(orders["customer_id"])].iloc[-1]
    mine = orders[
        (orders["customer_id"] == last["customer_id"]) & (orders["order_ts"] < last["event_timestamp"])
    ]
    assert last["last_order_epoch_s"] == pytest.approx(mine["order_ts"].max().timestamp())


def test_every_view_has_a_row_at_each_sign_up_with_nothing_done_yet(built: tuple[Path, Path]) -> None:
    raw, features = built
    signups = pd.read_parquet(raw / "customers.parquet")[["customer_id", "signup_ts"]]
    for spec in (*VIEWS, REALTIME):
        rows = _read(features, spec.name).merge(signups, on="customer_id")
        at_signup = rows[rows["event_timestamp"] == rows["signup_ts"].dt.floor("s")]
        assert sorted(at_signup["customer_id"]) == sorted(signups["customer_id"]), spec.name
        if spec is ACTIVITY:
            assert (at_signup["orders_total"] == 0).all()
            assert at_signup["days_since_last_orders"].isna().all()
        if spec is PROFILE:
            assert (at_signup["tenure_days"] == 0).all()


def test_no_view_has_an_empty_row_group(built: tuple[Path, Path]) -> None:
    # This dataset logs no campaign assignments; an empty group would have no timestamp statistics.
    _, features = built
    for spec in (*VIEWS, REALTIME):
        metadata = pq.ParquetFile(features / spec.file).metadata
        groups = [metadata.row_group(i) for i in range(metadata.num_row_groups)]
        assert all(group.num_rows > 0 for group in groups), spec.name


def test_a_build_that_fails_midway_keeps_the_previous_views_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, out = _dataset(tmp_path), tmp_path / "features"
    build_features(FeaturesConfig(), raw, out, progress=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def killed(*args: object) -> None:  # every snapshot is written by now, the sign-up rows are not
        raise MemoryError

    monkeypatch.setattr(pipeline, "_append_moments", killed)
    with pytest.raises(MemoryError):
        build_features(FeaturesConfig(), raw, out, progress=False)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_snapshot_grid_ends_after_the_last_event() -> None:
    grid = snapshot_times(START, START + pd.Timedelta(days=20, hours=5), 7)
    assert grid[0] == START + pd.Timedelta(days=1)
    assert grid[-1] == START + pd.Timedelta(days=21)
    assert all(b > a for a, b in itertools.pairwise(grid))


def test_a_raw_file_that_is_not_parquet_or_has_a_wrong_type_is_named(tmp_path: Path) -> None:
    raw = _dataset(tmp_path)
    orders = pd.read_parquet(raw / "orders.parquet")
    orders.astype({"net_amount": "string"}).to_parquet(raw / "orders.parquet")
    with pytest.raises(ContractError, match=r"orders\.parquet: wrong column types: net_amount is VARCHAR"):
        build_features(FeaturesConfig(), raw, tmp_path / "features", progress=False)
    (raw / "orders.parquet").write_text("not parquet")
    with pytest.raises(ContractError, match=r"orders\.parquet: cannot be read as parquet"):
        build_features(FeaturesConfig(), raw, tmp_path / "features", progress=False)
    assert not (tmp_path / "features").exists()
