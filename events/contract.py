"""The event contract: every raw table Nudge consumes, documented and validated in one place.

All timestamps are UTC (naive values are read as UTC). Identifiers are int64 except campaign and
coupon ids, which are strings chosen by the CRM. Every table is one parquet file named after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

CHANNELS = ("email", "sms", "push", "kakao")
ARMS = ("treatment", "holdout")
CART_ACTIONS = ("add", "remove")
PAYMENT_METHODS = ("card", "bank_transfer", "wallet", "other")

_TS = pd.DatetimeTZDtype("ns", "UTC")


def _ts(nullable: bool = False) -> pa.Column:
    return pa.Column(_TS, coerce=True, nullable=nullable)


def _id(unique: bool = False) -> pa.Column:
    return pa.Column("int64", coerce=True, unique=unique)


def _amount() -> pa.Column:
    return pa.Column("float64", pa.Check.ge(0), coerce=True)


def _count() -> pa.Column:
    return pa.Column("int64", pa.Check.ge(1), coerce=True)


def _text(*allowed: str, nullable: bool = False) -> pa.Column:
    checks = [pa.Check.isin(allowed)] if allowed else []
    return pa.Column("string", checks, coerce=True, nullable=nullable)


def _flag() -> pa.Column:
    return pa.Column("bool", coerce=True)


def _probability() -> pa.Column:
    return pa.Column("float64", [pa.Check.gt(0), pa.Check.le(1)], coerce=True)


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    schema: pa.DataFrameSchema
    time_column: str | None


def _table(name: str, description: str, time_column: str | None, **columns: pa.Column) -> Table:
    schema = pa.DataFrameSchema(columns, strict=True, ordered=False, name=name)
    return Table(name, description, schema, time_column)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _table(
            "customers",
            "Member profile: one row per customer, consent per channel at export time.",
            "signup_ts",
            customer_id=_id(unique=True),
            signup_ts=_ts(),
            region=_text(),
            acquisition_channel=_text(),
            device=_text(),
            consent_email=_flag(),
            consent_sms=_flag(),
            consent_push=_flag(),
            consent_kakao=_flag(),
        ),
        _table(
            "sessions",
            "Site/app visits.",
            "session_start",
            session_id=_id(unique=True),
            customer_id=_id(),
            session_start=_ts(),
            session_end=_ts(),
            device=_text(),
        ),
        _table(
            "logins",
            "Authenticated logins, linked to the session they happened in.",
            "login_ts",
            customer_id=_id(),
            session_id=_id(),
            login_ts=_ts(),
        ),
        _table(
            "searches",
            "On-site searches, reduced to the category searched for.",
            "search_ts",
            customer_id=_id(),
            session_id=_id(),
            search_ts=_ts(),
            category=_text(),
        ),
        _table(
            "product_views",
            "Product detail page views; is_discounted marks items shown on sale.",
            "view_ts",
            customer_id=_id(),
            session_id=_id(),
            view_ts=_ts(),
            product_id=_id(),
            category=_text(),
            price=_amount(),
            is_discounted=_flag(),
        ),
        _table(
            "cart_events",
            "Cart adds and removes.",
            "event_ts",
            customer_id=_id(),
            session_id=_id(),
            event_ts=_ts(),
            product_id=_id(),
            action=_text(*CART_ACTIONS),
            quantity=_count(),
            price=_amount(),
        ),
        _table(
            "orders",
            "Placed orders; net_amount = gross_amount - discount_amount.",
            "order_ts",
            order_id=_id(unique=True),
            customer_id=_id(),
            order_ts=_ts(),
            gross_amount=_amount(),
            discount_amount=_amount(),
            net_amount=_amount(),
            n_items=_count(),
        ),
        _table(
            "order_items",
            "Order lines.",
            None,
            order_id=_id(),
            product_id=_id(),
            category=_text(),
            quantity=_count(),
            unit_price=_amount(),
        ),
        _table(
            "payments",
            "Payments captured for orders.",
            "payment_ts",
            payment_id=_id(unique=True),
            order_id=_id(),
            payment_ts=_ts(),
            method=_text(*PAYMENT_METHODS),
            amount=_amount(),
        ),
        _table(
            "refunds",
            "Refunds and returns against orders.",
            "refund_ts",
            refund_id=_id(unique=True),
            order_id=_id(),
            customer_id=_id(),
            refund_ts=_ts(),
            amount=_amount(),
        ),
        _table(
            "coupon_redemptions",
            "Coupons used on orders; campaign_id is set when a CRM campaign issued the coupon.",
            "redeemed_ts",
            order_id=_id(),
            customer_id=_id(),
            redeemed_ts=_ts(),
            coupon_id=_text(),
            campaign_id=_text(nullable=True),
            discount_amount=_amount(),
        ),
        _table(
            "messages",
            "CRM messages sent, with open and click times when they happened.",
            "sent_ts",
            message_id=_id(unique=True),
            customer_id=_id(),
            campaign_id=_text(),
            channel=_text(*CHANNELS),
            sent_ts=_ts(),
            opened_ts=_ts(nullable=True),
            clicked_ts=_ts(nullable=True),
        ),
        _table(
            "campaigns",
            "CRM campaigns: the action they deliver, its channel and the treatment share.",
            "start_ts",
            campaign_id=_text(),
            action=_text(),
            channel=_text(*CHANNELS),
            start_ts=_ts(),
            end_ts=_ts(),
            treatment_probability=_probability(),
        ),
        _table(
            "campaign_assignments",
            "Randomized assignment of eligible customers to treatment or holdout. A multi-arm "
            "test is one campaign per arm, its shared control listed as holdout in each.",
            "assigned_ts",
            campaign_id=_text(),
            customer_id=_id(),
            assigned_ts=_ts(),
            arm=_text(*ARMS),
            assignment_probability=_probability(),
        ),
    )
}

# Tables a complete dataset must hold; the rest may be absent (e.g. an imported transaction log
# has no sessions) and are then read as empty tables with the right columns.
REQUIRED_TABLES = ("customers", "orders")


def empty_table(name: str) -> pd.DataFrame:
    """A zero-row frame with the table's columns and dtypes."""
    schema = TABLES[name].schema
    return pd.DataFrame({col: pd.Series(dtype=c.dtype.type) for col, c in schema.columns.items()})
