"""The feature catalog: every served feature with a one-line description.

The pipeline computes exactly these columns and the Feast definitions declare exactly these, so a
feature cannot exist in one place and not the other.
"""

from __future__ import annotations

from dataclasses import dataclass

SNAPSHOT_FILE = "customer_activity.parquet"
WINDOWS_DAYS = (7, 30, 90)


@dataclass(frozen=True)
class EventFamily:
    name: str
    table: str
    time_column: str
    amount_column: str | None
    noun: str


FAMILIES = (
    EventFamily("orders", "orders", "order_ts", "net_amount", "orders placed"),
    EventFamily("sessions", "sessions", "session_start", None, "site/app visits"),
    EventFamily("views", "product_views", "view_ts", None, "product views"),
    EventFamily("cart_adds", "cart_events", "event_ts", None, "cart events"),
    EventFamily("refunds", "refunds", "refund_ts", "amount", "refunds"),
    EventFamily(
        "coupon_uses", "coupon_redemptions", "redeemed_ts", "discount_amount", "coupon uses"
    ),
)


def _family_features(family: EventFamily) -> dict[str, str]:
    features = {
        f"{family.name}_total": f"All-time number of {family.noun}.",
        f"days_since_last_{family.name}": f"Days since the last of {family.noun} (null if none).",
    }
    if family.amount_column:
        features[f"{family.name}_amount_total"] = (
            f"All-time {family.amount_column} of {family.noun}."
        )
    for days in WINDOWS_DAYS:
        features[f"{family.name}_{days}d"] = f"Number of {family.noun} in the last {days} days."
        if family.amount_column:
            features[f"{family.name}_amount_{days}d"] = (
                f"{family.amount_column} of {family.noun} in the last {days} days."
            )
    return features


ACTIVITY_FEATURES: dict[str, str] = {
    "tenure_days": "Days since sign-up.",
    **{name: text for family in FAMILIES for name, text in _family_features(family).items()},
    "avg_order_value": "Mean net order value (null before the first order).",
    "discount_share": "Coupon discount as a share of gross spend.",
}
