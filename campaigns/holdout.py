"""The randomized holdout of an audience: a deterministic draw per (campaign, customer).

Each customer's draw is a uniform number in [0, 1) from a keyed hash of the campaign id and the
customer id, so the same audience under the same campaign id always splits the same way (a relaunch
or an audit reproduces it) while different campaigns split independently. A customer is held out when
the draw is below the holdout share, so P(holdout) = share for everyone: the assignment is a
Bernoulli randomization, logged as the probability of the arm each customer received.
"""

from __future__ import annotations

import hashlib

import numpy as np

TREATMENT = "treatment"
HOLDOUT = "holdout"
DEFAULT_HOLDOUT_SHARE = 0.1
_SCALE = float(2**64)


def check_share(holdout_share: float) -> float:
    if not 0 < holdout_share < 1:
        raise ValueError(f"holdout share must be in (0, 1), got {holdout_share}")
    return float(holdout_share)


def uniform_draws(campaign_id: str, customer_ids: np.ndarray) -> np.ndarray:
    """One reproducible uniform [0, 1) number per customer, independent across campaigns."""
    out = np.empty(len(customer_ids), dtype=np.float64)
    for i, customer in enumerate(np.asarray(customer_ids, dtype=np.int64).tolist()):
        digest = hashlib.blake2b(f"{campaign_id}\x00{customer}".encode(), digest_size=8).digest()
        out[i] = int.from_bytes(digest, "big") / _SCALE
    return out


def assign_arms(
    campaign_id: str, customer_ids: np.ndarray, holdout_share: float = DEFAULT_HOLDOUT_SHARE
) -> tuple[np.ndarray, np.ndarray]:
    """(arm per customer, probability of that arm)."""
    if not campaign_id:
        raise ValueError("campaign_id must be a non-empty string")
    share = check_share(holdout_share)
    held = uniform_draws(campaign_id, customer_ids) < share
    arm = np.where(held, HOLDOUT, TREATMENT).astype(object)
    return arm, np.where(held, share, 1.0 - share)
