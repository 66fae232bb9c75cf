"""The minimum detectable effect of a campaign, stated before launch.

Two-sided two-proportion z-test at significance `alpha` with power `power`, both arms at the
audience's predicted baseline conversion `p` (the mean predicted P(order | not treated)):

    MDE = (z_{1 - alpha/2} + z_{power}) * sqrt(p (1 - p) (1/n_treated + 1/n_holdout))

the smallest absolute lift in conversion rate (treated minus holdout) that the test detects with
probability `power`. With alpha 0.05 and power 0.8 the factor is 1.960 + 0.842 = 2.802; for equal
arms of n this is Lehr's rule n = 16 p (1 - p) / MDE^2 per arm. The holdout is usually the small arm,
so it is what limits the MDE: a 10% holdout of 10,000 at p = 5% detects a lift of 2.0 points.
"""

from __future__ import annotations

import math

from scipy.stats import norm

ALPHA = 0.05
POWER = 0.8


def minimum_detectable_effect(
    baseline: float, n_treated: int, n_holdout: int, alpha: float = ALPHA, power: float = POWER
) -> float | None:
    """Smallest absolute lift (a difference of rates) detectable; None when an arm is empty: no
    lift is detectable without both arms."""
    if not 0 <= baseline <= 1:
        raise ValueError(f"baseline conversion must be in [0, 1], got {baseline}")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must be in (0, 1), got {alpha} and {power}")
    if n_treated < 0 or n_holdout < 0:
        raise ValueError(f"arm sizes must be >= 0, got {n_treated} and {n_holdout}")
    if n_treated == 0 or n_holdout == 0:
        return None
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return float(z * math.sqrt(baseline * (1 - baseline) * (1 / n_treated + 1 / n_holdout)))
