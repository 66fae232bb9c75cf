"""Per-customer state carried from day to day: the only history the hazard looks at."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEVER = -(10**6)


@dataclass
class CustomerState:
    n_orders: np.ndarray
    last_order_day: np.ndarray
    spend: np.ndarray  # cumulative net order value, what "top spender" means for VIP campaigns
    window_until: np.ndarray  # first day after the current campaign window (either arm)
    delta: np.ndarray  # logit shift of the treatment in that window; 0 for holdout or once used
    coupon: np.ndarray  # campaign index of an unused campaign coupon, -1 if none
    abandon_day: np.ndarray  # last day a visit ended with items left in the cart

    @classmethod
    def empty(cls, customers: int) -> CustomerState:
        return cls(
            n_orders=np.zeros(customers, np.int32),
            last_order_day=np.full(customers, NEVER, np.int32),
            spend=np.zeros(customers),
            window_until=np.zeros(customers, np.int32),
            delta=np.zeros(customers),
            coupon=np.full(customers, -1, np.int32),
            abandon_day=np.full(customers, NEVER, np.int32),
        )

    def anchor_day(self, signup_day: np.ndarray, sel: slice | np.ndarray) -> np.ndarray:
        """Day recency counts from: the last order, or sign-up for prospects."""
        return np.where(self.n_orders[sel] > 0, self.last_order_day[sel], signup_day[sel])

    def free(self, sel: slice | np.ndarray, day: int) -> np.ndarray:
        """Not inside any campaign window on `day` (neither arm), so a new test stays clean."""
        return self.window_until[sel] <= day
