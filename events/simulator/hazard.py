"""The daily order probability: the one equation behind orders, churn and ground truth.

h(day) depends only on latent traits, the weekday and the deterministic state (orders so far, days
since the last order or since sign-up). State changes only when an order happens, so along the
no-order path h is known in advance and P(order within a window) is exact.

- prospect (no order yet), r days after sign-up:  q * exp(-r / ONBOARDING_DAYS) + floor
- buyer, r days after the last order:  rep * (exp(-r / lapse) + RETURN) * (1 + LOYALTY * log1p(n-1))
times the weekday factor, capped at MAX_DAILY. A campaign treatment adds delta to logit(h).
"""

from __future__ import annotations

import numpy as np

from events.simulator.catalog import WEEKDAY_ORDER_FACTOR
from events.simulator.traits import Propensity

ONBOARDING_DAYS = 9.0
# Long-run return rate of a lapsed buyer relative to right after an order: nobody is ever lost
# for good, which is what makes win-back campaigns worth anything.
RETURN = 0.06
LOYALTY = 0.25
MAX_DAILY = 0.6
_LOYALTY_TABLE = 1.0 + LOYALTY * np.log1p(np.arange(1024, dtype=np.float64))

# Visits: a floor of browsing plus a share that tracks the order hazard (intent shows up on site).
VISIT_FLOOR = 0.004
VISIT_GAIN = 3.0
MAX_VISIT = 0.8


def daily(p: Propensity, n_orders: np.ndarray, recency: np.ndarray, weekday_factor: float) -> np.ndarray:
    """Untreated order probability on one day for customers with these states."""
    buyer = n_orders > 0
    scale = np.where(buyer, p.lapse_days, ONBOARDING_DAYS)
    decay = np.exp(-recency / scale)
    loyalty = _LOYALTY_TABLE[np.clip(n_orders - 1, 0, len(_LOYALTY_TABLE) - 1)]
    h = np.where(buyer, p.repeat_rate * (decay + RETURN) * loyalty, p.intent * decay + p.intent_floor)
    return np.minimum(h * weekday_factor, MAX_DAILY)


def shifted(h: np.ndarray, delta: np.ndarray | float) -> np.ndarray:
    """Probability after adding `delta` to its logit."""
    odds_up = h * np.exp(delta)
    return odds_up / (1.0 - h + odds_up)


def visit_probability(h: np.ndarray, visit_rate: np.ndarray) -> np.ndarray:
    return np.minimum(visit_rate * (VISIT_FLOOR + VISIT_GAIN * h), MAX_VISIT)


def weekday_factor(first_weekday: int, day: int) -> float:
    return float(WEEKDAY_ORDER_FACTOR[(first_weekday + day) % 7])


def order_within(
    p: Propensity,
    n_orders: np.ndarray,
    anchor_day: np.ndarray,
    start_day: int,
    days: int,
    first_weekday: int,
    delta: np.ndarray | float = 0.0,
    delta_until: np.ndarray | int = 0,
) -> np.ndarray:
    """Exact P(at least one order on days start_day .. start_day+days-1).

    `anchor_day` is the last order day (buyers) or the sign-up day (prospects); `delta` shifts the
    logit on days before `delta_until` (an active or hypothetical treatment).
    """
    log_survival = np.zeros(len(n_orders))
    for day in range(start_day, start_day + days):
        h = daily(p, n_orders, day - anchor_day, weekday_factor(first_weekday, day))
        h = np.where(day < delta_until, shifted(h, delta), h)
        log_survival += np.log1p(-h)
    return -np.expm1(log_survival)
