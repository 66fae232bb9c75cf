from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from configs.loader import load_config
from configs.schema import ActionsConfig
from decisions.policy import NO_ACTION, Estimates
from training.policies import (
    POLICIES,
    Round,
    Value,
    eligible_actions,
    first_eligible,
    plan_spend,
    plan_value,
    random_plan,
    risk_plan,
    round_plans,
    true_estimates,
    within_budget,
)

ACTIONS = ["welcome_coupon", "winback_coupon", "cross_sell_reminder"]


@pytest.fixture(scope="module")
def config() -> ActionsConfig:
    return load_config("actions", ActionsConfig)


def customers() -> pd.DataFrame:
    """Rows 0-1 prospects (welcome), 2-5 lapsing buyers (winback), 6-7 recent buyers (cross-sell),
    8 a buyer eligible for nothing (no consent), 9 a lapsing buyer without SMS consent."""
    n = 10
    return pd.DataFrame(
        {
            "consent_email": [1.0] * n,
            "consent_sms": [1.0] * 9 + [0.0],
            "consent_push": [1.0] * 8 + [0.0, 1.0],
            "orders_total": [0.0, 0.0, 2, 3, 1, 5, 2, 2, 4, 3],
            "tenure_days": [4.0, 12.0, 300, 200, 150, 100, 90, 80, 400, 250],
            "days_since_last_orders": [np.nan, np.nan, 45, 60, 80, 35, 9, 10, 200, 50],
            "messages_7d": [0.0] * n,
            "days_since_last_messages": [30.0] * n,
            "avg_order_value": [np.nan, np.nan, 100, 80, 60, 120, 70, 90, 50, 100],
        }
    )


def test_send_to_all_takes_the_first_eligible_action_in_config_order(config: ActionsConfig) -> None:
    eligible = eligible_actions(customers(), config, ACTIONS)
    assert list(eligible.columns) == ACTIONS  # actions.yaml order
    plan = first_eligible(eligible)
    assert list(plan[:2]) == ["welcome_coupon"] * 2
    assert list(plan[2:6]) == ["winback_coupon"] * 4
    assert list(plan[6:8]) == ["cross_sell_reminder"] * 2
    assert plan[8] == NO_ACTION and plan[9] == NO_ACTION


def test_risk_targeting_picks_the_top_risk_eligible_buyers(config: ActionsConfig) -> None:
    eligible = eligible_actions(customers(), config, ACTIONS)
    risk = np.array([0.99, 0.98, 0.2, 0.9, 0.5, 0.1, 0.6, 0.3, 0.97, 0.96])
    buyer = customers()["orders_total"].to_numpy() > 0
    plan = risk_plan(eligible, risk, buyer, contacts=3)
    # Prospects (0, 1) are not buyers; 8 and 9 are eligible for nothing: the next are 3, 6, 4.
    assert set(np.flatnonzero(plan != NO_ACTION)) == {3, 6, 4}
    assert plan[3] == "winback_coupon" and plan[6] == "cross_sell_reminder"


def test_random_plan_makes_the_asked_contacts_deterministically(config: ActionsConfig) -> None:
    eligible = eligible_actions(customers(), config, ACTIONS)
    first = random_plan(eligible, 5, np.random.default_rng(3))
    again = random_plan(eligible, 5, np.random.default_rng(3))
    assert (first == again).all()
    contacted = np.flatnonzero(first != NO_ACTION)
    assert len(contacted) == 5
    assert all(eligible.loc[row, first[row]] for row in contacted)
    # Asking for more contacts than eligible rows contacts every eligible row once.
    assert (random_plan(eligible, 100, np.random.default_rng(3)) != NO_ACTION).sum() == 8


def truth_round(features: pd.DataFrame) -> Round:
    n = len(features)
    truth = pd.DataFrame(
        {
            "uplift_welcome_coupon": [0.2, 0.0] + [0.0] * 8,
            "p_control_welcome_coupon": [0.1, np.nan] + [np.nan] * 8,
            "uplift_winback_coupon": [0, 0, 0.25, 0.0, 0.01, 0.15, 0, 0, 0, 0.3],
            "p_control_winback_coupon": [np.nan, np.nan, 0.1, 0.8, 0.2, 0.05, np.nan, np.nan, np.nan, 0.1],
            "uplift_cross_sell_reminder": [0.0] * 6 + [0.1, 0.0, 0.0, 0.0],
            "p_control_cross_sell_reminder": [np.nan] * 6 + [0.3, 0.4, np.nan, np.nan],
        }
    )
    estimates = true_estimates(truth, ACTIONS)
    noisy = Estimates(
        {a: u + 0.02 for a, u in estimates.uplift.items()},
        {a: p + 0.01 for a, p in estimates.p_control.items()},
    )
    outside = {a: truth[f"p_control_{a}"].isna().to_numpy() for a in ACTIONS}
    return Round(features, noisy, estimates, np.linspace(0.9, 0.1, n), outside)


def test_undefined_truth_costs_only_the_contact(config: ActionsConfig) -> None:
    features = customers()
    round_ = truth_round(features)
    plan = np.full(10, NO_ACTION, dtype=object)
    plan[1] = "welcome_coupon"  # outside the true population: no effect, no baseline order
    value = plan_value(plan, features, round_, config)
    expected = Value(1, pytest.approx(-config.actions["welcome_coupon"].contact_cost), 0.0, value.spend, 1)
    assert value == expected


def test_round_plans_oracle_wins_and_budget_is_respected(config: ActionsConfig) -> None:
    features = customers()
    round_ = truth_round(features)
    plans, budgeted = round_plans(round_, config, ACTIONS, np.random.default_rng(0), budget_share=0.3)
    assert set(plans) == set(budgeted) == set(POLICIES)
    values = {p: plan_value(plans[p], features, round_, config) for p in POLICIES}
    assert all(values["oracle"].profit >= v.profit - 1e-12 for v in values.values())
    model_contacts = values["model"].contacts
    assert values["random"].contacts == model_contacts
    assert values["churn_risk"].contacts == min(model_contacts, 6)  # six eligible buyers
    budget = 0.3 * plan_spend(plans["model"], features, round_.predicted, config).sum()
    for policy in POLICIES:
        estimates = round_.truth if policy == "oracle" else round_.predicted
        assert plan_spend(budgeted[policy], features, estimates, config).sum() <= budget + 1e-12
        assert (budgeted[policy] != NO_ACTION).sum() >= 1


def test_within_budget_follows_the_priority_until_the_budget_is_spent() -> None:
    plan = np.array(["a", "a", "a", NO_ACTION], dtype=object)
    spend = np.array([1.0, 1.0, 1.0, 0.0])
    kept = within_budget(plan, np.array([0.1, 0.9, 0.5, 0.0]), spend, budget=2.0)
    assert list(kept) == [NO_ACTION, "a", "a", NO_ACTION]
