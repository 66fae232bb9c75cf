"""Calibrating uplift estimates so their size, not only their order, can be trusted.

Decisions spend money on `uplift x margin x order value`, so an estimate that ranks customers well
but exaggerates how far apart they are contacts too many: a learner's noise spreads its scores
wider than the true effects (the winner's curse at the top). The calibration is the linear map
a + b * estimate that best predicts the true effect, fitted on out-of-fold estimates of the
training rows against the transformed outcome

    Z = y * (t - e) / (e * (1 - e)),    E[Z | x] = uplift(x) under randomized assignment with P(t=1)=e,

so the least-squares slope of Z on the estimate is the slope of the true effect on it. The slope is
kept in [0, 1]: calibration may shrink a spread it cannot trust, never widen one.

What a shrunk estimate falls back to is not one average effect for everyone but a constant shift of
the log-odds of ordering, sigma(logit p0(x) + delta) - p0(x) with p0 = P(order | not treated): the
same nudge moves a customer on the fence far more than a lost cause or a sure thing. delta is the
shift that reproduces the treated arm's order rate from the control model's out-of-sample p0, so a
learner with no signal (slope 0) still targets by this structure, and the slope measures what the
learner adds to it:

    uplift(x) = sigma(logit p0(x) + delta) - p0(x) + slope * (estimate(x) - mean estimate)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq


@dataclass(frozen=True)
class UpliftCalibration:
    intercept: float = 0.0
    slope: float = 1.0
    log_odds_shift: float = 0.0  # delta; 0 for calibrations fitted without P(order | not treated)

    def __call__(self, uplift: ArrayLike, p_control: ArrayLike | None = None) -> np.ndarray:
        linear = self.intercept + self.slope * np.asarray(uplift, dtype=np.float64)
        if not self.log_odds_shift:
            return linear
        if p_control is None:
            raise ValueError("this calibration shifts log-odds: it needs P(order | not treated) per row")
        return linear + shifted(np.asarray(p_control, dtype=np.float64), self.log_odds_shift)


IDENTITY = UpliftCalibration()
# A shift beyond this would mean the treated arm (nearly) all ordered or none did: no estimate.
MAX_SHIFT = 5.0


def shifted(p_control: np.ndarray, delta: float) -> np.ndarray:
    """sigma(logit p + delta) - p: the change in an order probability when its log-odds move by delta."""
    p = np.clip(p_control, 1e-9, 1 - 1e-9)
    return p / (p + (1 - p) * np.exp(-delta)) - p


def log_odds_shift(p_control: np.ndarray, y_treated: np.ndarray) -> float:
    """The delta for which the treated rows' predicted order rate sigma(logit p0 + delta) averages
    their observed one (p0 out of sample: the control model never saw treated rows)."""
    target = float(np.mean(y_treated))

    def gap(delta: float) -> float:
        return float(np.mean(p_control + shifted(p_control, delta))) - target

    if gap(-MAX_SHIFT) >= 0:
        return -MAX_SHIFT
    if gap(MAX_SHIFT) <= 0:
        return MAX_SHIFT
    return float(brentq(gap, -MAX_SHIFT, MAX_SHIFT, xtol=1e-6))


def transformed_outcome(y: ArrayLike, treatment: ArrayLike, propensity: np.ndarray | None) -> np.ndarray:
    """Z per row; without a known propensity the treated share stands in for it (a simple RCT)."""
    y_arr = np.asarray(y, dtype=np.float64)
    t_arr = np.asarray(treatment, dtype=np.float64)
    e = np.full(len(t_arr), t_arr.mean()) if propensity is None else np.asarray(propensity, dtype=np.float64)
    return y_arr * (t_arr - e) / (e * (1.0 - e))


def fit_calibration(
    uplift: ArrayLike,
    y: ArrayLike,
    treatment: ArrayLike,
    propensity: np.ndarray | None,
    p_control: ArrayLike | None = None,
    ranks: bool = True,
) -> UpliftCalibration:
    """The least-squares line of Z (less the log-odds shift's effect, given `p_control`: P(order |
    not treated) per row, out of sample) on out-of-fold `uplift`, slope clipped to [0, 1]; slope 0
    when the learner's ranking has not earned trust (`ranks` False)."""
    scores = np.asarray(uplift, dtype=np.float64)
    z = transformed_outcome(y, treatment, propensity)
    if not len(scores) == len(z) > 1:
        raise ValueError(
            f"need one out-of-fold estimate per row and at least 2 rows; got {len(scores)}, {len(z)}"
        )
    spread = scores.var()
    if p_control is None:
        slope = _slope(scores, z) if ranks and spread > 0 else 0.0
        return UpliftCalibration(float(z.mean() - slope * scores.mean()), slope)
    p0 = np.asarray(p_control, dtype=np.float64)
    treated = np.asarray(treatment) == 1
    delta = log_odds_shift(p0[treated], np.asarray(y, dtype=np.float64)[treated])
    slope = _slope(scores, z - shifted(p0, delta)) if ranks and spread > 0 else 0.0
    # The shift already matches the average effect, from the outcome model: no intercept of Z's
    # noisy mean on top, the estimate only spreads customers around it.
    return UpliftCalibration(-slope * float(scores.mean()), slope, delta)


def _slope(scores: np.ndarray, target: np.ndarray) -> float:
    return float(np.clip(np.cov(scores, target, bias=True)[0, 1] / scores.var(), 0.0, 1.0))
