"""What customers look at and buy: category by preference, product by price tier, sale flags."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from events.simulator import catalog as cat
from events.simulator.traits import Traits

# How strongly a customer's price tier decides which products (cheap or dear) they pick.
TIER_WEIGHT = 0.8
SALE_PRICE = 0.8
_CHUNK = 1_000_000


def sample_categories(rng: np.random.Generator, traits: Traits, customers: np.ndarray) -> np.ndarray:
    """One category per event, drawn from each customer's own preference (chunked for memory)."""
    out = np.empty(customers.size, np.int8)
    last = len(cat.CATEGORIES) - 1
    for lo in range(0, customers.size, _CHUNK):
        who = customers[lo : lo + _CHUNK]
        u = rng.random(who.size, dtype=np.float32)
        out[lo : lo + _CHUNK] = np.minimum((traits.category_cdf[who] < u[:, None]).sum(1), last)
    return out


def sample_products(
    rng: np.random.Generator,
    traits: Traits,
    customers: np.ndarray,
    category: np.ndarray,
    prices: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Product id and list price: high price tiers pick dearer products of the category."""
    noise = rng.normal(0.0, 1.0, customers.size)
    latent = TIER_WEIGHT * traits.spend_z[customers] + np.sqrt(1 - TIER_WEIGHT**2) * noise
    rank = np.minimum(
        (ndtr(latent) * cat.PRODUCTS_PER_CATEGORY).astype(np.int64), cat.PRODUCTS_PER_CATEGORY - 1
    )
    return cat.product_ids(category, rank), prices[category, rank]


def on_sale(rng: np.random.Generator, traits: Traits, customers: np.ndarray) -> np.ndarray:
    """Discount-sensitive customers hunt sale items: a visible trace of the latent trait."""
    return rng.random(customers.size) < 0.03 + 0.8 * traits.discount_sensitivity[customers]
