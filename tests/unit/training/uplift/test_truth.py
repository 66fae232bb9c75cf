"""Comparison with the simulator's true uplift: ranks from the estimates, sizes from the calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.uplift.calibration import UpliftCalibration
from training.uplift.truth import truth_figures


def test_rank_uses_the_estimates_and_errors_the_calibrated_values() -> None:
    test = pd.DataFrame({"campaign_id": ["c1"] * 4 + ["nudge-1"], "customer_id": [1, 2, 3, 4, 5]})
    truth = pd.DataFrame(
        {"campaign_id": ["c1"] * 4, "customer_id": [1, 2, 3, 4], "true_uplift": [0.0, 0.1, 0.2, -0.1]}
    )
    estimated = np.array([0.1, 0.3, 0.5, -0.2, 9.9])  # the last row has no truth and is left out
    flat = truth_figures(test, estimated, truth, UpliftCalibration(intercept=0.05, slope=0.0))
    assert flat["spearman"] == pytest.approx(1.0)
    assert flat["rows_with_truth"] == 4
    assert flat["mean_absolute_error"] == pytest.approx(np.mean([0.05, 0.05, 0.15, 0.15]))
    # Every calibrated value is positive, so every row is treated: 0.2 of the oracle's 0.3.
    assert flat["policy_value_share"] == pytest.approx(2 / 3)
