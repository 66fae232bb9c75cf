"""Train the uplift models: logged campaign assignments -> Feast point-in-time features at each
assignment -> per action, the learner with the best cross-validated Qini (plus the baselines, for
the report) -> out-of-time test metrics with bootstrap intervals -> one MLflow run, one registered
bundle (`nudge-uplift`) holding every action.

Splits are out of time per action: the newest `test_share` of its assignment days is the test set.
On simulated data the test rows are also compared with the true uplift of each assignment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from configs.runtime import RuntimePaths
from configs.schema import UpliftConfig
from features.catalog import model_frame
from training.uplift.boosting import classifier, predicted
from training.uplift.bundle import ActionModel
from training.uplift.calibration import IDENTITY, UpliftCalibration, fit_calibration
from training.uplift.learners import make_learner
from training.uplift.metrics import auuc_score, bootstrap_interval, qini_score, uplift_at_k
from training.uplift.selection import select_learner
from training.uplift.truth import truth_figures

log = logging.getLogger(__name__)

TOP_SHARE = 0.3  # uplift@30%, the share the Hillstrom benchmark reports
STRUCTURED = "shift"  # the learner an untrusted ranking falls back to, when it is a candidate


@dataclass(frozen=True)
class ActionSplit:
    train: pd.DataFrame
    test: pd.DataFrame
    test_from: pd.Timestamp


@dataclass
class ActionResult:
    action: str
    learner: str
    rows: dict[str, int]
    cv_qini: dict[str, float]
    test: dict[str, dict[str, float]]  # learner -> metric -> value
    calibration: UpliftCalibration = IDENTITY  # of the chosen learner's estimates
    truth: dict[str, float] = field(default_factory=dict)
    # Test outcomes, arms and every learner's scores, for the report's curves.
    test_y: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    test_treatment: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    test_scores: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    selected: str = ""  # the learner cross-validation chose, when the evidence gate overruled it
    channel: str = ""  # the one channel whose campaigns it learned from; "" for every channel
    # Where the action also had a model of its decision channel alone: both models' targeted gain
    # on that channel's test rows ("every_channel", "own_channel") and the bootstrap interval of
    # their difference ("difference_low", "difference_high"), which chose between them.
    channel_gain: dict[str, float] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        out = {f"{self.action}.rows_{k}": float(v) for k, v in self.rows.items()}
        out |= {f"{self.action}.cv_qini.{k}": v for k, v in self.cv_qini.items()}
        out |= {
            f"{self.action}.calibration.intercept": self.calibration.intercept,
            f"{self.action}.calibration.slope": self.calibration.slope,
            f"{self.action}.calibration.log_odds_shift": self.calibration.log_odds_shift,
        }
        for learner, values in self.test.items():
            out |= {f"{self.action}.{learner}.{k}": v for k, v in values.items()}
        out |= {f"{self.action}.truth.{k}": v for k, v in self.truth.items()}
        out |= {f"{self.action}.channel_gain.{k}": v for k, v in self.channel_gain.items()}
        return {k: float(v) for k, v in out.items() if np.isfinite(v)}

    def describe(self) -> str:
        best = self.test[self.learner]
        text = f"{self.action}: {self.learner}"
        if self.selected and self.selected != self.learner:
            text += f" (in place of {self.selected}, whose test qini interval reaches 0)"
        text += (
            f" (cv qini {self.cv_qini[self.learner]:.3f}); test qini "
            f"{best['qini']:.3f} [{best['qini_low']:.3f}, {best['qini_high']:.3f}], "
            f"uplift@30% {best['uplift_at_30']:.4f}, calibration slope {self.calibration.slope:.2f}"
        )
        if best["qini_low"] <= 0 and not self.calibration.slope:
            text += " (test qini interval reaches 0: ranking not used)"
        if self.channel_gain:
            pooled, own = self.channel_gain["every_channel"], self.channel_gain["own_channel"]
            source = f"its channel's campaigns alone ({self.channel})" if self.channel else "every channel"
            low, high = self.channel_gain["difference_low"], self.channel_gain["difference_high"]
            text += (
                f", learned from {source}: test gain there {own:.1f} orders alone vs {pooled:.1f} "
                f"pooled (difference [{low:.1f}, {high:.1f}])"
            )
        if self.truth:
            text += f", spearman vs truth {self.truth['spearman']:.2f}"
        return text


def split_action(rows: pd.DataFrame, test_share: float) -> ActionSplit:
    days = np.sort(rows["event_timestamp"].dt.normalize().unique())
    test_from = pd.Timestamp(days[min(len(days) - 1, int(np.floor(len(days) * (1 - test_share))))])
    stamps = rows["event_timestamp"]
    return ActionSplit(rows[stamps < test_from], rows[stamps >= test_from], test_from)


def problem_with(split: ActionSplit, config: UpliftConfig) -> str | None:
    """Why an action cannot be trained and tested, or None."""
    if len(split.train) + len(split.test) < config.min_rows:
        return f"{len(split.train) + len(split.test)} assignments (< min_rows {config.min_rows})"
    for part, frame in (("train", split.train), ("test", split.test)):
        arms = frame.groupby("treated")["converted"].agg(["size", "sum"])
        if len(arms) < 2 or (arms["sum"] == 0).all():
            return f"{part} rows lack an arm or any conversion"
    return None


def fit_action(
    action: str,
    split: ActionSplit,
    columns: list[str],
    config: UpliftConfig,
    seed: int,
    truth: pd.DataFrame | None,
) -> tuple[ActionResult, ActionModel]:
    x, y, t, p = _arrays(split.train, columns)
    params = config.lightgbm.model_dump()
    selection = select_learner(x, y, t, p, list(config.learners), config.cv_folds, seed, params)
    # The shift learner is fitted whenever it is a candidate: it is the fallback of an untrusted ranking.
    fallback = [STRUCTURED] if STRUCTURED in config.learners else []
    names = list(dict.fromkeys([selection.best, *config.baselines, *fallback]))
    learners = {n: make_learner(n, params, seed).fit(x, y, treatment=t, propensity=p) for n in names}
    control = classifier(params, seed).fit(x[t == 0], y[t == 0])
    x_test, y_test, t_test, _ = _arrays(split.test, columns)
    scores = {n: np.asarray(m.predict_uplift(x_test), dtype=np.float64) for n, m in learners.items()}
    tested = {n: test_metrics(y_test, s, t_test, config.bootstrap, seed) for n, s in scores.items()}
    # Evidence gate: a ranking whose Qini on the newer test days may be 0 or worse is not acted on.
    trusted = tested[selection.best]["qini_low"] > 0
    chosen = selection.best if trusted or not fallback else STRUCTURED
    if hasattr(learners[chosen], "predict_outcomes"):
        # A model of both outcomes sizes its own effects, and its cross-validated size is its
        # evidence gate: with nothing borne out on held-out rows it is the constant log-odds shift.
        calibration = IDENTITY
    else:
        # Without the shift learner, an untrusted ranking falls back to the constant shift alone.
        p_control = control_out_of_sample(control, x, y, t, params, seed, config.cv_folds)
        calibration = fit_calibration(selection.out_of_fold[chosen], y, t, p, p_control, trusted)
    result = ActionResult(
        action,
        chosen,
        {"train": len(split.train), "test": len(split.test)},
        dict(selection.scores),
        tested,
        calibration,
        test_y=y_test,
        test_treatment=t_test,
        test_scores=scores,
        selected=selection.best,
    )
    if truth is not None:
        p_test = predicted(control, x_test)
        result.truth = truth_figures(split.test, scores[chosen], truth, calibration, p_test)
    log.info("%s", result.describe())
    return result, ActionModel(chosen, learners[chosen], control, columns, calibration)


def control_out_of_sample(
    control: lgb.LGBMClassifier,
    x: pd.DataFrame,
    y: np.ndarray,
    t: np.ndarray,
    params: dict,
    seed: int,
    folds: int,
) -> np.ndarray:
    """P(order | not treated) for every training row from a model that did not see it: `control`
    (fitted on the control rows) for treated rows, cross-fitted models for the control rows."""
    p = np.empty(len(x))
    treated = np.flatnonzero(t == 1)
    p[treated] = predicted(control, x.iloc[treated])
    rows = np.flatnonzero(t == 0)
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(rows, y[rows])
    for train, held in splits:
        model = classifier(params, seed).fit(x.iloc[rows[train]], y[rows[train]])
        p[rows[held]] = predicted(model, x.iloc[rows[held]])
    return p


def test_metrics(y: np.ndarray, uplift: np.ndarray, treatment: np.ndarray, n_boot: int, seed: int) -> dict:
    qini, low, high = bootstrap_interval(qini_score, y, uplift, treatment, n_boot=n_boot, seed=seed)
    return {
        "qini": qini,
        "qini_low": low,
        "qini_high": high,
        "auuc": auuc_score(y, uplift, treatment),
        "uplift_at_30": uplift_at_k(y, uplift, treatment, k=TOP_SHARE),
    }


def read_truth(ground_truth: Path) -> pd.DataFrame | None:
    path = ground_truth / "assignments.parquet"
    return pd.read_parquet(path) if path.exists() else None


def _arrays(
    frame: pd.DataFrame, columns: list[str]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    return (
        model_frame(frame, columns).reset_index(drop=True),
        frame["converted"].to_numpy(dtype=np.int64),
        frame["treated"].to_numpy(dtype=np.int64),
        frame["propensity"].to_numpy(dtype=np.float64),
    )


__all__ = ["ActionResult", "RuntimePaths", "fit_action", "problem_with", "read_truth", "split_action"]
