"""The simulated shop's fixed world: regions, channels, devices, categories, products, calendar.

Everything here is a constant so two runs with the same seed see the same world; only customers
and their behaviour are random.
"""

from __future__ import annotations

import numpy as np

DAY_NS = 86_400 * 10**9
MINUTE_NS = 60 * 10**9

REGIONS = ("seoul", "gyeonggi", "busan", "incheon", "daegu", "daejeon", "gwangju")
REGION_SHARE = np.array([0.30, 0.26, 0.12, 0.10, 0.09, 0.07, 0.06])
# Metro regions convert a little better (faster delivery, more app users).
REGION_INTENT = np.array([1.15, 1.05, 0.95, 1.0, 0.9, 0.9, 0.85])

ACQUISITION_CHANNELS = ("organic", "paid_search", "social", "affiliate", "referral")
# Deal seekers arrive through coupon/affiliate sites far more often: an observable trace of the
# latent discount sensitivity that drives coupon uplift.
ACQUISITION_MIX_DEAL = np.array([0.06, 0.09, 0.09, 0.70, 0.06])
ACQUISITION_MIX_OTHER = np.array([0.37, 0.26, 0.19, 0.04, 0.14])
ACQUISITION_INTENT = np.array([1.2, 1.05, 0.75, 0.85, 1.5])

DEVICES = ("ios", "android", "desktop")
DEVICE_SHARE = np.array([0.38, 0.42, 0.20])

CATEGORIES = (
    "fashion",
    "beauty",
    "home",
    "electronics",
    "grocery",
    "sports",
    "kids",
    "books",
    "pets",
    "health",
)
CATEGORY_POPULARITY = np.array([0.18, 0.14, 0.11, 0.08, 0.13, 0.08, 0.08, 0.06, 0.06, 0.08])
CATEGORY_PRICE = np.array([42.0, 26.0, 55.0, 160.0, 18.0, 48.0, 32.0, 16.0, 27.0, 24.0])
PRODUCTS_PER_CATEGORY = 400
# Within a category, product k's price rises with k: log-price spread of the catalogue.
PRICE_SPREAD = 0.66
# Each region over-indexes on two categories (climate, demographics): regional preferences.
REGION_FAVOURITES = ((0, 1), (6, 2), (4, 5), (3, 0), (4, 9), (7, 3), (8, 4))

SEGMENTS = ("regular", "deal_seeker", "bulk")
SEGMENT_SHARE = np.array([0.60, 0.26, 0.14])

PAYMENT_METHODS = ("card", "bank_transfer", "wallet", "other")
PAYMENT_SHARE = np.array([0.58, 0.12, 0.26, 0.04])

CONSENT_CHANNELS = ("email", "sms", "push", "kakao")

# Activity by weekday, Monday first: weekends are busier, the planted weekly seasonality.
WEEKDAY_ORDER_FACTOR = np.array([0.90, 0.86, 0.86, 0.90, 0.98, 1.22, 1.28])
WEEKDAY_SIGNUP_FACTOR = np.array([1.05, 0.95, 0.95, 0.95, 1.0, 1.05, 1.05])

GENERIC_COUPONS = ("SAVE10", "APP5", "FLASH15")
GENERIC_COUPON_RATE = np.array([0.10, 0.05, 0.15])


def region_category_weights() -> np.ndarray:
    """(regions, categories) base preference: national popularity tilted to regional favourites."""
    weights = np.tile(CATEGORY_POPULARITY, (len(REGIONS), 1))
    for region, favourites in enumerate(REGION_FAVOURITES):
        weights[region, list(favourites)] *= 2.2
    return weights / weights.sum(axis=1, keepdims=True)


def product_prices() -> np.ndarray:
    """(categories, products) list price; log-price is linear in the normal quantile of k."""
    from scipy.special import ndtri

    quantiles = ndtri((np.arange(PRODUCTS_PER_CATEGORY) + 0.5) / PRODUCTS_PER_CATEGORY)
    prices = CATEGORY_PRICE[:, None] * np.exp(PRICE_SPREAD * quantiles)[None, :]
    return np.round(prices, 2)


def product_ids(category: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Global product id: category block of 10,000 ids, then the rank inside the category."""
    return (category.astype(np.int64) + 1) * 10_000 + rank.astype(np.int64)
