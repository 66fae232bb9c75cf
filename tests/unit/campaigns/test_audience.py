from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from campaigns.audience import AudienceSpec, EmptyAudience, build_audience
from campaigns.power import minimum_detectable_effect
from configs.loader import load_config
from configs.schema import ActionsConfig

AS_OF = pd.Timestamp("2025-06-01", tz="UTC")
ACTION = "welcome_coupon"  # e-mail consent, no order yet, frequency cap, cooldown; 15% coupon


@pytest.fixture(scope="module")
def config() -> ActionsConfig:
    return load_config("actions", ActionsConfig)


@pytest.fixture(scope="module")
def population() -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray]]]:
    rng = np.random.default_rng(3)
    n = 3000
    features = pd.DataFrame(
        {
            "customer_id": np.arange(100, 100 + n),
            "consent_email": (rng.random(n) < 0.8).astype(float),
            "orders_total": np.where(rng.random(n) < 0.7, 0.0, 2.0),
            "tenure_days": np.where(rng.random(n) < 0.9, 10.0, 200.0),
            "messages_7d": np.where(rng.random(n) < 0.05, 5.0, 0.0),
            "days_since_last_messages": np.where(rng.random(n) < 0.5, np.nan, 10.0),
            "avg_order_value": np.where(rng.random(n) < 0.5, np.nan, rng.uniform(20, 200, n)),
        }
    )
    uplift = rng.uniform(-0.05, 0.4, n)
    p_control = rng.uniform(0.02, 0.4, n)
    return features, {ACTION: (uplift, p_control), "winback_coupon": (uplift, p_control)}


def build(config: ActionsConfig, population: tuple, **spec: object) -> object:
    features, predictions = population
    defaults: dict[str, object] = {"action": ACTION, "campaign_id": "unit-test"}
    return build_audience(features, predictions, config, AudienceSpec(**(defaults | spec)), AS_OF)  # type: ignore[arg-type]


def eligible_mask(features: pd.DataFrame) -> pd.Series:
    cooled = features["days_since_last_messages"].isna() | (features["days_since_last_messages"] >= 3)
    return (
        (features["consent_email"] == 1)
        & (features["orders_total"] == 0)
        & (features["tenure_days"] <= 30)
        & (features["messages_7d"] < 3)
        & cooled
    )


def test_size_is_respected_and_only_eligible_profitable_customers_are_taken(config, population) -> None:
    features, _ = population
    audience = build(config, population, size=300)
    rows = audience.rows
    assert len(rows) == 300 and rows["customer_id"].is_unique
    chosen = features.set_index("customer_id").loc[rows["customer_id"]]
    assert eligible_mask(chosen).all(), "consent, eligibility, frequency cap and cooldown hold"
    assert (rows["expected_profit"] > 0).all()
    assert rows["reason"].str.startswith(f"{ACTION}: +").all()
    # The 300 are the most profitable: nobody left out beats the last one taken.
    table = audience.summary
    assert table.eligible == int(eligible_mask(features).sum())
    assert rows["expected_profit"].is_monotonic_decreasing


def test_budget_is_never_exceeded(config, population) -> None:
    audience = build(config, population, budget=150.0)
    rows, summary = audience.rows, audience.summary
    assert rows["expected_spend"].sum() <= 150.0
    treated = rows[rows["arm"] == "treatment"]
    assert summary.expected_cost == pytest.approx(treated["expected_spend"].sum())
    assert summary.expected_cost <= 150.0
    assert summary.constraint == "budget 150.00"


def test_holdout_and_summary_figures(config, population) -> None:
    audience = build(config, population, size=1000, holdout_share=0.2)
    rows, s = audience.rows, audience.summary
    held = rows["arm"] == "holdout"
    assert s.holdout == held.sum() and s.treated == (~held).sum() and s.size == len(rows)
    assert abs(held.mean() - 0.2) < 4 * np.sqrt(0.2 * 0.8 / len(rows))
    assert np.allclose(rows.loc[held, "assignment_probability"], 0.2)
    assert np.allclose(rows.loc[~held, "assignment_probability"], 0.8)
    treated = rows[~held]
    assert s.expected_incremental_conversions == pytest.approx(treated["predicted_uplift"].sum())
    assert s.expected_profit == pytest.approx(treated["expected_profit"].sum())
    assert s.roi == pytest.approx(s.expected_profit / s.expected_cost)
    assert s.baseline_conversion == pytest.approx(rows["p_control"].mean())
    assert s.mde == pytest.approx(minimum_detectable_effect(s.baseline_conversion, s.treated, s.holdout))


def test_the_curve_runs_over_every_eligible_customer(config, population) -> None:
    audience = build(config, population, size=200)
    curve, s = audience.curve, audience.summary
    assert curve["size"].iloc[0] == 0 and curve["size"].iloc[-1] == s.eligible
    assert curve["size"].is_monotonic_increasing and len(curve) <= 101
    # Past the positive-profit customers, cumulative profit falls.
    assert curve["profit"].iloc[-1] < curve["profit"].max()


def test_the_same_campaign_id_gives_the_same_audience(config, population) -> None:
    a = build(config, population, size=500)
    b = build(config, population, size=500)
    pd.testing.assert_frame_equal(a.rows, b.rows)
    c = build(config, population, size=500, campaign_id="other-campaign")
    assert (a.rows["customer_id"].to_numpy() == c.rows["customer_id"].to_numpy()).all()
    assert (a.rows["arm"].to_numpy() != c.rows["arm"].to_numpy()).any()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"action": "teleport", "size": 5}, "unknown action 'teleport'"),
        ({"size": 5, "budget": 5.0}, "exactly one of size or budget"),
        ({}, "exactly one of size or budget"),
        ({"action": "vip_early_access", "size": 5}, "no model for 'vip_early_access'"),
        ({"size": 5, "holdout_share": 1.0}, "holdout share"),
    ],
)
def test_bad_requests_are_named(config, population, spec: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(config, population, **spec)


def test_nobody_qualifies_is_an_explicit_error(config, population) -> None:
    features, predictions = population
    no_consent = features.assign(consent_email=0.0)
    with pytest.raises(EmptyAudience, match="no email consent"):
        build_audience(no_consent, predictions, config, AudienceSpec(ACTION, "x", size=10), AS_OF)


def test_an_audience_with_an_empty_arm_states_no_minimum_detectable_effect(config, population) -> None:
    # Size 1: the one customer lands in one arm; no test can detect anything with the other empty.
    s = build(config, population, size=1, holdout_share=0.5).summary
    assert s.treated + s.holdout == 1
    assert s.mde is None and s.to_dict()["mde"] is None
    assert "n/a (an arm is empty)" in s.describe() and "NOT enough power" in s.describe()
