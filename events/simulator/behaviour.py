"""On-site behaviour from the day loop's visits: sessions, logins, searches, views, carts.

Runs once after the loop, vectorized over all visits: the loop only needs to know that a visit
happened, whether it ended in an order and whether it left a cart behind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from events.simulator.catalog import DAY_NS, DEVICES, MINUTE_NS, PRODUCTS_PER_CATEGORY
from events.simulator.engine import World
from events.simulator.products import SALE_PRICE, on_sale, sample_categories, sample_products

ORDER_POINT = 0.9  # share of an ordering visit that passes before checkout
OTHER_DEVICE = 0.12
ABANDONED_EXTRA_ADDS = 0.5
REMOVE_RATE = 0.4


@dataclass(frozen=True)
class Visits:
    """One row per session, times in ns since the start; `browse_end` is checkout or the end."""

    customer: np.ndarray
    order: np.ndarray
    abandoned: np.ndarray
    start: np.ndarray
    end: np.ndarray
    browse_end: np.ndarray
    device: np.ndarray

    def at(self, rng: np.random.Generator, session: np.ndarray, share: float = 1.0) -> np.ndarray:
        """Random times inside the first `share` of the browsing part of these sessions."""
        span = (self.browse_end[session] - self.start[session]) * share
        return self.start[session] + (rng.random(session.size) * span).astype(np.int64)


def visits(rng: np.random.Generator, world: World) -> Visits:
    """Place every visit in its day: after sign-up, before midnight, longer when ordering."""
    cols = world.sessions.columns()
    customer, day, order = cols["customer"], cols["day"].astype(np.int64), cols["order"]
    ordering = order >= 0
    earliest = np.maximum(day * DAY_NS, world.traits.signup_ns[customer])
    room = np.maximum((day + 1) * DAY_NS - earliest - 1, 1)
    length = rng.lognormal(np.log(6 * MINUTE_NS), 0.8, customer.size) * np.where(ordering, 2, 1)
    length = np.minimum(length.astype(np.int64), room)
    start = earliest + (rng.random(customer.size) * (room - length)).astype(np.int64)
    end = start + np.maximum(length, 1)
    checkout = start + (length * ORDER_POINT).astype(np.int64)
    switch = rng.random(customer.size) < OTHER_DEVICE
    device = np.where(switch, rng.integers(0, len(DEVICES), customer.size), world.traits.device[customer])
    return Visits(customer, order, cols["abandoned"], start, end, np.where(ordering, checkout, end), device)


def logins(rng: np.random.Generator, world: World, v: Visits) -> dict[str, np.ndarray]:
    """Logins early in the visit; an order always needs one."""
    login = (v.order >= 0) | (rng.random(v.customer.size) < world.traits.login_rate[v.customer])
    session = np.flatnonzero(login)
    return {"session": session, "ts": v.at(rng, session, 0.15)}


def searches(rng: np.random.Generator, world: World, v: Visits) -> dict[str, np.ndarray]:
    session = np.repeat(np.arange(v.customer.size), rng.poisson(world.traits.search_rate[v.customer]))
    category = sample_categories(rng, world.traits, v.customer[session])
    return {"session": session, "ts": v.at(rng, session), "category": category}


def browsing(rng: np.random.Generator, world: World, v: Visits) -> dict[str, np.ndarray]:
    """Product views of the visit's browsing (bought items are added by basket_events)."""
    count = 1 + rng.poisson(world.traits.view_rate[v.customer])
    session = np.repeat(np.arange(v.customer.size), count)
    who = v.customer[session]
    category = sample_categories(rng, world.traits, who)
    product, price = sample_products(rng, world.traits, who, category, world.prices)
    sale = on_sale(rng, world.traits, who)
    return {
        "session": session,
        "ts": v.at(rng, session),
        "product": product,
        "category": category,
        "price": np.round(np.where(sale, price * SALE_PRICE, price), 2),
        "sale": sale,
    }


def basket_events(
    rng: np.random.Generator, world: World, v: Visits
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Views and cart adds of the items that were ordered, before checkout."""
    lines = world.orders.columns("lines")
    session_of_order = np.empty(world.orders.count, np.int64)
    ordering = np.flatnonzero(v.order >= 0)
    session_of_order[v.order[ordering]] = ordering
    session = session_of_order[lines["order"]]
    viewed = v.at(rng, session, 0.5)
    added = viewed + (rng.random(session.size) * (v.browse_end[session] - viewed)).astype(np.int64)
    category = lines["category"]
    rank = lines["product"] % 10_000
    list_price = world.prices[category, np.minimum(rank, PRODUCTS_PER_CATEGORY - 1)]
    common = {"session": session, "product": lines["product"], "price": lines["unit_price"]}
    views = {**common, "ts": viewed, "category": category, "sale": lines["unit_price"] < list_price}
    adds = {**common, "ts": added, "quantity": lines["quantity"], "remove": np.zeros(session.size, bool)}
    return views, adds


def abandoned_carts(rng: np.random.Generator, world: World, v: Visits) -> dict[str, np.ndarray]:
    """Adds left in the cart by visits without an order; some drop one item again."""
    carts = np.flatnonzero(v.abandoned)
    count = 1 + rng.poisson(ABANDONED_EXTRA_ADDS, carts.size)
    session = np.repeat(carts, count)
    who = v.customer[session]
    category = sample_categories(rng, world.traits, who)
    product, price = sample_products(rng, world.traits, who, category, world.prices)
    price = np.round(np.where(on_sale(rng, world.traits, who), price * SALE_PRICE, price), 2)
    quantity = 1 + rng.poisson(world.traits.bulk_quantity[who])
    added = v.at(rng, session, 0.8)
    # Dropping the last add of a multi-item cart keeps the cart non-empty: still abandoned.
    last = np.cumsum(count) - 1
    dropped = last[(count > 1) & (rng.random(carts.size) < REMOVE_RATE)]
    removed_at = added[dropped] + (
        rng.random(dropped.size) * (v.end[session[dropped]] - added[dropped])
    ).astype(np.int64)
    pick = np.concatenate([np.arange(session.size), dropped])
    return {
        "session": session[pick],
        "ts": np.concatenate([added, removed_at]),
        "product": product[pick],
        "price": price[pick],
        "quantity": quantity[pick].astype(np.int64),
        "remove": np.concatenate([np.zeros(session.size, bool), np.ones(dropped.size, bool)]),
    }
