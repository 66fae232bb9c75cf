"""The money side of orders once their times are known: payments, refunds, coupon redemptions."""

from __future__ import annotations

import numpy as np

from events.simulator import catalog as cat
from events.simulator.engine import World
from events.simulator.orders import CAMPAIGN_COUPON, NO_COUPON

REFUND_RATE = 0.06
BULK_REFUND_RATE = 0.09  # big baskets come back more often
FULL_REFUND_SHARE = 0.65
OTHER_METHOD = 0.05


def payments(rng: np.random.Generator, world: World, order_ts: np.ndarray) -> dict[str, np.ndarray]:
    """One capture per order, seconds after checkout, usually with the customer's usual method."""
    orders = world.orders.columns("orders")
    n = order_ts.size
    usual = world.traits.payment_method[orders["customer"]]
    method = np.where(rng.random(n) < OTHER_METHOD, rng.integers(0, len(cat.PAYMENT_METHODS), n), usual)
    delay = rng.integers(3, 120, n) * 10**9
    return {"order": np.arange(n), "ts": order_ts + delay, "method": method, "amount": orders["net"]}


def refunds(rng: np.random.Generator, world: World, order_ts: np.ndarray) -> dict[str, np.ndarray]:
    """~5-8% of paid orders come back, fully or in part, 1-21 days later (if before the export)."""
    orders = world.orders.columns("orders")
    customer, net = orders["customer"], orders["net"]
    rate = np.where(world.traits.segment[customer] == 2, BULK_REFUND_RATE, REFUND_RATE)
    refunded = (rng.random(net.size) < rate) & (net > 0)
    share = np.where(rng.random(net.size) < FULL_REFUND_SHARE, 1.0, rng.uniform(0.2, 0.8, net.size))
    ts = order_ts + (rng.uniform(1.0, 21.0, net.size) * cat.DAY_NS).astype(np.int64)
    keep = np.flatnonzero(refunded & (ts < world.timeline.days * cat.DAY_NS))
    return {
        "order": keep,
        "customer": customer[keep],
        "ts": ts[keep],
        "amount": np.round(net[keep] * share[keep], 2),
    }


def redemptions(world: World, order_ts: np.ndarray) -> dict[str, np.ndarray]:
    """Coupon use at checkout: the campaign's coupon code and id, or a generic code."""
    orders = world.orders.columns("orders")
    kind = orders["coupon_kind"]
    used = np.flatnonzero(kind != NO_COUPON)
    campaign_codes = [a.coupon.code if a.coupon else "" for a in world.campaigns.actions]
    codes = np.array([*cat.GENERIC_COUPONS, *campaign_codes, ""], dtype=object)
    ids = np.array([*world.campaigns.ids, None], dtype=object)
    campaign = orders["campaign"][used]
    from_campaign = kind[used] == CAMPAIGN_COUPON
    code_index = np.where(from_campaign, len(cat.GENERIC_COUPONS) + campaign, kind[used])
    return {
        "order": used,
        "customer": orders["customer"][used],
        "ts": order_ts[used],
        "coupon": codes[code_index],
        "campaign": ids[np.where(from_campaign, campaign, -1)],
        "discount": orders["discount"][used],
    }
