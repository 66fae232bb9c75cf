"""The feature values of every view at one snapshot time, from events strictly before it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import entropy

from features.catalog import (
    ACTIVITY,
    AFFINITY,
    EARLY_LIFE,
    FAMILIES,
    HABITS,
    PROFILE,
    REALTIME,
    REALTIME_EVENTS,
    VALUE,
    WINDOWS_DAYS,
    ViewSpec,
)
from features.event_index import EventIndex

DAY = 86_400
Columns = dict[str, np.ndarray]


@dataclass(frozen=True)
class Population:
    """Every customer, by dense index (the position in `ids`, which is sorted)."""

    ids: np.ndarray
    signup: np.ndarray  # seconds since the base time
    profile: pd.DataFrame  # consent flags and categorical attributes, aligned with ids


@dataclass(frozen=True)
class Snapshot:
    """Feature rows of `customers` as of `t`: one instant for all, or one per row (decision times)."""

    t: int | np.ndarray  # seconds since the base time
    customers: np.ndarray  # dense indices of customers signed up by t (ascending for one instant)
    signup: np.ndarray
    base_epoch_s: int  # Unix time of the base


@dataclass(frozen=True)
class Indices:
    families: dict[str, EventIndex]
    categories: dict[str, EventIndex]  # product views per top category


def _checked(spec: ViewSpec, columns: Columns) -> Columns:
    if list(columns) != list(spec.features):
        raise AssertionError(f"{spec.name}: computed columns drift from the catalog")
    return columns


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def profile_columns(snap: Snapshot, population: Population) -> Columns:
    rows = population.profile.iloc[snap.customers]
    columns: Columns = {"tenure_days": (snap.t - snap.signup) / DAY}
    flags = ("email", "sms", "push", "kakao")
    for flag in flags:
        columns[f"consent_{flag}"] = rows[f"consent_{flag}"].to_numpy(dtype=np.float64)
    columns["consented_channels"] = np.sum([columns[f"consent_{flag}"] for flag in flags], axis=0)
    # Trees need three splits to find "declined every marketing opt-in" from the flags, and in
    # uplift data pooled over channels that group shows only on push: one column makes it one split.
    columns["marketing_opt_ins"] = columns["consented_channels"] - columns["consent_push"]
    for name in ("region", "acquisition_channel", "device"):
        columns[name] = rows[name].to_numpy(dtype=object)
    return _checked(PROFILE, columns)


def activity_columns(snap: Snapshot, indices: Indices) -> Columns:
    columns: Columns = {}
    c, t = snap.customers, snap.t
    for family in FAMILIES:
        index = indices.families[family.name]
        columns[f"{family.name}_total"] = index.count(c, 0, t).astype(np.float64)
        columns[f"days_since_last_{family.name}"] = (t - index.last_before(c, t)) / DAY
        for days in WINDOWS_DAYS:
            columns[f"{family.name}_{days}d"] = index.count(c, t - days * DAY, t).astype(np.float64)
        if family.amount_noun:
            columns[f"{family.name}_amount_total"] = index.amount(c, 0, t)
            for days in (30, 90):
                columns[f"{family.name}_amount_{days}d"] = index.amount(c, t - days * DAY, t)
    return _checked(ACTIVITY, columns)


def value_columns(snap: Snapshot, indices: Indices) -> Columns:
    c, t, f = snap.customers, snap.t, indices.families
    orders = f["orders"].count(c, 0, t).astype(np.float64)
    revenue = f["orders"].amount(c, 0, t)
    first = f["orders"].first_time(c)
    days_active = np.where(first < t, (t - first) / DAY, np.nan)
    columns: Columns = {
        "avg_order_value": _ratio(revenue, orders),
        "avg_basket_items": _ratio(f["order_items"].amount(c, 0, t), orders),
        "discount_share": np.nan_to_num(
            _ratio(f["coupon_uses"].amount(c, 0, t), f["gross_spend"].amount(c, 0, t))
        ),
        "refund_rate": np.nan_to_num(_ratio(f["refunds"].amount(c, 0, t), revenue)),
        "days_since_first_order": days_active,
        "orders_per_30d_active": np.nan_to_num(30 * _ratio(orders, np.maximum(days_active, 1))),
        "revenue_per_30d_tenure": 30 * revenue / np.maximum((t - snap.signup) / DAY, 1),
        "campaigns_treated_90d": f["treated"].count(c, t - 90 * DAY, t).astype(np.float64),
        "campaigns_held_out_90d": f["held_out"].count(c, t - 90 * DAY, t).astype(np.float64),
    }
    return _checked(VALUE, columns)


def _category_views(snap: Snapshot, indices: Indices, start: np.ndarray | int) -> np.ndarray:
    """(customers, tracked categories) product views in [start, t); views of categories outside
    the `top_categories` most viewed are not among them."""
    counts = [index.count(snap.customers, start, snap.t) for index in indices.categories.values()]
    return np.column_stack(counts or [np.zeros(len(snap.customers), dtype=np.int64)]).astype(np.float64)


def affinity_columns(snap: Snapshot, indices: Indices) -> Columns:
    c, start, t, f = snap.customers, snap.t - 30 * DAY, snap.t, indices.families
    views = f["views"].count(c, start, t).astype(np.float64)
    per_category = _category_views(snap, indices, start)
    columns: Columns = {
        "categories_viewed_30d": (per_category > 0).sum(axis=1).astype(np.float64),
        "top_category_share_30d": _ratio(per_category.max(axis=1), views),
        "discounted_view_share_30d": _ratio(f["discounted_views"].count(c, start, t), views),
        "avg_viewed_price_30d": _ratio(f["views"].amount(c, start, t), views),
        "search_to_view_ratio_30d": f["searches"].count(c, start, t) / np.maximum(views, 1),
    }
    return _checked(AFFINITY, columns)


def habits_columns(snap: Snapshot, indices: Indices) -> Columns:
    c, t, f = snap.customers, snap.t, indices.families
    views = f["views"].count(c, 0, t).astype(np.float64)
    per_category = _category_views(snap, indices, 0)
    messages = f["messages"].count(c, 0, t).astype(np.float64)
    columns: Columns = {
        "categories_viewed_total": (per_category > 0).sum(axis=1).astype(np.float64),
        "category_view_entropy_total": _normalized_entropy(per_category),
        "top_category_share_total": _ratio(per_category.max(axis=1), views),
        "discounted_view_share_total": _ratio(f["discounted_views"].count(c, 0, t), views),
        "avg_viewed_price_total": _ratio(f["views"].amount(c, 0, t), views),
        "open_rate_total": _ratio(f["opens"].count(c, 0, t), messages),
        "click_rate_total": _ratio(f["clicks"].count(c, 0, t), messages),
        "coupon_uses_per_order": _ratio(f["coupon_uses"].count(c, 0, t), f["orders"].count(c, 0, t)),
    }
    return _checked(HABITS, columns)


def _normalized_entropy(counts: np.ndarray) -> np.ndarray:
    """Entropy of each row's distribution over its columns / log(columns); NaN for an empty row."""
    scale = np.log(counts.shape[1]) if counts.shape[1] > 1 else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):  # an empty row normalizes 0 / 0 to NaN
        return entropy(counts, axis=1) / scale


def early_life_columns(snap: Snapshot, indices: Indices) -> Columns:
    columns: Columns = {}
    for days in (7, 30):
        # Counted up to the earlier of t and the end of the early-life window.
        end = np.minimum(snap.t, snap.signup + days * DAY)
        for family in ("sessions", "views", "cart_adds", "orders"):
            counts = indices.families[family].count(snap.customers, snap.signup, end)
            columns[f"{family}_first_{days}d"] = counts.astype(np.float64)
        columns[f"revenue_first_{days}d"] = indices.families["orders"].amount(
            snap.customers, snap.signup, end
        )
    return _checked(EARLY_LIFE, columns)


def realtime_columns(snap: Snapshot, indices: Indices) -> Columns:
    columns: Columns = {}
    for field, family in REALTIME_EVENTS.values():
        columns[field] = indices.families[family].last_before(snap.customers, snap.t) + snap.base_epoch_s
    return _checked(REALTIME, columns)
