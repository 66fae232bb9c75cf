"""Probability calibration as data: an isotonic map stored next to the model, applied by np.interp.

Keeping the map as two arrays (not a pickled estimator) lets serving apply it without importing
any training code, and keeps training and serving on the exact same function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression

ARTIFACT = "calibration.json"


@dataclass(frozen=True)
class CalibrationMap:
    raw: list[float]  # increasing raw scores
    calibrated: list[float]

    def apply(self, scores: np.ndarray) -> np.ndarray:
        return np.interp(scores, self.raw, self.calibrated)

    def to_dict(self) -> dict[str, list[float]]:
        return {"raw": self.raw, "calibrated": self.calibrated}

    @classmethod
    def from_dict(cls, data: dict[str, list[float]]) -> CalibrationMap:
        return cls(list(map(float, data["raw"])), list(map(float, data["calibrated"])))


def fit_isotonic(scores: np.ndarray, labels: np.ndarray) -> CalibrationMap:
    """Fit on held-out scores (never the training rows, whose scores are overconfident)."""
    if len(np.unique(labels)) < 2:
        raise ValueError("calibration labels must contain both classes")
    iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-4, y_max=1 - 1e-4).fit(scores, labels)
    return CalibrationMap(iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist())
