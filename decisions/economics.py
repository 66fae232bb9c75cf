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
from decisions.eligibility import Columns, number


@dataclass(frozen=True)
class Pricing:
    """The terms of several actions as arrays that broadcast over rows x actions, so the functions
    below price every action of a decision in one pass (they take one ActionConfig the same way)."""

    contact_cost: np.ndarray
    percent_off: np.ndarray
    fixed_off: np.ndarray
    amount: np.ndarray  # the fixed order value, or the fallback of the value feature
    value_features: list[str | None]  # None for a fixed value

    @classmethod
    def of(cls, actions: list[ActionConfig]) -> Pricing:
        return cls(
            np.array([action.contact_cost for action in actions]),
            np.array([action.percent_off for action in actions]),
            np.array([action.fixed_off for action in actions]),
            np.array([action.value.amount for action in actions]),
            [action.value.feature if action.value.kind == "feature" else None for action in actions],
        )

    def order_values(self, values: np.ndarray, features: list[str]) -> np.ndarray:
        """Rows x actions: order_value of each action, from `values` (rows x `features`)."""
        column = np.array(
            [-1 if name is None else features.index(name) for name in self.value_features], np.intp
        )
        read = np.where(column >= 0, values[:, np.maximum(column, 0)], np.nan)
        return _valued(read, self.amount)


Terms = ActionConfig | Pricing


def order_value(action: ActionConfig, features: Columns, n: int) -> np.ndarray:
    """The order value per row of `n`: the value feature where it is a positive number, else the
    action's fixed amount."""
    if action.value.kind == "fixed":
        return np.full(n, action.value.amount)
    return _valued(number(features, action.value.feature), action.value.amount)


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
