"""Choosing an uplift learner by cross-validated Qini coefficient on randomized data."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from training.uplift.boosting import Propensity, arm_outcome_folds, as_frame, check_fit_inputs
from training.uplift.learners import LEARNERS, make_learner
from training.uplift.metrics import qini_score

logger = logging.getLogger(__name__)

# Scores this close are a tie: floating-point noise must not pick the more complex learner.
TIE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Selection:
    """The chosen learner, every candidate's Qini coefficient across the held-out folds, and each
    candidate's out-of-fold uplift estimate of every row (what calibration is fitted on)."""

    best: str
    scores: dict[str, float]
    stds: dict[str, float]
    fold_scores: dict[str, list[float]]
    out_of_fold: dict[str, np.ndarray]


def select_learner(
    X: pd.DataFrame,
    y: ArrayLike,
    treatment: ArrayLike,
    propensity: Propensity,
    names: Sequence[str],
    folds: int = 3,
    seed: int = 0,
    params: dict[str, Any] | None = None,
) -> Selection:
    """The simplest learner among `names` (`LEARNERS` order) whose mean held-out Qini coefficient is
    within one standard error of the highest.

    Folds are stratified by treatment x outcome so each keeps both arms and their response rates, and
    are the same for every learner (fixed by `seed`).
    """
    X = as_frame(X)
    y_arr, t_arr, known = check_fit_inputs(X, y, treatment, propensity)
    unknown = [name for name in names if name not in LEARNERS]
    if unknown or not names:
        raise ValueError(f"names must be a non-empty subset of {', '.join(LEARNERS)}; unknown: {unknown}")
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    splits = arm_outcome_folds(folds, t_arr, y_arr, seed)
    fold_scores: dict[str, list[float]] = {}
    out_of_fold: dict[str, np.ndarray] = {}
    for name in sorted(set(names), key=list(LEARNERS).index):
        out_of_fold[name] = np.zeros(len(X))
        for train, held in splits:
            out_of_fold[name][held] = _held_out_uplift(
                name, params, seed, X, y_arr, t_arr, known, train, held
            )
        fold_scores[name] = [
            qini_score(y_arr[held], out_of_fold[name][held], t_arr[held]) for _, held in splits
        ]
    scores = {name: float(np.mean(values)) for name, values in fold_scores.items()}
    stds = {name: float(np.std(values)) for name, values in fold_scores.items()}
    leader = max(scores, key=lambda name: scores[name])
    # One-standard-error rule (Breiman): a learner whose mean is within one standard error of the
    # leader's is tied with it. On a few thousand assignments Qini gaps that small are fold noise,
    # and the simpler, lower-variance learner is the safer one to spend money on.
    margin = stds[leader] / np.sqrt(folds) + TIE_TOLERANCE
    best = next(name for name, score in scores.items() if score >= scores[leader] - margin)
    logger.info("Uplift learner %s chosen by %d-fold Qini: %s", best, folds, scores)
    return Selection(best, scores, stds, fold_scores, out_of_fold)


def _held_out_uplift(
    name: str,
    params: dict[str, Any] | None,
    seed: int,
    X: pd.DataFrame,
    y: np.ndarray,
    t: np.ndarray,
    known: np.ndarray | None,
    train: np.ndarray,
    held: np.ndarray,
) -> np.ndarray:
    learner = make_learner(name, params, seed)
    learner.fit(
        X.iloc[train], y[train], treatment=t[train], propensity=None if known is None else known[train]
    )
    return np.asarray(learner.predict_uplift(X.iloc[held]), dtype=np.float64)
