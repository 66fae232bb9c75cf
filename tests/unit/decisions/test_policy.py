from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from configs.loader import load_config
from configs.schema import ActionConfig, ActionsConfig, FeatureRange
from decisions.eligibility import check_features, eligibility, required_features
from decisions.policy import NO_ACTION, Estimates, allocate, decide

ACTIONS = ["winback_coupon", "cross_sell_reminder"]


@pytest.fixture(scope="module")
def config() -> ActionsConfig:
    return load_config("actions", ActionsConfig)


def customers(**overrides: list[float]) -> pd.DataFrame:
    n = len(next(iter(overrides.values())))
    base = {
        "consent_sms": [1.0] * n,
        "consent_push": [1.0] * n,
        "days_since_last_orders": [45.0] * n,
        "messages_7d": [0.0] * n,
        "days_since_last_messages": [30.0] * n,
        "avg_order_value": [100.0] * n,
    }
    return pd.DataFrame(base | overrides)


def estimates(n: int, winback: list[float], p_control: list[float], cross: float = 0.0) -> Estimates:
    return Estimates(
        uplift={"winback_coupon": np.array(winback), "cross_sell_reminder": np.full(n, cross)},
        p_control={"winback_coupon": np.array(p_control), "cross_sell_reminder": np.full(n, 0.1)},
    )


def test_embedded_actions_config_is_valid(config: ActionsConfig) -> None:
    assert set(ACTIONS) <= set(config.actions)
    assert all(a.contact_cost >= 0 for a in config.actions.values())


def test_persuadable_gets_the_coupon_and_a_sure_thing_does_not(config: ActionsConfig) -> None:
    # 100 order, 30% margin, 20% coupon: +20 pts uplift on p0=0.05 earns 6.0 - 0.25*20 - 0.05 > 0,
    # while a sure thing (p0=0.9, no uplift) would cost 0.9*20 in coupons for nothing.
    features = customers(days_since_last_orders=[45.0, 45.0])
    got = decide(features, estimates(2, [0.20, 0.0], [0.05, 0.9]), config, ACTIONS)
    assert list(got.action) == ["winback_coupon", NO_ACTION]
    assert got.profit[0] == pytest.approx(0.20 * 0.3 * 100 - 0.25 * 20 - 0.05)
    assert got.reason[0].startswith("winback_coupon: +")
    assert "best eligible is winback_coupon" in got.reason[1]


def test_ineligible_customers_get_an_explicit_reason(config: ActionsConfig) -> None:
    features = customers(consent_sms=[0.0, 1.0, 1.0], days_since_last_orders=[45.0, 200.0, np.nan])
    got = decide(features, estimates(3, [0.3] * 3, [0.05] * 3), config, ACTIONS)
    assert list(got.action) == [NO_ACTION] * 3
    assert "winback_coupon: no sms consent" in got.reason[0]
    assert "days_since_last_orders not in [30, 90]" in got.reason[1]
    assert "days_since_last_orders not in" in got.reason[2]  # unknown is not eligible
    assert np.isnan(got.profits["winback_coupon"]).all()


def test_frequency_cap_and_cooldown_block(config: ActionsConfig) -> None:
    features = customers(messages_7d=[5.0, 0.0, 0.0], days_since_last_messages=[30.0, 2.0, np.nan])
    got = decide(features, estimates(3, [0.3] * 3, [0.05] * 3), config, ["winback_coupon"])
    assert list(got.action) == [NO_ACTION, NO_ACTION, "winback_coupon"]
    assert "frequency cap" in got.reason[0]
    assert "cooldown" in got.reason[1]


def test_the_more_profitable_eligible_action_wins(config: ActionsConfig) -> None:
    # Recency 10 days: only cross-sell is eligible even though winback's uplift is larger.
    features = customers(days_since_last_orders=[10.0, 45.0])
    got = decide(features, estimates(2, [0.3, 0.3], [0.05, 0.05], cross=0.05), config, ACTIONS)
    assert list(got.action) == ["cross_sell_reminder", "winback_coupon"]


def test_allocate_respects_budget_and_size(config: ActionsConfig) -> None:
    n = 5
    features = customers(days_since_last_orders=[45.0] * n)
    got = decide(features, estimates(n, [0.15, 0.20, 0.40, 0.0, 0.30], [0.02] * n), config, ACTIONS)
    by_size = allocate(got, size=2)
    assert set(np.flatnonzero(by_size)) == {2, 4}
    budget = float(np.sort(got.spend[got.action != NO_ACTION])[:2].sum())
    chosen = allocate(got, budget=budget)
    assert got.spend[chosen].sum() <= budget + 1e-9
    assert chosen.sum() >= 1
    assert not chosen[3]  # no action, never contacted
    with pytest.raises(ValueError, match="budget"):
        allocate(got, budget=-1)


def test_unknown_action_and_missing_features_are_named(config: ActionsConfig) -> None:
    with pytest.raises(ValueError, match="unknown action"):
        decide(customers(days_since_last_orders=[1.0]), estimates(1, [0.1], [0.1]), config, ["nope"])
    with pytest.raises(ValueError, match="consent_sms"):
        check_features("winback_coupon", config.actions["winback_coupon"], pd.Index(["avg_order_value"]))
    assert "messages_7d" in required_features(config.actions["winback_coupon"])


@pytest.mark.parametrize(
    ("low", "high", "reason"),
    [(None, 0.0, "orders_total not <= 0"), (500.0, None, "orders_total not >= 500"),
     (1.0, 3.0, "orders_total not in [1, 3]"), (None, None, "orders_total not present")],
)  # fmt: skip
def test_eligibility_reasons_name_the_allowed_range(
    low: float | None, high: float | None, reason: str
) -> None:
    spec = ActionConfig(
        description="test",
        channel="email",
        contact_cost=0.01,
        eligibility=(FeatureRange(feature="orders_total", min=low, max=high),),
    )
    ok, why = eligibility(
        spec, pd.DataFrame({"orders_total": [np.nan, 9.0, -1.0], "consent_email": [1.0] * 3})
    )
    assert reason in why[0]  # a missing value always fails
    assert list(ok) == [
        False,
        *[(low is None or v >= low) and (high is None or v <= high) for v in (9.0, -1.0)],
    ]


def test_cart_reminder_is_only_for_carts_not_bought_since(config: ActionsConfig) -> None:
    # The abandoned cart's recency is the rule's lower bound on the last order's: an order placed
    # after the cart fails, one before it passes, and never having ordered passes too.
    features = customers(
        days_since_last_abandoned_carts=[1.0, 1.0, 1.0, 1.0, np.nan],
        days_since_last_orders=[10.0, 0.4, np.nan, 1.0, np.nan],
    )
    ok, why = eligibility(config.actions["cart_free_shipping"], features)
    assert list(ok) == [True, False, True, True, False]
    assert why[1] == "days_since_last_orders not >= days_since_last_abandoned_carts"
    assert why[4] == "days_since_last_abandoned_carts not <= 2"


def test_a_rule_bounded_by_another_feature_fails_where_that_feature_is_missing() -> None:
    spec = ActionConfig(
        description="test",
        channel="email",
        contact_cost=0.01,
        eligibility=(FeatureRange(feature="a", min_feature="b", max=5.0),),
    )
    assert required_features(spec)[:3] == ["consent_email", "a", "b"]
    frame = pd.DataFrame(
        {"consent_email": [1.0] * 5, "a": [2.0, 2.0, 6.0, np.nan, 2.0], "b": [1.0, 3.0, 1.0, 1.0, np.nan]}
    )
    ok, why = eligibility(spec, frame)
    assert list(ok) == [True, False, False, False, False]  # missing fails unless the rule says it passes
    assert why[2] == "a not in [b, 5]"


def test_a_rule_takes_one_lower_bound() -> None:
    with pytest.raises(ValueError, match="rule on 'a': give min or min_feature, not both"):
        FeatureRange(feature="a", min=1.0, min_feature="b")
    with pytest.raises(ValueError, match="missing"):
        FeatureRange(feature="a", missing="skips")  # type: ignore[arg-type]


def test_cap_and_cooldown_boundaries(config: ActionsConfig) -> None:
    # winback: at most 3 messages in 7 days (2 passes, 3 fails, none counted when missing), 14 days'
    # cooldown (exactly 14 passes, 13.9 fails, no message ever passes).
    features = customers(
        messages_7d=[2.0, 3.0, np.nan, 0.0, 0.0, 0.0],
        days_since_last_messages=[30.0, 30.0, 30.0, 14.0, 13.9, np.nan],
    )
    ok, why = eligibility(config.actions["winback_coupon"], features)
    assert list(ok) == [True, False, True, True, False, True]
    assert list(why) == [
        "",
        "frequency cap: 3 messages in 7 days",
        "",
        "",
        "cooldown: last message under 14 days ago",
        "",
    ]


def test_one_pass_over_every_action_matches_each_action_checked_alone(config: ActionsConfig) -> None:
    rng = np.random.default_rng(3)
    n = 400
    features = pd.DataFrame(
        {
            **{f"consent_{c}": rng.choice([0.0, 1.0, np.nan], n) for c in ("email", "sms", "push")},
            "orders_total": rng.choice([0.0, 1.0, 4.0, np.nan], n),
            "tenure_days": rng.uniform(0, 60, n),
            "days_since_last_abandoned_carts": rng.choice([0.5, 2.0, 5.0, np.nan], n),
            "days_since_last_orders": np.where(rng.random(n) < 0.2, np.nan, rng.uniform(0, 120, n)),
            "orders_amount_total": rng.uniform(0, 1500, n),
            "messages_7d": rng.choice([0.0, 2.0, 3.0, np.nan], n),
            "days_since_last_messages": rng.choice([1.0, 5.0, 20.0, np.nan], n),
            "avg_order_value": rng.choice([35.0, 0.0, np.nan], n),
        }
    )
    names = list(config.actions)
    uplift = {a: rng.uniform(-0.05, 0.3, n) for a in names}
    got = decide(features, Estimates(uplift, {a: rng.uniform(0, 0.3, n) for a in names}), config)
    for j, name in enumerate(names):
        ok, why = eligibility(config.actions[name], features)
        assert ok.any() and not ok.all(), name  # the rows test both ways
        assert (np.isnan(got.profit_table[:, j]) == ~ok).all()
        none = got.action == NO_ACTION
        for i in np.flatnonzero(none & ~ok)[:20]:
            if "not eligible for any" in got.reason[i]:
                assert f"{name}: {why[i]}" in got.reason[i]
    # every eligible action priced: the chosen one's profit is the row's best and positive
    chosen = got.action != NO_ACTION
    assert chosen.any() and (got.profit[chosen] == np.nanmax(got.profit_table[chosen], axis=1)).all()
    assert (got.profit[chosen] > 0).all()
