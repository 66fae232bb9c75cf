"""The feature catalog: every feature view, its features with one-line descriptions, and the
FeatureServices that version what each model reads.

The pipeline computes exactly these columns and the Feast definitions declare exactly these, so a
feature cannot exist in one place and not the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

WINDOWS_DAYS = (1, 7, 30, 90)
STRING_FEATURES = ("region", "acquisition_channel", "device")


@dataclass(frozen=True)
class EventFamily:
    """Events counted per customer over time windows (and summed, where they carry an amount)."""

    name: str
    noun: str
    amount_noun: str | None = None


FAMILIES = (
    EventFamily("sessions", "site/app visits"),
    EventFamily("logins", "logins"),
    EventFamily("searches", "searches"),
    EventFamily("views", "product views"),
    EventFamily("cart_adds", "cart adds"),
    EventFamily("abandoned_carts", "carts abandoned (a cart add with no order within 24 h)"),
    EventFamily("orders", "orders", "net revenue"),
    EventFamily("refunds", "refunds", "refunded amount"),
    EventFamily("coupon_uses", "coupon redemptions", "coupon discount"),
    EventFamily("messages", "CRM messages received"),
    EventFamily("opens", "CRM messages opened"),
    EventFamily("clicks", "CRM messages clicked"),
)


def _family_features(family: EventFamily) -> dict[str, str]:
    features = {
        f"{family.name}_total": f"All-time number of {family.noun}.",
        f"days_since_last_{family.name}": f"Days since the last of {family.noun} (null if none).",
    }
    for days in WINDOWS_DAYS:
        features[f"{family.name}_{days}d"] = f"Number of {family.noun} in the last {days} days."
    if family.amount_noun:
        features[f"{family.name}_amount_total"] = f"All-time {family.amount_noun}."
        for days in (30, 90):
            features[f"{family.name}_amount_{days}d"] = f"{family.amount_noun} in the last {days} days."
    return features


@dataclass(frozen=True)
class ViewSpec:
    name: str
    description: str
    features: dict[str, str] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return f"{self.name}.parquet"


PROFILE = ViewSpec(
    "customer_profile",
    "Who the customer is: tenure, consent per channel, region, acquisition channel, device.",
    {
        "tenure_days": "Days since sign-up.",
        "consent_email": "1 if the customer accepts e-mail.",
        "consent_sms": "1 if the customer accepts SMS.",
        "consent_push": "1 if the customer accepts push notifications.",
        "consent_kakao": "1 if the customer accepts KakaoTalk messages.",
        "consented_channels": "Number of channels the customer accepts.",
        "marketing_opt_ins": "Number of marketing opt-ins given at sign-up: e-mail, SMS and KakaoTalk "
        "(push permission comes with the app). 0: a stated dislike of marketing contact.",
        "region": "Region of the customer.",
        "acquisition_channel": "Channel the customer signed up through.",
        "device": "Device the customer signed up on.",
    },
)

ACTIVITY = ViewSpec(
    "customer_activity",
    "Counts over 1/7/30/90-day windows and recency per event family, including CRM messages.",
    {name: text for family in FAMILIES for name, text in _family_features(family).items()},
)

VALUE = ViewSpec(
    "customer_value",
    "RFM and spending style: order value, basket size, discount and refund shares, frequency.",
    {
        "avg_order_value": "Mean net order value (null before the first order).",
        "avg_basket_items": "Mean items per order (null before the first order).",
        "discount_share": "Coupon discount as a share of gross spend.",
        "refund_rate": "Refunded amount as a share of net revenue.",
        "days_since_first_order": "Days since the first order (null if none).",
        "orders_per_30d_active": "Orders per 30 days since the first order.",
        "revenue_per_30d_tenure": "Net revenue per 30 days of tenure.",
        "campaigns_treated_90d": "CRM campaigns the customer was treated in over the last 90 days.",
        "campaigns_held_out_90d": "CRM campaigns the customer was held out of over the last 90 days.",
    },
)

AFFINITY = ViewSpec(
    "customer_affinity",
    "Category and price affinity from the last 30 days of product views.",
    {
        "categories_viewed_30d": "Distinct categories viewed in the last 30 days.",
        "top_category_share_30d": "Share of views in the most viewed category, last 30 days.",
        "discounted_view_share_30d": "Share of product views that were items on sale, last 30 days.",
        "avg_viewed_price_30d": "Mean price of viewed products, last 30 days.",
        "search_to_view_ratio_30d": "Searches per product view, last 30 days.",
    },
)

EARLY_LIFE = ViewSpec(
    "customer_early_life",
    "Behaviour in the first 7 and 30 days after sign-up (so far, while still inside them).",
    {
        f"{family}_first_{days}d": f"{noun} in the first {days} days after sign-up."
        for days in (7, 30)
        for family, noun in (
            ("sessions", "Visits"),
            ("views", "Product views"),
            ("cart_adds", "Cart adds"),
            ("orders", "Orders"),
            ("revenue", "Net revenue"),
        )
    },
)

HABITS = ViewSpec(
    "customer_habits",
    "Lifelong traces of taste and responsiveness: category breadth, sale-item and price preference "
    "over every product view, message open and click rates, coupon use per order. The 30-day "
    "affinity is empty for a lapsing customer and rests on a handful of views for an active one.",
    {
        "categories_viewed_total": "Distinct categories viewed, all time.",
        "category_view_entropy_total": (
            "Normalized entropy of product views over the tracked categories (top_categories), "
            "all time: 0 = one category, 1 = every category alike (null without views)."
        ),
        "top_category_share_total": "Share of views in the most viewed category, all time.",
        "discounted_view_share_total": "Share of product views that were items on sale, all time.",
        "avg_viewed_price_total": "Mean price of viewed products, all time.",
        "open_rate_total": "Share of CRM messages opened, all time (null if none received).",
        "click_rate_total": "Share of CRM messages clicked, all time (null if none received).",
        "coupon_uses_per_order": "Coupon redemptions per order, all time (null before the first order).",
    },
)

VIEWS = (PROFILE, ACTIVITY, VALUE, AFFINITY, EARLY_LIFE, HABITS)

# Fed by pushed events online (POST /events); its batch history comes from the same snapshots.
# Pushed event type -> (its feature in the real-time view, the event family it backfills from).
REALTIME_EVENTS = {
    "visit": ("last_visit_epoch_s", "sessions"),
    "cart_add": ("last_cart_add_epoch_s", "cart_adds"),
    "order": ("last_order_epoch_s", "orders"),
}
REALTIME = ViewSpec(
    "customer_realtime",
    "Times of the last visit, cart add and order, updated online by pushed events.",
    {
        field: f"Unix time of the last {event.replace('_', ' ')} (null if none)."
        for event, (field, _) in REALTIME_EVENTS.items()
    },
)

# A model version that needs other features gets a new service name (churn_v2), so the models
# already registered keep reading exactly what they were trained on.
SERVICES: dict[str, tuple[ViewSpec, ...]] = {
    "churn_v1": (PROFILE, ACTIVITY, VALUE, AFFINITY),
    "conversion_v1": (PROFILE, ACTIVITY, AFFINITY, EARLY_LIFE),
    "vip_lookalike_v1": (PROFILE, EARLY_LIFE, AFFINITY),
    "uplift_v1": (PROFILE, ACTIVITY, VALUE, AFFINITY, EARLY_LIFE),
    "uplift_v2": VIEWS,
}


def all_features() -> dict[str, str]:
    return {name: text for view in (*VIEWS, REALTIME) for name, text in view.features.items()}


def model_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The model's input: numbers as float64 (online nulls arrive as None), strings as category.

    LightGBM remembers each categorical column's training categories and maps new frames onto
    them, so training and serving encode the same way.
    """
    numeric = [name for name in columns if name not in STRING_FEATURES]
    # One conversion for every numeric column: per-column astype costs ~30 ms on a one-row request.
    values = frame[numeric].to_numpy(dtype=np.float64, na_value=np.nan)
    out = pd.DataFrame(values, columns=numeric, index=frame.index)
    for name in columns:
        if name in STRING_FEATURES:
            out[name] = frame[name].astype("category")
    return out if list(out.columns) == columns else out[columns]
