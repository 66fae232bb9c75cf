"""Next-best-action policies for offline evaluation and their true value on simulated data.

Every policy yields one action (or NO_ACTION) per row of one decision round (one cutoff) and every
policy uses the same eligibility rules (decisions/eligibility.py), so only the targeting differs:

- model: `decide` on the uplift champion's estimates (the production rule);
- oracle: `decide` on the simulator's true uplift and P(order | not treated);
- send_to_all: every eligible customer gets the first eligible action in actions.yaml order;
- random: as many contacts as the model makes, random eligible customers, a random eligible action;
- churn_risk: as many contacts as the model makes, the highest churn-risk buyers (orders_total > 0)
  with an eligible action, each getting the send-to-all rule's action (never welcome_coupon, which
  is for prospects only).

Under a spend budget each policy keeps its contacts in its own priority order until the budget is
spent (decisions.policy.fill_budget): model and oracle through `allocate`, by expected profit per
unit spent; churn_risk by risk; send_to_all and random in random order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from configs.schema import ActionConfig, ActionsConfig
from decisions.economics import expected_spend, incremental_profit, order_value
from decisions.policy import NO_ACTION, Estimates, allocate, decide, fill_budget
from decisions.policy import eligible_actions as may_get

POLICIES = ("oracle", "model", "send_to_all", "random", "churn_risk")


@dataclass(frozen=True)
class Round:
    """One decision round: feature rows as of a cutoff with everything the policies may read."""

    features: pd.DataFrame
    predicted: Estimates  # the uplift champion's estimates
    truth: Estimates  # true uplift and P(order | not treated), NaN -> 0
    risk: np.ndarray  # the churn champion's P(churn)
    outside: dict[str, np.ndarray]  # per action: rows where the ground truth defines no effect


@dataclass(frozen=True)
class Value:
    """What a plan truly earns, summed over its contacts."""

    contacts: int = 0
    profit: float = 0.0
    incremental_conversions: float = 0.0
    spend: float = 0.0
    outside_population: int = 0  # contacts the ground truth gives no effect (zero true uplift)

    def __add__(self, other: Value) -> Value:
        return Value(
            self.contacts + other.contacts,
            self.profit + other.profit,
            self.incremental_conversions + other.incremental_conversions,
            self.spend + other.spend,
            self.outside_population + other.outside_population,
        )


def true_estimates(truth: pd.DataFrame, actions: list[str]) -> Estimates:
    """From ground-truth columns uplift_<a>, p_control_<a>; undefined (NaN) counts as no effect and
    no baseline order, so contacting such a customer costs only the contact."""
    uplift = {a: np.nan_to_num(truth[f"uplift_{a}"].to_numpy(dtype=np.float64)) for a in actions}
    p_control = {a: np.nan_to_num(truth[f"p_control_{a}"].to_numpy(dtype=np.float64)) for a in actions}
    return Estimates(uplift, p_control)


def eligible_actions(features: pd.DataFrame, config: ActionsConfig, actions: list[str]) -> pd.DataFrame:
    """Rows x actions (in actions.yaml order): may this row get this action."""
    ordered = [a for a in config.actions if a in actions]
    return pd.DataFrame(may_get(features, config, ordered), index=features.index, columns=ordered)


def first_eligible(eligible: pd.DataFrame) -> np.ndarray:
    """The send-to-all rule: each row's first eligible action in column order, else NO_ACTION."""
    mask = eligible.to_numpy(dtype=bool)
    names = np.array(eligible.columns, dtype=object)
    if mask.shape[1] == 0:
        return np.full(len(eligible), NO_ACTION, dtype=object)
    return np.where(mask.any(axis=1), names[mask.argmax(axis=1)], NO_ACTION)


def random_actions(eligible: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random eligible action per row, NO_ACTION where none is eligible."""
    mask = eligible.to_numpy(dtype=bool)
    names = np.array(eligible.columns, dtype=object)
    if mask.shape[1] == 0:
        return np.full(len(eligible), NO_ACTION, dtype=object)
    keys = np.where(mask, rng.random(mask.shape), -1.0)
    return np.where(mask.any(axis=1), names[keys.argmax(axis=1)], NO_ACTION)


def random_plan(eligible: pd.DataFrame, contacts: int, rng: np.random.Generator) -> np.ndarray:
    """`contacts` random rows among those eligible for any action, each a random eligible action."""
    actions = random_actions(eligible, rng)
    candidates = np.flatnonzero(actions != NO_ACTION)
    chosen = rng.choice(candidates, size=min(contacts, len(candidates)), replace=False)
    return _only(actions, chosen)


def risk_plan(eligible: pd.DataFrame, risk: np.ndarray, buyer: np.ndarray, contacts: int) -> np.ndarray:
    """The `contacts` highest-risk buyers with an eligible action, each the send-to-all action."""
    actions = np.where(buyer, first_eligible(eligible), NO_ACTION)
    candidates = np.flatnonzero(actions != NO_ACTION)
    order = candidates[np.argsort(-risk[candidates], kind="stable")]
    return _only(actions, order[:contacts])


def plan_spend(
    plan: np.ndarray, features: pd.DataFrame, estimates: Estimates, config: ActionsConfig
) -> np.ndarray:
    """Expected spend (contact + coupons) of each row's planned action under `estimates`."""
    spend = np.zeros(len(plan))
    for action, rows, spec, value in _planned(plan, features, config):
        p_treated = np.clip(estimates.p_control[action][rows] + estimates.uplift[action][rows], 0.0, 1.0)
        spend[rows] = expected_spend(spec, value, p_treated)
    return spend


def plan_value(plan: np.ndarray, features: pd.DataFrame, round_: Round, config: ActionsConfig) -> Value:
    """The plan's true incremental profit, incremental conversions and spend."""
    return sum(plan_values(plan, features, round_, config).values(), Value())


def plan_values(
    plan: np.ndarray, features: pd.DataFrame, round_: Round, config: ActionsConfig
) -> dict[str, Value]:
    """Per planned action, its true value (with the value model the decision uses:
    decisions.economics.order_value)."""
    values = {}
    for action, rows, spec, value in _planned(plan, features, config):
        uplift, p_control = round_.truth.uplift[action][rows], round_.truth.p_control[action][rows]
        p_treated = np.clip(p_control + uplift, 0.0, 1.0)
        values[action] = Value(
            int(rows.sum()),
            float(incremental_profit(spec, config.margin, value, uplift, p_control).sum()),
            float(uplift.sum()),
            float(expected_spend(spec, value, p_treated).sum()),
            int(round_.outside[action][rows].sum()),
        )
    return values


def _planned(
    plan: np.ndarray, features: pd.DataFrame, config: ActionsConfig
) -> Iterator[tuple[str, np.ndarray, ActionConfig, np.ndarray]]:
    """Per action in the plan: its name, its rows (a mask), its spec and those rows' order values."""
    for action in _actions_in(plan):
        rows = plan == action
        spec = config.actions[action]
        yield action, rows, spec, order_value(spec, features, len(features))[rows]


def within_budget(plan: np.ndarray, priority: np.ndarray, spend: np.ndarray, budget: float) -> np.ndarray:
    """The plan cut to `budget`, its contacts taken in `priority` order (higher first)."""
    candidates = np.flatnonzero(plan != NO_ACTION)
    order = candidates[np.argsort(-priority[candidates], kind="stable")]
    return _only(plan, fill_budget(order, spend, budget))


def round_plans(
    round_: Round, config: ActionsConfig, actions: list[str], rng: np.random.Generator, budget_share: float
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Every policy's plan for the round, without and with a budget of `budget_share` x the spend
    the model plans without one (as the model estimates it)."""
    features = round_.features
    model = decide(features, round_.predicted, config, actions)
    oracle = decide(features, round_.truth, config, actions)
    eligible = eligible_actions(features, config, actions)
    contacts = int((model.action != NO_ACTION).sum())
    buyer = np.nan_to_num(pd.to_numeric(features["orders_total"], errors="coerce").to_numpy()) > 0
    blanket = first_eligible(eligible)
    plans = {
        "oracle": oracle.action,
        "model": model.action,
        "send_to_all": blanket,
        "random": random_plan(eligible, contacts, rng),
        "churn_risk": risk_plan(eligible, round_.risk, buyer, contacts),
    }
    budget = budget_share * float(model.spend.sum())
    candidates = {
        "send_to_all": (blanket, rng.random(len(blanket))),
        "random": (random_actions(eligible, rng), rng.random(len(blanket))),
        "churn_risk": (np.where(buyer, blanket, NO_ACTION), round_.risk),
    }
    budgeted = {
        "oracle": np.where(allocate(oracle, budget=budget), oracle.action, NO_ACTION),
        "model": np.where(allocate(model, budget=budget), model.action, NO_ACTION),
    }
    for name, (plan, priority) in candidates.items():
        spend = plan_spend(plan, features, round_.predicted, config)
        budgeted[name] = within_budget(plan, priority, spend, budget)
    return plans, budgeted


def _only(actions: np.ndarray, rows: np.ndarray) -> np.ndarray:
    plan = np.full(len(actions), NO_ACTION, dtype=object)
    plan[rows] = actions[rows]
    return plan


def _actions_in(plan: np.ndarray) -> list[str]:
    return [str(a) for a in pd.unique(plan) if a != NO_ACTION]
