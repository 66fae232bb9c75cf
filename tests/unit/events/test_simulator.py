"""The simulator: contract-valid, deterministic, realistic, and its ground truth is the truth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from configs.loader import load_config
from configs.schema import ActionsConfig, SimulationConfig
from events.calendar import on_grid
from events.contract import TABLES
from events.simulator import SimulationSummary, simulate
from events.simulator.actions import (
    ACTION_NAMES,
    CART_LOOKBACK_DAYS,
    CROSS_SELL_RECENCY,
    VIP_MIN_SPEND,
    WINBACK_RECENCY,
)
from events.simulator.engine import run
from events.simulator.ground_truth import read_simulation_config
from events.store import read_dataset

TRUTH_FILES = {"traits.parquet", "cutoffs.parquet", "assignments.parquet", "simulation.json"}


@dataclass(frozen=True)
class Simulated:
    config: SimulationConfig
    summary: SimulationSummary
    raw: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]

    @property
    def end(self) -> pd.Timestamp:
        start = pd.Timestamp(self.config.start_date, tz="UTC")
        return start + pd.Timedelta(days=self.config.days)


def _simulate(root: Path, config: SimulationConfig) -> Simulated:
    summary = simulate(config, root / "raw", root / "truth", progress=False)
    truth = {p.stem: pd.read_parquet(p) for p in (root / "truth").glob("*.parquet")}
    return Simulated(config, summary, read_dataset(root / "raw"), truth)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    config = SimulationConfig(customers=3000, days=120, seed=11)
    return _simulate(tmp_path_factory.mktemp("sim"), config)


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    config = SimulationConfig(customers=10_000, days=180, seed=5)
    return _simulate(tmp_path_factory.mktemp("large"), config)


def _campaign_outcomes(s: Simulated) -> pd.DataFrame:
    """Every assignment whose window ended inside the data, with y = ordered within the window."""
    a = s.raw["campaign_assignments"].merge(
        s.raw["campaigns"][["campaign_id", "action", "channel", "start_ts", "end_ts"]],
        on="campaign_id",
    )
    a = a.merge(s.truth["assignments"].drop(columns="action"), on=["campaign_id", "customer_id"])
    a = a[a["end_ts"] <= s.end].reset_index(drop=True)
    orders = s.raw["orders"][["customer_id", "order_ts"]]
    pairs = a[["campaign_id", "customer_id", "start_ts", "end_ts"]].merge(orders, on="customer_id")
    inside = pairs[(pairs["order_ts"] >= pairs["start_ts"]) & (pairs["order_ts"] < pairs["end_ts"])]
    hits = set(zip(inside["campaign_id"], inside["customer_id"], strict=True))
    keys = zip(a["campaign_id"], a["customer_id"], strict=True)
    a["y"] = np.fromiter((k in hits for k in keys), bool, len(a)).astype(float)
    a["treated"] = (a["arm"] == "treatment").astype(float)
    return a


@dataclass(frozen=True)
class Lift:
    observed: float  # treated-minus-holdout window order rate
    se: float
    truth: float  # mean true uplift of the same customers


def _lift(a: pd.DataFrame) -> Lift:
    """Difference in means within each action, averaged by stratum size.

    Treatment shares differ between actions, so a plain pooled difference would be biased;
    within an action every instance randomizes with the same share.
    """
    observed = variance = truth = size = 0.0
    for _, group in a.groupby("action"):
        treated, holdout = group["y"][group["treated"] == 1], group["y"][group["treated"] == 0]
        if len(treated) < 2 or len(holdout) < 2:
            continue
        n = len(group)
        observed += n * (treated.mean() - holdout.mean())
        variance += n**2 * (treated.var() / len(treated) + holdout.var() / len(holdout))
        truth += n * group["true_uplift"].mean()
        size += n
    return Lift(observed / size, np.sqrt(variance) / size, truth / size)


def _ordered_within(orders: pd.DataFrame, cutoff: pd.Timestamp, days: int) -> np.ndarray:
    window = orders[(orders["order_ts"] >= cutoff) & (orders["order_ts"] < cutoff + pd.Timedelta(days=days))]
    return window["customer_id"].unique()


# --- contract, determinism, separation -------------------------------------------------------


def test_the_action_catalogue_targets_the_populations_the_simulated_campaigns_did() -> None:
    # The ground truth gives an action no effect outside its population, and the uplift models
    # learn only from it: a catalogue rule wider than the campaigns' would act where neither holds.
    catalogue = load_config("actions", ActionsConfig).actions
    rules = {name: {r.feature: (r.min, r.max) for r in spec.eligibility} for name, spec in catalogue.items()}
    assert rules["vip_early_access"]["orders_amount_total"] == (VIP_MIN_SPEND, None)
    assert rules["cross_sell_reminder"]["days_since_last_orders"] == CROSS_SELL_RECENCY
    assert rules["winback_coupon"]["days_since_last_orders"] == WINBACK_RECENCY
    assert rules["cart_free_shipping"]["days_since_last_abandoned_carts"] == (None, CART_LOOKBACK_DAYS)
    # ... with no order since the cart, as the simulator's cart population has
    since = next(
        r for r in catalogue["cart_free_shipping"].eligibility if r.feature == "days_since_last_orders"
    )
    assert (since.min_feature, since.missing) == ("days_since_last_abandoned_carts", "passes")


def test_every_contract_table_is_written_valid_and_non_empty(sim: Simulated) -> None:
    assert set(sim.raw) == set(TABLES)
    for name, frame in sim.raw.items():
        assert len(frame) > 0, name
        assert sim.summary.rows[name] == len(frame)
    assert sim.raw["customers"]["customer_id"].is_unique
    assert set(sim.raw["campaigns"]["action"]) == set(ACTION_NAMES)
    described = sim.summary.describe()
    assert "3,000 customers x 120 days" in described and "product_views" in described


def test_same_seed_gives_identical_data_and_another_seed_does_not(tmp_path: Path) -> None:
    config = SimulationConfig(customers=800, days=60, seed=3)
    for name, cfg in (("a", config), ("b", config), ("c", config.model_copy(update={"seed": 4}))):
        simulate(cfg, tmp_path / name / "raw", tmp_path / name / "truth", progress=False)
    for folder in ("raw", "truth"):
        files = sorted(p.name for p in (tmp_path / "a" / folder).glob("*.parquet"))
        for file in files:
            first = pd.read_parquet(tmp_path / "a" / folder / file)
            pd.testing.assert_frame_equal(first, pd.read_parquet(tmp_path / "b" / folder / file))
    a_orders = pd.read_parquet(tmp_path / "a" / "raw" / "orders.parquet")
    c_orders = pd.read_parquet(tmp_path / "c" / "raw" / "orders.parquet")
    assert not a_orders.equals(c_orders)


def test_ground_truth_records_the_config_that_drew_it(sim: Simulated, tmp_path: Path) -> None:
    assert read_simulation_config(sim.summary.truth_dir) == sim.config
    with pytest.raises(FileNotFoundError, match="no simulated data"):
        read_simulation_config(tmp_path)


def test_ground_truth_is_kept_out_of_the_raw_folder(sim: Simulated) -> None:
    raw_dir, truth_dir = sim.summary.raw_dir, sim.summary.truth_dir
    assert {p.name for p in raw_dir.iterdir()} == {f"{name}.parquet" for name in TABLES}
    assert {p.name for p in truth_dir.iterdir()} == TRUTH_FILES
    truth_columns = {"p_churn", "p_convert", "true_uplift", "discount_sensitivity", "engagement"}
    for frame in sim.raw.values():
        assert not truth_columns & set(frame.columns)
        assert not any(c.startswith("uplift_") for c in frame.columns)


def test_events_are_coherent_in_time_and_money(sim: Simulated) -> None:
    raw = sim.raw
    signup = raw["customers"].set_index("customer_id")["signup_ts"]
    for table, column in (("sessions", "session_start"), ("orders", "order_ts")):
        frame = raw[table]
        assert (frame[column] >= frame["customer_id"].map(signup)).all(), table
        assert (frame[column] < sim.end).all(), table
    orders = raw["orders"]
    inside = orders.merge(raw["sessions"], on="customer_id")
    inside = inside[inside["order_ts"].between(inside["session_start"], inside["session_end"])]
    assert set(inside["order_id"]) == set(orders["order_id"])  # every order happens in a visit
    expected = orders["gross_amount"] - orders["discount_amount"]
    assert np.allclose(orders["net_amount"], expected, atol=0.011)
    paid = raw["payments"].merge(orders, on="order_id")
    assert len(paid) == len(orders) and (paid["payment_ts"] > paid["order_ts"]).all()
    back = raw["refunds"].merge(orders, on="order_id", suffixes=("", "_order"))
    assert (back["refund_ts"] > back["order_ts"]).all()
    assert (back["amount"] <= back["net_amount"] + 1e-9).all()
    messages = raw["messages"].merge(raw["campaigns"], on=["campaign_id", "channel"])
    assert len(messages) == len(raw["messages"]) and (messages["sent_ts"] == messages["start_ts"]).all()
    opened = messages.dropna(subset=["opened_ts"])
    assert (opened["opened_ts"] >= opened["sent_ts"]).all()
    assert messages.loc[messages["opened_ts"].isna(), "clicked_ts"].isna().all()
    clicked = messages.dropna(subset=["clicked_ts"])
    assert (clicked["clicked_ts"] >= clicked["opened_ts"]).all()


# --- realism ---------------------------------------------------------------------------------


def test_signups_spread_over_time_and_grow(sim: Simulated) -> None:
    signup = sim.raw["customers"]["signup_ts"]
    start = pd.Timestamp(sim.config.start_date, tz="UTC")
    weeks = ((signup - start).dt.days // 7).value_counts()
    assert set(weeks.index) == set(range(sim.config.days // 7 + 1))  # every week has sign-ups
    days = (signup - start).dt.days
    assert (days >= sim.config.days - 30).sum() > 1.4 * (days < 30).sum()


def test_most_signups_never_buy(large: Simulated) -> None:
    customers = large.raw["customers"]
    settled = customers[customers["signup_ts"] < large.end - pd.Timedelta(days=60)]
    share = settled["customer_id"].isin(large.raw["orders"]["customer_id"]).mean()
    assert 0.2 <= share <= 0.32


def test_few_buyers_make_much_of_the_revenue(large: Simulated) -> None:
    revenue = large.raw["orders"].groupby("customer_id")["net_amount"].sum().sort_values()
    top = revenue.iloc[-len(revenue) // 20 :].sum() / revenue.sum()
    assert 0.35 <= top <= 0.45


def test_weekends_are_busier(large: Simulated) -> None:
    start = pd.Timestamp(large.config.start_date, tz="UTC")
    day = (large.raw["orders"]["order_ts"] - start).dt.days
    per_day = day.value_counts().reindex(range(large.config.days), fill_value=0)
    signed = np.searchsorted(
        np.sort((large.raw["customers"]["signup_ts"] - start).dt.days), per_day.index, "right"
    )
    rate = per_day.to_numpy() / signed
    weekend = (start + pd.to_timedelta(per_day.index, unit="D")).weekday >= 5
    assert rate[weekend].mean() > 1.2 * rate[~weekend].mean()


def test_reorder_probability_falls_with_days_since_last_order(large: Simulated) -> None:
    orders = large.raw["orders"]
    rows = []
    start = pd.Timestamp(large.config.start_date, tz="UTC")
    for day in range(60, large.config.days - 30, 15):
        cutoff = start + pd.Timedelta(days=day)
        last = orders[orders["order_ts"] < cutoff].groupby("customer_id")["order_ts"].max()
        recency = (cutoff - last).dt.days
        again = recency.index.isin(_ordered_within(orders, cutoff, 30))
        rows.append(pd.DataFrame({"recency": recency.to_numpy(), "again": again}))
    seen = pd.concat(rows)
    bins = pd.cut(seen["recency"], [0, 14, 45, 90, 400])
    rates = seen.groupby(bins, observed=True)["again"].mean().to_numpy()
    assert len(rates) == 4 and np.all(np.diff(rates) < 0)
    assert rates[0] > 2 * rates[-1]


def test_latent_traits_leave_observable_traces(large: Simulated) -> None:
    traits = large.truth["traits"].set_index("customer_id")
    deal = traits["segment"] == "deal_seeker"
    customers = large.raw["customers"].set_index("customer_id")
    affiliate = customers["acquisition_channel"] == "affiliate"
    assert affiliate[deal].mean() > 3 * affiliate[~deal].mean()
    views = large.raw["product_views"]
    sale_share = views.groupby(views["customer_id"].map(deal))["is_discounted"].mean()
    assert sale_share[True] > 2 * sale_share[False]
    sessions = large.raw["sessions"].groupby("customer_id").size()
    views_per_session = views.groupby("customer_id").size().reindex(sessions.index, fill_value=0) / sessions
    assert views_per_session[deal.reindex(sessions.index)].mean() > 1.2 * views_per_session[~deal].mean()
    orders = large.raw["orders"]
    generic = large.raw["coupon_redemptions"]
    generic = generic[generic["campaign_id"].isna()]["order_id"]
    coupon_share = orders["order_id"].isin(generic).groupby(orders["customer_id"].map(deal)).mean()
    assert coupon_share[True] > 2 * coupon_share[False]
    messages = large.raw["messages"]
    engaged = messages["customer_id"].map(traits["engagement"]) > traits["engagement"].median()
    opens = messages["opened_ts"].notna().groupby(engaged).mean()
    assert opens[True] > 1.5 * opens[False]
    # The sleeping dogs are on record: they declined every marketing channel at sign-up.
    marketing = customers[["consent_email", "consent_sms", "consent_kakao"]].any(axis=1)
    assert (traits["put_off"] == ~marketing.reindex(traits.index)).all()
    assert 0.05 < traits["put_off"].mean() < 0.25


# --- campaigns -------------------------------------------------------------------------------


def test_campaigns_randomize_eligible_customers_and_message_only_the_treated(
    sim: Simulated,
) -> None:
    campaigns = sim.raw["campaigns"].set_index("campaign_id")
    a = sim.raw["campaign_assignments"]
    assert a["campaign_id"].str.match(r"^[a-z_]+-\d{4}-\d{2}-\d{2}$").all()
    share = campaigns.loc[a["campaign_id"], "treatment_probability"].to_numpy()
    treated = (a["arm"] == "treatment").to_numpy()
    assert np.allclose(a["assignment_probability"], np.where(treated, share, 1 - share))
    messages = sim.raw["messages"]
    sent = set(zip(messages["campaign_id"], messages["customer_id"], strict=True))
    arms = set(zip(a["campaign_id"][treated], a["customer_id"][treated], strict=True))
    assert sent == arms and len(messages) == treated.sum()
    customers = sim.raw["customers"].set_index("customer_id")
    channel = campaigns.loc[a["campaign_id"], "channel"].to_numpy()
    consent = customers.reindex(a["customer_id"])
    assert all(consent[f"consent_{c}"].to_numpy()[channel == c].all() for c in set(channel))


def test_nobody_is_in_two_campaign_windows_at_once(sim: Simulated) -> None:
    a = sim.raw["campaign_assignments"].merge(sim.raw["campaigns"], on="campaign_id")
    a = a.sort_values(["customer_id", "start_ts"])
    same = a["customer_id"].eq(a["customer_id"].shift())
    assert (a["start_ts"][same] >= a["end_ts"].shift()[same]).all()


def test_campaign_coupons_go_to_treated_customers_inside_the_window(sim: Simulated) -> None:
    used = sim.raw["coupon_redemptions"].dropna(subset=["campaign_id"])
    assert len(used) > 0
    a = sim.raw["campaign_assignments"].merge(sim.raw["campaigns"], on="campaign_id")
    joined = used.merge(a, on=["campaign_id", "customer_id"])
    assert len(joined) == len(used)
    assert (joined["arm"] == "treatment").all()
    assert joined["redeemed_ts"].between(joined["start_ts"], joined["end_ts"]).all()


def test_welcome_coupon_treatment_beats_holdout(large: Simulated) -> None:
    lift = _lift(_campaign_outcomes(large).query("action == 'welcome_coupon'"))
    assert lift.observed > 3 * lift.se > 0


def test_observed_lift_matches_true_uplift(large: Simulated) -> None:
    outcomes = _campaign_outcomes(large)
    lift = _lift(outcomes)
    assert abs(lift.observed - lift.truth) < 3 * lift.se
    for action, group in outcomes.groupby("action"):
        lift = _lift(group)
        assert abs(lift.observed - lift.truth) < 3.5 * lift.se, action


def test_uplift_is_heterogeneous_and_sometimes_negative(large: Simulated) -> None:
    outcomes = _campaign_outcomes(large)
    tercile = pd.qcut(outcomes["true_uplift"], 3, labels=False)
    low, high = _lift(outcomes[tercile == 0]), _lift(outcomes[tercile == 2])
    assert high.observed - low.observed > 4 * np.hypot(low.se, high.se)
    for lift in (low, high):
        assert abs(lift.observed - lift.truth) < 3.5 * lift.se
    assert (large.truth["assignments"]["true_uplift"] < -0.01).mean() > 0.01
    cutoffs = large.truth["cutoffs"]
    for action in ("cart_free_shipping", "winback_coupon", "cross_sell_reminder"):
        assert (cutoffs[f"uplift_{action}"] < -0.01).any(), action
    assert (cutoffs["uplift_welcome_coupon"] > 0.1).any()


# --- ground truth ----------------------------------------------------------------------------


def test_cutoff_truth_has_one_row_per_signed_up_customer(sim: Simulated) -> None:
    cutoffs = sim.truth["cutoffs"]
    signup = sim.raw["customers"].set_index("customer_id")["signup_ts"]
    assert (cutoffs["customer_id"].map(signup) < cutoffs["cutoff_ts"]).all()
    sizes = cutoffs.groupby("cutoff_ts").size()
    expected = [(signup < t).sum() for t in sizes.index]
    assert sizes.tolist() == expected
    every = SimulationConfig().cutoff_every_days
    assert (sizes.index.to_series().diff().dropna() == pd.Timedelta(days=every)).all()
    # On the shared calendar grid, so feature snapshots and label cutoffs can meet them.
    assert all(on_grid(t.date(), every) for t in sizes.index)
    prospects = cutoffs["stage"] == "prospect"
    assert cutoffs.loc[prospects, "p_churn"].isna().all()
    assert cutoffs.loc[~prospects, "p_convert"].isna().all()
    assert cutoffs.loc[prospects, "days_since_last_order"].isna().all()
    assert (cutoffs.loc[prospects, "uplift_winback_coupon"] == 0).all()
    assert (cutoffs.loc[~prospects, "uplift_welcome_coupon"] == 0).all()


def test_probabilities_are_calibrated_without_campaigns() -> None:
    """Without CRM (the counterfactual p_churn and p_convert describe) they match outcomes."""
    config = SimulationConfig(customers=40_000, days=150, seed=2)
    world = run(config, np.random.default_rng(config.seed), progress=False, campaigns=False)
    orders = world.orders.columns("orders")
    cutoffs = world.cutoffs.frame()
    start = pd.Timestamp(config.start_date, tz="UTC")
    pooled: dict[str, list[pd.DataFrame]] = {"p_convert": [], "p_churn": []}
    times = sorted(
        t
        for t in cutoffs["cutoff_ts"].unique()
        if t + pd.Timedelta(days=config.horizon_days) <= start + pd.Timedelta(days=config.days)
    )
    assert len(times) >= 3
    for cutoff in times[-3:]:
        day = (cutoff - start).days
        at = cutoffs[cutoffs["cutoff_ts"] == cutoff]
        window = (orders["day"] >= day) & (orders["day"] < day + config.horizon_days)
        ordered = at["customer_id"].isin(orders["customer"][window] + 1)
        buyer = at["stage"] == "buyer"
        pooled["p_convert"].append(pd.DataFrame({"p": at["p_convert"], "y": ordered})[~buyer])
        pooled["p_churn"].append(pd.DataFrame({"p": at["p_churn"], "y": ~ordered})[buyer])
    for name, frames in pooled.items():
        for frame in frames:
            assert abs(_calibration_z(frame)) < 3.5, name
            high = frame["p"] > frame["p"].median()
            assert frame["y"][high].mean() > frame["y"][~high].mean(), name
        # Pooling cutoffs sharpens the check (the same customer at two cutoffs is only mildly
        # dependent): a truth computed over a horizon 4 days too short fails here.
        assert abs(_calibration_z(pd.concat(frames))) < 3.5, name


def _calibration_z(frame: pd.DataFrame) -> float:
    """(observed - predicted events) / sd of that difference if the probabilities are true."""
    p = frame["p"]
    return float((frame["y"].sum() - p.sum()) / np.sqrt((p * (1 - p)).sum()))


def test_a_failed_raw_write_keeps_the_previous_ground_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from events.simulator import simulation

    truth = tmp_path / "truth"
    simulate(SimulationConfig(customers=200, days=30, seed=1), tmp_path / "raw", truth, progress=False)
    before = {p.name: p.read_bytes() for p in truth.iterdir()}

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(simulation, "write_dataset", disk_full)
    with pytest.raises(OSError, match="disk full"):
        simulate(SimulationConfig(customers=200, days=30, seed=2), tmp_path / "raw", truth, progress=False)
    assert {p.name: p.read_bytes() for p in truth.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".truth")) == []
