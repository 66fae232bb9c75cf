"""What a treatment is worth: expected incremental profit and expected spend per customer.

With treatment a customer orders with P(treated) = p_control + uplift and every treated order
uses the coupon; without it they order with p_control at full price. So

    incremental profit = uplift x margin x order value - P(treated) x coupon - contact cost
    expected spend     = contact cost + P(treated) x coupon

Coupons paid to sure things (high p_control, no uplift) are what make blanket discounts lose money.
"""

from __future__ import annotations

import numpy as np

from configs.schema import ActionConfig
from decisions.eligibility import Columns, number


def order_value(action: ActionConfig, features: Columns, n: int) -> np.ndarray:
    """The order value per row of `n`: the value feature where it is a positive number, else the
    action's fixed amount."""
    fallback = action.value.amount
    if action.value.kind == "fixed":
        return np.full(n, fallback)
    value = number(features, action.value.feature)
    return np.where(np.isfinite(value) & (value > 0), value, fallback)


def coupon_cost(action: ActionConfig, value: np.ndarray) -> np.ndarray:
    return np.minimum(value, value * action.percent_off + action.fixed_off)


def expected_spend(action: ActionConfig, value: np.ndarray, p_treated: np.ndarray) -> np.ndarray:
    return action.contact_cost + p_treated * coupon_cost(action, value)


def incremental_profit(
    action: ActionConfig, margin: float, value: np.ndarray, uplift: np.ndarray, p_control: np.ndarray
) -> np.ndarray:
    p_treated = np.clip(p_control + uplift, 0.0, 1.0)
    return uplift * margin * value - expected_spend(action, value, p_treated)
