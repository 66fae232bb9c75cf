"""The next-best-action rule: per customer, the eligible action with the highest expected
incremental profit, or no action when none is positive; and the budget-constrained pick of a batch.

Pure numpy/pandas over online feature vectors and per-action uplift estimates, so offline policy
evaluation, the HTTP service and audience building run exactly the same rule.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from configs.schema import ActionConfig, ActionsConfig
from decisions.economics import Pricing, coupon_cost, expected_spend, incremental_profit, value_features
from decisions.eligibility import Rules
from features.rows import Rows, float_columns

NO_ACTION = "no_action"


@dataclass(frozen=True)
class Estimates:
    """Per action, aligned with the feature rows: predicted uplift and P(order | not treated)."""

    uplift: Mapping[str, np.ndarray]
    p_control: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Decisions:
    action: np.ndarray  # action name or NO_ACTION per row
    profit: np.ndarray  # expected incremental profit of that action (0 for no action)
    uplift: np.ndarray  # its predicted uplift (0 for no action)
    spend: np.ndarray  # its expected spend: contact + coupons (0 for no action)
    reason: list[str]
    actions: list[str]  # the actions decided among, the columns of `profit_table`
    profit_table: np.ndarray  # rows x actions: expected profit of each, NaN where not eligible
    index: pd.Index | None = None  # the rows' index when they came as a DataFrame

    @property
    def profits(self) -> pd.DataFrame:
        """`profit_table` by action name, on the rows' index (built on demand: a one-row decision
        does not need a frame that costs more than the rule)."""
        index = self.index if self.index is not None else pd.RangeIndex(len(self.action))
        return pd.DataFrame(self.profit_table, index=index, columns=self.actions)


def decide(
    features: Rows, estimates: Estimates, config: ActionsConfig, actions: list[str] | None = None
) -> Decisions:
    """Choose among `actions` (default: all configured) for every row of `features`. Only the
    estimates of a row's eligible actions are read: callers may leave the others NaN."""
    names = list(config.actions) if actions is None else actions
    n = len(features)
    rules, pricing, read = _compiled(_specs(config, names))
    values = float_columns(features, read)
    passes = rules.passes(values)
    order = pricing.order_values(values)
    uplift = _by_action(estimates.uplift, names, n)
    p_control = _by_action(estimates.p_control, names, n)
    table = np.where(
        rules.eligible(passes), incremental_profit(pricing, config.margin, order, uplift, p_control), np.nan
    )
    best = _best_action(table)
    # best is -1 where no action is eligible: the last label, and a NaN profit.
    chosen = np.array([*names, NO_ACTION], dtype=object)[best]
    best_profit = np.append(table, np.full((n, 1), np.nan), axis=1)[np.arange(n), best]
    act = (best >= 0) & (best_profit > 0)
    action = np.where(act, chosen, NO_ACTION)
    spend = expected_spend(pricing, order, np.clip(p_control + uplift, 0.0, 1.0))
    rows, column = np.arange(n)[act], best[act]
    uplift_out, spend_out = np.zeros(n), np.zeros(n)
    uplift_out[rows], spend_out[rows] = uplift[rows, column], spend[rows, column]
    reasons = [
        _reason(names, best[i], best_profit[i], uplift[i], order[i], pricing, config.margin) for i in range(n)
    ]
    # Rows eligible for no action say what each one lacks.
    none = np.flatnonzero(best < 0)
    failures = [rules.failures(passes[none], j) for j in range(len(names))] if len(none) else []
    for k, i in enumerate(none):
        why = "; ".join(f"{name}: {failure[k]}" for name, failure in zip(names, failures, strict=True))
        reasons[i] = f"no action: not eligible for any action ({why})"
    index = features.index if isinstance(features, pd.DataFrame) else None
    profit = np.where(act, best_profit, 0.0)
    return Decisions(action, profit, uplift_out, spend_out, reasons, names, table, index)


def eligible_actions(features: Rows, config: ActionsConfig, actions: list[str]) -> np.ndarray:
    """Rows x `actions`: may the row get the action. The check decide starts with, so callers can
    leave out the uplift models of actions no row may get."""
    rules, _, read = _compiled(_specs(config, actions))
    return rules.eligible(rules.passes(float_columns(features, read)))


def _specs(config: ActionsConfig, names: list[str]) -> tuple[ActionConfig, ...]:
    unknown = sorted(set(names) - set(config.actions))
    if unknown:
        raise ValueError(f"unknown action(s) {unknown}; configured: {sorted(config.actions)}")
    return tuple(config.actions[name] for name in names)


@functools.lru_cache(maxsize=16)
def _compiled(actions: tuple[ActionConfig, ...]) -> tuple[Rules, Pricing, list[str]]:
    """The actions' rules and pricing, and the features both read (rules' first), compiled once
    per catalogue: compiling costs a one-row decision as much as applying them."""
    rules = Rules.of(list(actions))
    read = list(dict.fromkeys([*rules.features, *filter(None, value_features(list(actions)))]))
    return rules, Pricing.of(list(actions), read), read


def allocate(decisions: Decisions, budget: float | None = None, size: int | None = None) -> np.ndarray:
    """Rows to contact: those with an action, best first, within a spend budget and/or a size.

    Under a budget customers are taken by profit per unit spent (the greedy knapsack order), so
    a fixed budget buys the most incremental profit; under a size alone, by profit.
    """
    candidates = np.flatnonzero(decisions.action != NO_ACTION)
    if budget is not None and budget < 0:
        raise ValueError(f"budget must be >= 0, got {budget}")
    if size is not None and size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    if budget is not None:
        key = decisions.profit[candidates] / np.maximum(decisions.spend[candidates], 1e-9)
    else:
        key = decisions.profit[candidates]
    order = candidates[np.argsort(-key, kind="stable")]
    if size is not None:
        order = order[:size]
    if budget is not None:
        order = fill_budget(order, decisions.spend, budget)
    selected = np.zeros(len(decisions.action), dtype=bool)
    selected[order] = True
    return selected


def fill_budget(order: np.ndarray, spend: np.ndarray, budget: float) -> np.ndarray:
    """The rows of `order` taken in turn while their spend fits the budget; a row that does not fit
    is skipped, not the end."""
    taken, left = [], budget
    for row in order:
        if spend[row] <= left:
            taken.append(row)
            left -= spend[row]
    return np.array(taken, dtype=np.int64)


def _best_action(table: np.ndarray) -> np.ndarray:
    """Per row, the column of the highest profit among the eligible (non-NaN), or -1 if none."""
    if table.shape[1] == 0:
        return np.full(len(table), -1)
    missing = np.isnan(table)
    return np.where(missing.all(axis=1), -1, np.where(missing, -np.inf, table).argmax(axis=1))


def _reason(
    names: list[str],
    j: int,
    profit: float,
    uplift: np.ndarray,
    value: np.ndarray,
    pricing: Pricing,
    margin: float,
) -> str:
    """Why a row gets its best eligible action `names[j]` or nothing: the figures of its profit.
    `uplift` and `value` are the row's, per action. Rows eligible for none (j = -1) are explained
    by decide."""
    if j < 0:
        return ""
    best = names[j]
    coupon = float(coupon_cost(pricing, value)[j])
    detail = (
        f"uplift {uplift[j] * 100:+.1f} pts on a {value[j]:.0f} order at {margin:.0%} margin"
        + (f", coupon {coupon:.2f} per treated order" if coupon else "")
        + f", contact {pricing.contact_cost[j]:.3g}"
    )
    if profit <= 0:
        return f"no action: best eligible is {best} at {profit:+.2f} expected profit ({detail})"
    return f"{best}: {profit:+.2f} expected incremental profit ({detail})"


def _by_action(estimate: Mapping[str, np.ndarray], names: list[str], n: int) -> np.ndarray:
    """Rows x actions from one array per action."""
    if not names:
        return np.empty((n, 0))
    return np.column_stack([np.asarray(estimate[name], dtype=np.float64) for name in names])
