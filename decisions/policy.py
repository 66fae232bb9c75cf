"""The next-best-action rule: per customer, the eligible action with the highest expected
incremental profit, or no action when none is positive; and the budget-constrained pick of a batch.

Pure numpy/pandas over online feature vectors and per-action uplift estimates, so offline policy
evaluation, the HTTP service and audience building run exactly the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from configs.schema import ActionsConfig
from decisions.economics import coupon_cost, expected_spend, incremental_profit, order_value
from decisions.eligibility import eligibility, numeric_columns, required_features
from features.rows import Rows

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
    """Choose among `actions` (default: all configured) for every row of `features`."""
    names = list(config.actions) if actions is None else actions
    unknown = sorted(set(names) - set(config.actions))
    if unknown:
        raise ValueError(f"unknown action(s) {unknown}; configured: {sorted(config.actions)}")
    n = len(features)
    needed = [feature for name in names for feature in required_features(config.actions[name])]
    columns = numeric_columns(features, needed)
    profits, spends, values, failures = {}, {}, {}, {}
    for name in names:
        spec = config.actions[name]
        eligible, failures[name] = eligibility(spec, columns)
        uplift, p_control = estimates.uplift[name], estimates.p_control[name]
        values[name] = order_value(spec, columns, n)
        profit = incremental_profit(spec, config.margin, values[name], uplift, p_control)
        profits[name] = np.where(eligible, profit, np.nan)
        spends[name] = expected_spend(spec, values[name], np.clip(p_control + uplift, 0, 1))
    table = np.column_stack([profits[name] for name in names]) if names else np.empty((n, 0))
    best = _best_action(table)
    # best is -1 where no action is eligible: the last label, and a NaN profit.
    chosen = np.array([*names, NO_ACTION], dtype=object)[best]
    best_profit = np.append(table, np.full((n, 1), np.nan), axis=1)[np.arange(n), best]
    act = (best >= 0) & (best_profit > 0)
    action = np.where(act, chosen, NO_ACTION)
    pick = {name: np.flatnonzero(action == name) for name in names}
    uplift_out, spend_out = np.zeros(n), np.zeros(n)
    for name, rows in pick.items():
        uplift_out[rows] = estimates.uplift[name][rows]
        spend_out[rows] = spends[name][rows]
    reasons = [
        _reason(i, chosen[i], best_profit[i], names, failures, values, estimates, config) for i in range(n)
    ]
    index = features.index if isinstance(features, pd.DataFrame) else None
    profit = np.where(act, best_profit, 0.0)
    return Decisions(action, profit, uplift_out, spend_out, reasons, names, table, index)


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
    i: int,
    best: str,
    profit: float,
    names: list[str],
    failures: Mapping[str, np.ndarray],
    values: Mapping[str, np.ndarray],
    estimates: Estimates,
    config: ActionsConfig,
) -> str:
    if best == NO_ACTION:
        why = "; ".join(f"{name}: {failures[name][i]}" for name in names)
        return f"no action: not eligible for any action ({why})"
    action = config.actions[best]
    uplift, value = estimates.uplift[best][i], values[best][i]
    coupon = coupon_cost(action, np.array([value]))[0]
    detail = (
        f"uplift {uplift * 100:+.1f} pts on a {value:.0f} order at {config.margin:.0%} margin"
        + (f", coupon {coupon:.2f} per treated order" if coupon else "")
        + f", contact {action.contact_cost:.3g}"
    )
    if profit <= 0:
        return f"no action: best eligible is {best} at {profit:+.2f} expected profit ({detail})"
    return f"{best}: {profit:+.2f} expected incremental profit ({detail})"
