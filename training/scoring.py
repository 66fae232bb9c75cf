"""Scores of the reference points every model is judged against: baselines and the oracle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training.baselines import Baseline, BgNbdBaseline, LogisticBaseline, RfmRuleBaseline
from training.oracle import oracle_scores
from training.tasks import Task


def baseline_scores(
    task: Task, fit: pd.DataFrame, test: pd.DataFrame, columns: list[str], label: str
) -> dict[str, np.ndarray]:
    """Fit each baseline on the training rows and score the test rows."""
    baselines: dict[str, Baseline] = {"rfm_rule": RfmRuleBaseline(task.name), "logistic": LogisticBaseline()}
    if task.name == "churn":
        baselines["bg_nbd"] = BgNbdBaseline(task.config.horizon_days)
    return {
        name: np.asarray(model.fit(fit[columns], fit[label]).predict_proba(test[columns]))[:, 1]
        for name, model in baselines.items()
    }


def oracle_for(truth_dir: Path, test: pd.DataFrame, task: Task) -> np.ndarray | None:
    """True probabilities for the test rows when the data is simulated and they are all known."""
    if not truth_dir.is_dir():
        return None
    scores = oracle_scores(truth_dir, test[["customer_id", "event_timestamp"]], task.name)
    return None if scores.isna().any() else scores.to_numpy(dtype=np.float64)
