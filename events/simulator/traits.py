"""Latent customer traits: the hidden causes behind every observable event and treatment effect.

Each trait leaves observable traces (acquisition channel, what is viewed, coupon use, message
opens, basket sizes) so that models can learn what the ground truth knows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

from events.simulator import catalog as cat


@dataclass(frozen=True)
class Propensity:
    """The traits the daily order probability depends on (see hazard.py)."""

    intent: np.ndarray  # onboarding order probability scale of a new sign-up
    intent_floor: np.ndarray  # daily order probability of a long-lapsed prospect
    repeat_rate: np.ndarray  # reorder probability scale of a buyer
    lapse_days: np.ndarray  # how fast a buyer's reorder probability decays after an order

    def take(self, sel: slice | np.ndarray) -> Propensity:
        return Propensity(
            self.intent[sel], self.intent_floor[sel], self.repeat_rate[sel], self.lapse_days[sel]
        )


@dataclass(frozen=True)
class Traits:
    signup_day: np.ndarray
    signup_ns: np.ndarray
    region: np.ndarray
    acquisition: np.ndarray
    device: np.ndarray
    payment_method: np.ndarray
    consent: np.ndarray  # (customers, 4) in catalog.CONSENT_CHANNELS order
    segment: np.ndarray
    discount_sensitivity: np.ndarray
    engagement: np.ndarray
    put_off: np.ndarray  # annoyed by intrusive channels (push/sms): the sleeping dogs
    propensity: Propensity
    spend_z: np.ndarray  # standard-normal price tier: what a customer spends per item
    basket_size: np.ndarray  # expected extra lines per order
    bulk_quantity: np.ndarray  # expected extra units per line
    category_cdf: np.ndarray  # (customers, categories) float32 cumulative preference
    category_breadth: np.ndarray  # normalized entropy of category preference, 0 narrow..1 broad
    visit_rate: np.ndarray
    login_rate: np.ndarray
    search_rate: np.ndarray
    view_rate: np.ndarray
    cart_rate: np.ndarray  # chance a non-ordering visit leaves something in the cart

    def __len__(self) -> int:
        return len(self.signup_day)

    def frame(self) -> pd.DataFrame:
        """The latent traits as a ground-truth table (customer_id = position + 1)."""
        p = self.propensity
        return pd.DataFrame(
            {
                "customer_id": np.arange(1, len(self) + 1, dtype=np.int64),
                "segment": pd.Categorical.from_codes(self.segment, cat.SEGMENTS),
                "discount_sensitivity": self.discount_sensitivity,
                "engagement": self.engagement,
                "put_off": self.put_off,
                "intent": p.intent,
                "intent_floor": p.intent_floor,
                "repeat_rate": p.repeat_rate,
                "lapse_days": p.lapse_days,
                "spend_z": self.spend_z,
                "basket_size": self.basket_size,
                "category_breadth": self.category_breadth,
                "favourite_category": pd.Categorical.from_codes(
                    _favourite(self.category_cdf), cat.CATEGORIES
                ),
                "visit_rate": self.visit_rate,
                "cart_rate": self.cart_rate,
            }
        )


def _favourite(cdf: np.ndarray) -> np.ndarray:
    return np.argmax(np.diff(cdf, axis=1, prepend=0.0), axis=1)


def _pick(rng: np.random.Generator, n: int, share: np.ndarray) -> np.ndarray:
    return rng.choice(len(share), size=n, p=share / share.sum()).astype(np.int8)


def draw_traits(rng: np.random.Generator, signup_day: np.ndarray, signup_ns: np.ndarray) -> Traits:
    """Draw every customer's profile and latent traits, independent of sign-up order."""
    n = len(signup_day)
    segment = _pick(rng, n, cat.SEGMENT_SHARE)
    deal, bulk = segment == 1, segment == 2
    discount = np.where(deal, rng.beta(6.0, 2.5, n), rng.beta(1.3, 7.0, n))
    engagement = rng.beta(2.0, 4.5, n)
    acquisition = np.where(
        deal, _pick(rng, n, cat.ACQUISITION_MIX_DEAL), _pick(rng, n, cat.ACQUISITION_MIX_OTHER)
    ).astype(np.int8)
    region = _pick(rng, n, cat.REGION_SHARE)
    device = _pick(rng, n, cat.DEVICE_SHARE)
    intent_z = rng.normal(0.0, 1.0, n)
    spend_z = 0.3 * intent_z + np.sqrt(1 - 0.3**2) * rng.normal(0.0, 1.0, n)
    cdf, breadth = _category_preferences(rng, region)
    consent = _consent(rng, engagement, device)
    return Traits(
        signup_day=signup_day,
        signup_ns=signup_ns,
        region=region,
        acquisition=acquisition,
        device=device,
        payment_method=_pick(rng, n, cat.PAYMENT_SHARE),
        consent=consent,
        segment=segment,
        discount_sensitivity=discount,
        engagement=engagement,
        put_off=_put_off(consent),
        propensity=_propensity(rng, intent_z, spend_z, segment, region, acquisition),
        spend_z=spend_z,
        basket_size=np.where(bulk, 1.8, np.where(deal, 0.6, 0.45)) * rng.lognormal(0, 0.3, n),
        bulk_quantity=np.where(bulk, 0.9, 0.12),
        category_cdf=cdf,
        category_breadth=breadth,
        visit_rate=rng.lognormal(0.0, 0.45, n) * (0.6 + engagement),
        login_rate=rng.beta(3.0, 3.0, n),
        search_rate=rng.lognormal(np.log(0.5), 0.5, n),
        # Deal seekers compare many items per visit while hunting for sale prices.
        view_rate=rng.lognormal(np.log(1.0), 0.4, n) * (0.6 + 1.6 * discount),
        cart_rate=0.04 + 0.3 * ndtr(intent_z),
    )


def _propensity(
    rng: np.random.Generator,
    intent_z: np.ndarray,
    spend_z: np.ndarray,
    segment: np.ndarray,
    region: np.ndarray,
    acquisition: np.ndarray,
) -> Propensity:
    n = len(intent_z)
    lift = cat.REGION_INTENT[region] * cat.ACQUISITION_INTENT[acquisition]
    intent = np.minimum(expit(-4.3 + 1.7 * intent_z) * lift, 0.6)
    # High-intent sign-ups who did not buy early still buy occasionally later; a few never do.
    floor = 0.004 * intent + 0.00003
    # Frequent buyers spend a bit more per item too (VIPs are both), hence the shared normal.
    repeat_z = 0.35 * spend_z + np.sqrt(1 - 0.35**2) * rng.normal(0.0, 1.0, n)
    segment_rate = np.array([1.0, 1.1, 0.6])[segment]
    repeat = 0.017 * np.exp(0.6 * repeat_z) * segment_rate
    lapse = rng.lognormal(np.log(24.0), 0.45, n)
    return Propensity(intent, floor, repeat, lapse)


def _category_preferences(rng: np.random.Generator, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dirichlet preferences around the region's base; concentration sets interest breadth."""
    base = cat.region_category_weights()[region]
    concentration = rng.lognormal(np.log(3.0), 0.9, len(region))[:, None]
    gammas = rng.gamma(np.maximum(concentration * base, 1e-3))
    prefs = gammas / gammas.sum(axis=1, keepdims=True)
    entropy = -(prefs * np.log(np.maximum(prefs, 1e-12))).sum(axis=1)
    breadth = entropy / np.log(prefs.shape[1])
    return np.cumsum(prefs, axis=1).astype(np.float32), breadth


def _put_off(consent: np.ndarray) -> np.ndarray:
    """The sleeping dogs: customers who declined every marketing channel the shop asks about at
    sign-up (e-mail, SMS, KakaoTalk). Push permission comes with the app, not with a marketing
    opt-in, so some of them can still be pushed, and a push is the contact they said no to. Their
    refusal is on record in the consent columns: the effect is driven by what customers did, as the
    simulator's contract asks, not by a hidden coin flip. Consent rises with engagement, so they
    are mostly the low-engagement customers who rarely open messages."""
    email, sms, _, kakao = consent.T
    return ~(email | sms | kakao)


def _consent(rng: np.random.Generator, engagement: np.ndarray, device: np.ndarray) -> np.ndarray:
    """Opt-ins per channel: engaged customers opt in more; push needs the app (not desktop)."""
    n = len(engagement)
    app = device != 2
    rates = np.column_stack(
        [
            0.45 + 0.5 * engagement,
            0.22 + 0.25 * engagement,
            np.where(app, 0.5 + 0.3 * engagement, 0.08),
            0.4 + 0.3 * engagement,
        ]
    )
    return rng.random((n, 4)) < rates
