"""What a treatment is worth: expected incremental profit and expected spend per customer.

With treatment a customer orders with P(treated) = p_control + uplift and every treated order
uses the coupon; without it they order with p_control at full price. So

    incremental profit = uplift x margin x order value - P(treated) x coupon - contact cost
    expected spend     = contact cost + P(treated) x coupon

Coupons paid to sure things (high p_control, no uplift) are what make blanket discounts lose money.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from configs.schema import ActionConfig
from features.rows import Rows, float_columns


@dataclass(frozen=True)
class Pricing:
    """The terms of several actions as arrays that broadcast over rows x actions, so the functions
    below price every action of a decision in one pass (they take one ActionConfig the same way)."""

    contact_cost: np.ndarray
    percent_off: np.ndarray
    fixed_off: np.ndarray
    amount: np.ndarray  # the fixed order value, or the fallback of the value feature
    value_column: np.ndarray  # the value feature's column in the matrix `order_values` reads; -1: fixed

    @classmethod
    def of(cls, actions: list[ActionConfig], features: list[str]) -> Pricing:
        """`features`: the columns of the matrices this pricing will read."""
        return cls(
            np.array([action.contact_cost for action in actions]),
            np.array([action.percent_off for action in actions]),
            np.array([action.fixed_off for action in actions]),
            np.array([action.value.amount for action in actions]),
            np.array([features.index(name) if name else -1 for name in value_features(actions)], np.intp),
        )

    def order_values(self, values: np.ndarray) -> np.ndarray:
        """Rows x actions: order_value of each action, from `values` (rows x the features given to `of`)."""
        read = np.where(self.value_column >= 0, values[:, np.maximum(self.value_column, 0)], np.nan)
        return _valued(read, self.amount)


def value_features(actions: list[ActionConfig]) -> list[str | None]:
    """Per action, the feature its order value comes from; None for a fixed value."""
    return [action.value.feature if action.value.kind == "feature" else None for action in actions]


Terms = ActionConfig | Pricing


def order_value(action: ActionConfig, features: Rows, n: int) -> np.ndarray:
    """The order value per row of `n`: the value feature where it is a positive number, else the
    action's fixed amount."""
    if action.value.kind == "fixed":
        return np.full(n, action.value.amount)
    return _valued(float_columns(features, [action.value.feature])[:, 0], action.value.amount)


def _valued(value: np.ndarray, fallback: float | np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(value) & (value > 0), value, fallback)


def coupon_cost(action: Terms, value: np.ndarray) -> np.ndarray:
    return np.minimum(value, value * action.percent_off + action.fixed_off)


def expected_spend(action: Terms, value: np.ndarray, p_treated: np.ndarray) -> np.ndarray:
    return action.contact_cost + p_treated * coupon_cost(action, value)


def incremental_profit(
    action: Terms, margin: float, value: np.ndarray, uplift: np.ndarray, p_control: np.ndarray
) -> np.ndarray:
    p_treated = np.clip(p_control + uplift, 0.0, 1.0)
    return uplift * margin * value - expected_spend(action, value, p_treated)
