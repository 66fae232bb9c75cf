"""Contract tables from clean transaction lines: customers, orders, items, payments, refunds."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from events.importers.identifiers import stable_ids
from events.store import ContractError

log = logging.getLogger(__name__)

LINK_NOTE = (
    "a return is linked to its customer's most recent order at or before it (the log does not say "
    "which order was returned); returns with no such order are dropped"
)


def build_tables(
    lines: pd.DataFrame, source: Path, *, with_items: bool
) -> tuple[dict[str, pd.DataFrame], int]:
    """Contract tables and the number of return lines that no earlier order could take."""
    purchases = lines[~lines["is_return"]]
    orders = _orders(_by_key(purchases, source, "order"))
    refunds, unlinked = _refunds(_by_key(lines[lines["is_return"]], source, "return"), orders)
    tables = {
        "customers": _customers(purchases, orders),
        "orders": orders,
        "payments": _payments(orders),
        "refunds": refunds,
    }
    if with_items:
        tables["order_items"] = _items(purchases)
    return tables, unlinked


def _by_key(lines: pd.DataFrame, source: Path, what: str) -> pd.DataFrame:
    """One row per key_id: its customer, first time, total amount, item and line counts."""
    grouped = lines.groupby("key_id", sort=True).agg(
        customer_id=("customer_id", "min"),
        other_customer=("customer_id", "max"),
        ts=("ts", "min"),
        amount=("line_amount", "sum"),
        n_items=("quantity", "sum"),
        n_lines=("quantity", "size"),
    )
    shared = grouped[grouped["customer_id"] != grouped["other_customer"]]
    if len(shared):
        keys = lines.loc[lines["key_id"].isin(shared.index[:5]), "key"].unique().tolist()
        raise ContractError(
            f"{source}: {len(shared):,} {what} id(s) have lines of more than one customer, e.g. {keys}"
        )
    return grouped.drop(columns="other_customer").reset_index()


def _orders(grouped: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": grouped["key_id"],
            "customer_id": grouped["customer_id"],
            "order_ts": grouped["ts"],
            "gross_amount": grouped["amount"],
            # A log of paid lines records no discounts; the price paid is the net price.
            "discount_amount": 0.0,
            "net_amount": grouped["amount"],
            "n_items": grouped["n_items"],
        }
    )


def _refunds(grouped: pd.DataFrame, orders: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Refunds linked to an order, and the number of return lines with none to link to."""
    candidates = orders[["customer_id", "order_ts", "order_id"]].sort_values(["order_ts", "order_id"])
    # An order and its same-minute cancellation share a timestamp, hence exact matches count.
    linked = pd.merge_asof(
        grouped.sort_values(["ts", "key_id"]),
        candidates,
        left_on="ts",
        right_on="order_ts",
        by="customer_id",
        direction="backward",
        allow_exact_matches=True,
    )
    unlinked = linked["order_id"].isna()
    log.info("%d of %d returns have no earlier order", unlinked.sum(), len(linked))
    unlinked_lines = int(linked.loc[unlinked, "n_lines"].sum())
    linked = linked[~unlinked]
    refunds = pd.DataFrame(
        {
            "refund_id": linked["key_id"],
            "order_id": linked["order_id"].astype("int64"),
            "customer_id": linked["customer_id"],
            "refund_ts": linked["ts"],
            "amount": linked["amount"],
        }
    )
    return refunds.reset_index(drop=True), unlinked_lines


def _customers(purchases: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """Everyone with an order; signed up when first seen buying, in their latest known region."""
    first = orders.groupby("customer_id", sort=True)["order_ts"].min()
    # GroupBy.last skips missing values: the latest region the log states for the customer.
    region = purchases.sort_values("ts").groupby("customer_id")["region"].last()
    return pd.DataFrame(
        {
            "customer_id": first.index,
            "signup_ts": first.to_numpy(),
            "region": region.reindex(first.index).fillna("unknown").to_numpy(),
            "acquisition_channel": "unknown",
            "device": "unknown",
            # No consent is implied by a purchase; the CRM's own consent export must set these.
            "consent_email": False,
            "consent_sms": False,
            "consent_push": False,
            "consent_kakao": False,
        }
    )


def _payments(orders: pd.DataFrame) -> pd.DataFrame:
    # One capture per order: the log records that an order was paid, not how.
    return pd.DataFrame(
        {
            "payment_id": orders["order_id"],
            "order_id": orders["order_id"],
            "payment_ts": orders["order_ts"],
            "method": "other",
            "amount": orders["net_amount"],
        }
    )


def _items(purchases: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": purchases["key_id"],
            "product_id": stable_ids(purchases["product"], "product"),
            "category": purchases["category"],
            "quantity": purchases["quantity"],
            "unit_price": purchases["unit_price"],
        }
    ).reset_index(drop=True)
