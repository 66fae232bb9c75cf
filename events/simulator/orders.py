"""Orders placed during the day loop: baskets, values and the coupon on each order.

Values are drawn in the loop (not after) because cumulative spend decides who is a VIP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from events.simulator import catalog as cat
from events.simulator.actions import CAMPAIGN_COUPON_USE, Action
from events.simulator.products import SALE_PRICE, on_sale, sample_categories, sample_products
from events.simulator.state import CustomerState
from events.simulator.traits import Traits

NO_COUPON = -1
CAMPAIGN_COUPON = len(cat.GENERIC_COUPONS)


@dataclass
class OrderBook:
    """Orders and order lines, as per-day chunks; order numbers are global and start at 0."""

    count: int = 0
    orders: list[dict[str, np.ndarray]] = field(default_factory=list)
    lines: list[dict[str, np.ndarray]] = field(default_factory=list)

    def columns(self, which: str) -> dict[str, np.ndarray]:
        chunks = self.orders if which == "orders" else self.lines
        if not chunks:
            return {}
        return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


def place_orders(
    rng: np.random.Generator,
    day: int,
    idx: np.ndarray,
    traits: Traits,
    state: CustomerState,
    campaigns: list[Action],
    book: OrderBook,
    prices: np.ndarray,
) -> np.ndarray:
    """Draw the orders of customers `idx` today, update their state, return the order numbers."""
    numbers = np.arange(book.count, book.count + idx.size, dtype=np.int64)
    book.count += idx.size
    gross = _basket(rng, idx, numbers, traits, book, prices)
    kind, campaign, discount = _coupons(rng, day, idx, gross, traits, state, campaigns)
    net = np.round(gross - discount, 2)
    book.orders.append(
        {
            "customer": idx.astype(np.int64),
            "day": np.full(idx.size, day, np.int32),
            "gross": gross,
            "discount": discount,
            "net": net,
            "coupon_kind": kind,
            "campaign": campaign,
        }
    )
    state.n_orders[idx] += 1
    state.last_order_day[idx] = day
    state.spend[idx] += net
    # The treatment has done its job once the customer orders; an issued coupon is single-use.
    state.delta[idx] = 0.0
    state.coupon[idx] = -1
    return numbers


def _basket(
    rng: np.random.Generator,
    idx: np.ndarray,
    numbers: np.ndarray,
    traits: Traits,
    book: OrderBook,
    prices: np.ndarray,
) -> np.ndarray:
    """Order lines from preferred categories and the customer's price tier; returns gross."""
    n_lines = 1 + rng.poisson(traits.basket_size[idx])
    who = np.repeat(idx, n_lines)
    category = sample_categories(rng, traits, who)
    product, price = sample_products(rng, traits, who, category, prices)
    unit_price = np.round(np.where(on_sale(rng, traits, who), price * SALE_PRICE, price), 2)
    quantity = 1 + rng.poisson(traits.bulk_quantity[who])
    position = np.repeat(np.arange(idx.size), n_lines)
    book.lines.append(
        {
            "order": numbers[position],
            "category": category,
            "product": product,
            "quantity": quantity.astype(np.int64),
            "unit_price": unit_price,
        }
    )
    return np.round(np.bincount(position, quantity * unit_price, minlength=idx.size), 2)


def _coupons(
    rng: np.random.Generator,
    day: int,
    idx: np.ndarray,
    gross: np.ndarray,
    traits: Traits,
    state: CustomerState,
    campaigns: list[Action],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Campaign coupon if one is valid and used, else sometimes a generic one (deal seekers)."""
    campaign = state.coupon[idx].astype(np.int64)
    valid = (campaign >= 0) & (state.window_until[idx] > day)
    uses_campaign = valid & (rng.random(idx.size) < CAMPAIGN_COUPON_USE)
    generic_rate = 0.03 + 0.4 * traits.discount_sensitivity[idx]
    uses_generic = ~uses_campaign & (rng.random(idx.size) < generic_rate)
    generic = rng.integers(0, len(cat.GENERIC_COUPONS), idx.size)
    kind = np.where(uses_campaign, CAMPAIGN_COUPON, np.where(uses_generic, generic, NO_COUPON))
    discount = np.where(uses_generic, gross * cat.GENERIC_COUPON_RATE[generic], 0.0)
    for i in np.flatnonzero(uses_campaign):
        coupon = campaigns[campaign[i]].coupon
        discount[i] = coupon.discount(gross[i]) if coupon else 0.0
    return kind.astype(np.int8), np.where(uses_campaign, campaign, -1), np.round(discount, 2)
