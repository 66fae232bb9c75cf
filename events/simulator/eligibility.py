"""Who each action is for: population rules shared by the campaign scheduler and ground truth."""

from __future__ import annotations

import numpy as np

from events.simulator import actions as act
from events.simulator.catalog import CONSENT_CHANNELS
from events.simulator.state import CustomerState
from events.simulator.traits import Traits


def population(action: str, day: int, state: CustomerState, m: int) -> np.ndarray:
    """Mask over the first `m` customers of those `action` is meant for at the start of `day`.

    welcome_coupon: never ordered; cart_free_shipping: left a cart in the last
    CART_LOOKBACK_DAYS days with no order since; winback_coupon: 30-90 days since the last order;
    vip_early_access: buyers whose cumulative net spend reached VIP_MIN_SPEND;
    cross_sell_reminder: 7-13 days since the last order.
    """
    n_orders = state.n_orders[:m]
    recency = day - state.last_order_day[:m]
    if action == "welcome_coupon":
        return n_orders == 0
    if action == "cart_free_shipping":
        abandoned = state.abandon_day[:m]
        return (abandoned >= day - act.CART_LOOKBACK_DAYS) & (state.last_order_day[:m] < abandoned)
    if action == "winback_coupon":
        low, high = act.WINBACK_RECENCY
        return (n_orders > 0) & (recency >= low) & (recency <= high)
    if action == "vip_early_access":
        return (n_orders > 0) & (state.spend[:m] >= act.VIP_MIN_SPEND)
    if action == "cross_sell_reminder":
        low, high = act.CROSS_SELL_RECENCY
        return (n_orders > 0) & (recency >= low) & (recency <= high)
    raise ValueError(f"unknown action {action!r}; allowed: {', '.join(act.ACTION_NAMES)}")


def campaign_eligible(
    action: act.Action, channel: str, day: int, traits: Traits, state: CustomerState, m: int
) -> np.ndarray:
    """Population, plus the campaign's trigger, consent for its channel and no active window."""
    mask = population(action.name, day, state, m)
    mask &= traits.consent[:m, CONSENT_CHANNELS.index(channel)]
    mask &= state.free(slice(0, m), day)
    if action.name == "welcome_coupon":
        mask &= traits.signup_day[:m] == day - act.WELCOME_DELAY_DAYS
    return mask
