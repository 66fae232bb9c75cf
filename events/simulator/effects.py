"""Heterogeneous treatment effects: the logit shift each action gives each customer.

Effects come from latent traits that leave observable traces, so uplift is learnable:
- coupons and free shipping move discount-sensitive customers (affiliate sign-ups, sale-item
  viewers, generic coupon users) far more than others;
- push and sms put off the customers who declined every marketing channel at sign-up (on record in
  their consent): negative effects, the sleeping dogs;
- VIP early access moves high spenders; cross-sell reminders move broad-interest customers.
Lost causes (near-zero baseline) and sure things (near-one baseline) get ~0 uplift from the same
shift because it acts on the logit.
"""

from __future__ import annotations

import numpy as np

from events.simulator.traits import Traits

INTRUSIVE_CHANNELS = ("push", "sms")
PUT_OFF_EFFECT = -2.2


def treatment_effect(action: str, channel: str, traits: Traits, idx: np.ndarray) -> np.ndarray:
    """Logit shift of the daily order probability while `action` via `channel` is active."""
    discount = traits.discount_sensitivity[idx]
    if action == "welcome_coupon":
        effect = 0.1 + 2.0 * discount
    elif action == "cart_free_shipping":
        effect = 0.05 + 1.6 * discount
    elif action == "winback_coupon":
        effect = 0.15 + 1.8 * discount
    elif action == "vip_early_access":
        effect = 0.05 + 0.55 * np.clip(traits.spend_z[idx], 0.0, 3.0)
    elif action == "cross_sell_reminder":
        effect = 2.2 * np.clip(traits.category_breadth[idx] - 0.45, 0.0, None)
    else:
        raise ValueError(f"unknown action {action!r}")
    if channel in INTRUSIVE_CHANNELS:
        effect = effect + PUT_OFF_EFFECT * traits.put_off[idx]
    return effect
