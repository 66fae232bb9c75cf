"""Contract tables from the simulated world: ids, UTC timestamps, labels, one frame per table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from events.simulator import behaviour, ledger
from events.simulator import catalog as cat
from events.simulator.catalog import DAY_NS
from events.simulator.engine import World
from events.simulator.messages import NEVER, messages


def contract_tables(rng: np.random.Generator, world: World) -> dict[str, pd.DataFrame]:
    """Every table of events/contract.py (the draw order is fixed: same seed, same tables)."""
    start = world.timeline.start_ns
    visits = behaviour.visits(rng, world)
    order_ts = np.empty(world.orders.count, np.int64)
    ordering = np.flatnonzero(visits.order >= 0)
    order_ts[visits.order[ordering]] = visits.browse_end[ordering]
    logins = behaviour.logins(rng, world, visits)
    searches = behaviour.searches(rng, world, visits)
    browsed = behaviour.browsing(rng, world, visits)
    bought_views, bought_adds = behaviour.basket_events(rng, world, visits)
    left = behaviour.abandoned_carts(rng, world, visits)
    tables = {
        "customers": _customers(world),
        "sessions": _sessions(visits, start),
        "logins": _session_events(logins, visits, start, "login_ts"),
        "searches": _searches(searches, visits, start),
        "product_views": _views(browsed, bought_views, visits, start),
        "cart_events": _carts(bought_adds, left, visits, start),
    }
    tables.update(_order_tables(rng, world, order_ts))
    tables.update(_campaign_tables(rng, world))
    return tables


def _utc(offsets: np.ndarray, start_ns: int) -> pd.DatetimeIndex:
    """ns offsets from the start as UTC timestamps; NEVER becomes NaT."""
    absolute = np.where(offsets == NEVER, NEVER, offsets + start_ns)
    return pd.DatetimeIndex(absolute.astype("datetime64[ns]")).tz_localize("UTC")


def _labels(codes: np.ndarray, names: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int64), names)


def _customers(world: World) -> pd.DataFrame:
    t = world.traits
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(1, len(t) + 1, dtype=np.int64),
            "signup_ts": _utc(t.signup_ns, world.timeline.start_ns),
            "region": _labels(t.region, cat.REGIONS),
            "acquisition_channel": _labels(t.acquisition, cat.ACQUISITION_CHANNELS),
            "device": _labels(t.device, cat.DEVICES),
        }
    )
    for i, channel in enumerate(cat.CONSENT_CHANNELS):
        frame[f"consent_{channel}"] = t.consent[:, i]
    return frame


def _sessions(v: behaviour.Visits, start: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "session_id": np.arange(1, v.customer.size + 1, dtype=np.int64),
            "customer_id": v.customer + 1,
            "session_start": _utc(v.start, start),
            "session_end": _utc(v.end, start),
            "device": _labels(v.device, cat.DEVICES),
        }
    )


def _session_events(
    rows: dict[str, np.ndarray], v: behaviour.Visits, start: int, ts_column: str
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": v.customer[rows["session"]] + 1,
            "session_id": rows["session"] + 1,
            ts_column: _utc(rows["ts"], start),
        }
    )


def _searches(rows: dict[str, np.ndarray], v: behaviour.Visits, start: int) -> pd.DataFrame:
    frame = _session_events(rows, v, start, "search_ts")
    frame["category"] = _labels(rows["category"], cat.CATEGORIES)
    return frame


def _views(
    browsed: dict[str, np.ndarray], bought: dict[str, np.ndarray], v: behaviour.Visits, start: int
) -> pd.DataFrame:
    rows = {k: np.concatenate([browsed[k], bought[k]]) for k in browsed}
    frame = _session_events(rows, v, start, "view_ts")
    frame["product_id"] = rows["product"]
    frame["category"] = _labels(rows["category"], cat.CATEGORIES)
    frame["price"] = rows["price"]
    frame["is_discounted"] = rows["sale"]
    return frame


def _carts(
    bought: dict[str, np.ndarray], left: dict[str, np.ndarray], v: behaviour.Visits, start: int
) -> pd.DataFrame:
    rows = {k: np.concatenate([bought[k], left[k]]) for k in bought}
    frame = _session_events(rows, v, start, "event_ts")
    frame["product_id"] = rows["product"]
    frame["action"] = _labels(rows["remove"].astype(np.int64), ("add", "remove"))
    frame["quantity"] = rows["quantity"]
    frame["price"] = rows["price"]
    return frame


def _order_tables(rng: np.random.Generator, world: World, order_ts: np.ndarray) -> dict[str, pd.DataFrame]:
    start = world.timeline.start_ns
    orders = world.orders.columns("orders")
    lines = world.orders.columns("lines")
    order_id = np.arange(1, world.orders.count + 1, dtype=np.int64)
    paid = ledger.payments(rng, world, order_ts)
    back = ledger.refunds(rng, world, order_ts)
    coupons = ledger.redemptions(world, order_ts)
    return {
        "orders": pd.DataFrame(
            {
                "order_id": order_id,
                "customer_id": orders["customer"] + 1,
                "order_ts": _utc(order_ts, start),
                "gross_amount": orders["gross"],
                "discount_amount": orders["discount"],
                "net_amount": orders["net"],
                "n_items": np.bincount(lines["order"], minlength=order_id.size).astype(np.int64),
            }
        ),
        "order_items": pd.DataFrame(
            {
                "order_id": lines["order"] + 1,
                "product_id": lines["product"],
                "category": _labels(lines["category"], cat.CATEGORIES),
                "quantity": lines["quantity"],
                "unit_price": lines["unit_price"],
            }
        ),
        "payments": _payments(paid, start),
        "refunds": _refunds(back, start),
        "coupon_redemptions": _redemptions(coupons, start),
    }


def _payments(paid: dict[str, np.ndarray], start: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "payment_id": paid["order"] + 1,
            "order_id": paid["order"] + 1,
            "payment_ts": _utc(paid["ts"], start),
            "method": _labels(paid["method"], cat.PAYMENT_METHODS),
            "amount": paid["amount"],
        }
    )


def _refunds(back: dict[str, np.ndarray], start: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "refund_id": np.arange(1, back["order"].size + 1, dtype=np.int64),
            "order_id": back["order"] + 1,
            "customer_id": back["customer"] + 1,
            "refund_ts": _utc(back["ts"], start),
            "amount": back["amount"],
        }
    )


def _redemptions(coupons: dict[str, np.ndarray], start: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": coupons["order"] + 1,
            "customer_id": coupons["customer"] + 1,
            "redeemed_ts": _utc(coupons["ts"], start),
            "coupon_id": pd.Series(coupons["coupon"], dtype="string"),
            "campaign_id": pd.Series(coupons["campaign"], dtype="string"),
            "discount_amount": coupons["discount"],
        }
    )


def _campaign_tables(rng: np.random.Generator, world: World) -> dict[str, pd.DataFrame]:
    start = world.timeline.start_ns
    campaigns = world.campaigns.frame()
    starts = campaigns["day"].to_numpy(dtype=np.int64) * DAY_NS
    ids = campaigns["campaign_id"].to_numpy(dtype=object)
    probability = campaigns["treatment_probability"].to_numpy(dtype=np.float64)
    return {
        "campaigns": pd.DataFrame(
            {
                "campaign_id": campaigns["campaign_id"],
                "action": campaigns["action"],
                "channel": campaigns["channel"],
                "start_ts": _utc(starts, start),
                "end_ts": _utc(starts + world.timeline.window_days * DAY_NS, start),
                "treatment_probability": probability,
            }
        ),
        "campaign_assignments": _assignments(world, ids, starts, probability),
        "messages": _messages(messages(rng, world), ids, start),
    }


def _assignments(world: World, ids: np.ndarray, starts: np.ndarray, probability: np.ndarray) -> pd.DataFrame:
    rows = world.campaigns.assignments()
    campaign = rows["campaign"]
    treated = rows["treated"].astype(bool)
    return pd.DataFrame(
        {
            "campaign_id": pd.Series(ids[campaign], dtype="string"),
            "customer_id": rows["customer"] + 1,
            "assigned_ts": _utc(starts[campaign], world.timeline.start_ns),
            "arm": _labels(~treated, ("treatment", "holdout")),
            # The probability of the arm received, as the contract asks.
            "assignment_probability": np.where(treated, probability[campaign], 1 - probability[campaign]),
        }
    )


def _messages(sent: dict[str, np.ndarray], ids: np.ndarray, start: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "message_id": np.arange(1, sent["customer"].size + 1, dtype=np.int64),
            "customer_id": sent["customer"] + 1,
            "campaign_id": pd.Series(ids[sent["campaign"]], dtype="string"),
            "channel": pd.Series(sent["channel"], dtype="string"),
            "sent_ts": _utc(sent["sent"], start),
            "opened_ts": _utc(sent["opened"], start),
            "clicked_ts": _utc(sent["clicked"], start),
        }
    )
