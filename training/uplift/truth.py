"""How close predicted uplift comes to the simulator's true uplift of each assignment.

Only test rows the simulator knows count (campaigns Nudge launched itself have no truth).
- spearman: rank correlation of the learner's estimates and true uplift on the test assignments
  (before calibration: a calibration slope of 0 would leave nothing to rank);
- mean_absolute_error: of the calibrated estimates against the true uplift;
- policy_value_share: true incremental conversions won by treating the rows the model scores
  positive, over those won by the oracle that treats exactly the rows with positive true uplift.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from training.uplift.calibration import IDENTITY, UpliftCalibration


def truth_figures(
    test: pd.DataFrame,
    estimated: np.ndarray,
    truth: pd.DataFrame,
    calibration: UpliftCalibration = IDENTITY,
    p_control: np.ndarray | None = None,
) -> dict[str, float]:
    keyed = test[["campaign_id", "customer_id"]].reset_index(drop=True)
    keyed = keyed.assign(estimated=estimated, predicted=calibration(estimated, p_control))
    keyed["campaign_id"] = keyed["campaign_id"].astype("string")
    truth = truth.assign(campaign_id=truth["campaign_id"].astype("string"))
    # Campaigns launched by Nudge and appended after measurement have no simulator truth.
    joined = keyed.merge(truth[["campaign_id", "customer_id", "true_uplift"]], how="inner")
    if len(joined) < 2:
        return {}
    true = joined["true_uplift"].to_numpy()
    oracle = true[true > 0].sum()
    return {
        "spearman": float(spearmanr(joined["estimated"], true).statistic),
        "policy_value_share": float(true[joined["predicted"].to_numpy() > 0].sum() / oracle)
        if oracle
        else np.nan,
        "mean_absolute_error": float(np.abs(joined["predicted"].to_numpy() - true).mean()),
        "mean_true_uplift": float(true.mean()),
        "rows_with_truth": float(len(joined)),
    }
