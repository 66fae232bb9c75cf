"""Calibrating uplift estimates so their size, not only their order, can be trusted.

Decisions spend money on `uplift x margin x order value`, so an estimate that ranks customers well
but exaggerates how far apart they are contacts too many: a learner's noise spreads its scores
wider than the true effects (the winner's curse at the top). The calibration is the linear map
a + b * estimate that best predicts the true effect, fitted on out-of-fold estimates of the
training rows against the transformed outcome

    Z = y * (t - e) / (e * (1 - e)),    E[Z | x] = uplift(x) under randomized assignment with P(t=1)=e,

so the least-squares slope of Z on the estimate is the slope of the true effect on it. The slope is
kept in [0, 1]: calibration may shrink a spread it cannot trust, never widen one, and a learner
with no signal (slope 0) falls back to the average effect for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class UpliftCalibration:
    intercept: float = 0.0
    slope: float = 1.0

    def __call__(self, uplift: ArrayLike) -> np.ndarray:
        return self.intercept + self.slope * np.asarray(uplift, dtype=np.float64)


IDENTITY = UpliftCalibration()


def transformed_outcome(y: ArrayLike, treatment: ArrayLike, propensity: np.ndarray | None) -> np.ndarray:
    """Z per row; without a known propensity the treated share stands in for it (a simple RCT)."""
    y_arr = np.asarray(y, dtype=np.float64)
    t_arr = np.asarray(treatment, dtype=np.float64)
    e = np.full(len(t_arr), t_arr.mean()) if propensity is None else np.asarray(propensity, dtype=np.float64)
    return y_arr * (t_arr - e) / (e * (1.0 - e))


def fit_calibration(
    uplift: ArrayLike, y: ArrayLike, treatment: ArrayLike, propensity: np.ndarray | None
) -> UpliftCalibration:
    """The least-squares line of Z on out-of-fold `uplift`, slope clipped to [0, 1]."""
    scores = np.asarray(uplift, dtype=np.float64)
    z = transformed_outcome(y, treatment, propensity)
    if not len(scores) == len(z) > 1:
        raise ValueError(
            f"need one out-of-fold estimate per row and at least 2 rows; got {len(scores)}, {len(z)}"
        )
    spread = scores.var()
    slope = 0.0 if spread == 0 else float(np.clip(np.cov(scores, z, bias=True)[0, 1] / spread, 0.0, 1.0))
    return UpliftCalibration(float(z.mean() - slope * scores.mean()), slope)
