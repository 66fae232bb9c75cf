"""Confidence intervals for a randomized campaign: treated minus holdout.

- Conversion rate: the difference of two independent proportions with the normal approximation
  (Wald, unpooled): d = p_t - p_c, se = sqrt(p_t (1 - p_t) / n_t + p_c (1 - p_c) / n_c),
  interval d -/+ z_{1 - (1 - level)/2} se.
- Revenue per customer: Welch's unequal-variance t interval for the difference of means, with the
  Welch-Satterthwaite degrees of freedom. Revenue is skewed (most customers spend 0), which the
  central limit theorem absorbs at campaign sizes; below a few dozen per arm read it with care.
- Incremental totals (conversions, revenue) scale a per-customer difference and its interval by the
  number treated: what the treated arm got that it would not have got without the campaign.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm, t

LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def scaled(self, factor: float) -> Interval:
        return Interval(self.estimate * factor, self.low * factor, self.high * factor)

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")


def proportion_difference(
    successes_t: int, n_t: int, successes_c: int, n_c: int, level: float = LEVEL
) -> Interval:
    """Treated minus control rate with its normal-approximation interval."""
    _check_level(level)
    if n_t < 1 or n_c < 1:
        raise ValueError(f"both arms need at least one customer; got {n_t} treated and {n_c} holdout")
    for name, k, n in (("treated", successes_t, n_t), ("holdout", successes_c, n_c)):
        if not 0 <= k <= n:
            raise ValueError(f"{name}: conversions must be in [0, {n}], got {k}")
    p_t, p_c = successes_t / n_t, successes_c / n_c
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    z = float(norm.ppf(1 - (1 - level) / 2))
    return Interval(p_t - p_c, p_t - p_c - z * se, p_t - p_c + z * se)


def welch_difference(treated: ArrayLike, control: ArrayLike, level: float = LEVEL) -> Interval:
    """Difference of means, treated minus control, with Welch's t interval."""
    _check_level(level)
    x, y = np.asarray(treated, dtype=np.float64), np.asarray(control, dtype=np.float64)
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"Welch's interval needs two values per arm; got {len(x)} and {len(y)}")
    va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    diff = float(x.mean() - y.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(diff, diff, diff)
    df = (va + vb) ** 2 / (va**2 / (len(x) - 1) + vb**2 / (len(y) - 1))
    q = float(t.ppf(1 - (1 - level) / 2, df))
    return Interval(diff, diff - q * se, diff + q * se)
