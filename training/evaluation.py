"""Evaluation of binary scores on a test set: ranking, probability quality, targeting and segments.

Pure functions on arrays, so the trainer, the report and notebooks judge models the same way.
Metric keys follow the repository convention where the direction is not obvious: `*_loss` is
lower-is-better, `*_score` higher-is-better; `roc_auc` and `pr_auc` keep the names the MLflow runs
and integration tests already use (`test_roc_auc`, `rfm_rule_roc_auc`); `base_rate` and the class
counts `positives` / `negatives` have no direction. The counts say how far to trust the rest: with
a few dozen positives, ROC-AUC moves by several hundredths from one sample to the next.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

TOP_PERCENTS = (1, 5, 10)
CALIBRATION_BINS = 10
GAIN_COLUMNS = ("decile", "customers", "positives", "mean_score", "rate", "lift", "cumulative_gain_share")
SEGMENT_COLUMNS = ("segment", "n", "base_rate", "roc_auc", "mean_score")


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]
    gains: pd.DataFrame
    segments: pd.DataFrame | None = None
    # Plain-language reasons not to trust the metrics (a test set too small, say).
    warnings: tuple[str, ...] = ()


def evaluate(
    y_true: ArrayLike, scores: ArrayLike, segments: pd.Series | None = None, min_class_rows: int = 0
) -> Evaluation:
    """Metrics, the decile gain table, (when segments are given) per-segment metrics, and a warning
    when either class has fewer than `min_class_rows` rows."""
    y, s = check_inputs(y_true, scores)
    by_segment = None if segments is None else segment_metrics(y, s, segments)
    warning = sample_size_warning(y, min_class_rows)
    return Evaluation(
        binary_metrics(y, s), gain_table(y, s, min(10, len(y))), by_segment, (warning,) if warning else ()
    )


def sample_size_warning(y_true: ArrayLike, min_class_rows: int) -> str | None:
    """A sentence saying the sample is too small to trust when either class has fewer than
    `min_class_rows` rows; None when both have enough."""
    if min_class_rows < 0:
        raise ValueError(f"min_class_rows must be >= 0; got {min_class_rows}")
    y = np.asarray(y_true)
    positives, negatives = int((y == 1).sum()), int((y == 0).sum())
    if min(positives, negatives) >= min_class_rows:
        return None
    return (
        f"test set too small to trust: {positives} positives and {negatives} negatives, fewer than "
        f"{min_class_rows} in a class; ROC-AUC, precision and lift can be far from their true values"
    )


def binary_metrics(y_true: ArrayLike, scores: ArrayLike) -> dict[str, float]:
    """Ranking (ROC-AUC, PR-AUC as average precision), probability quality (log loss, Brier,
    expected calibration error), top-k% targeting (precision and lift over the base rate) and the
    class counts they rest on."""
    y, s = check_inputs(y_true, scores)
    base_rate = float(y.mean())
    metrics = {
        "roc_auc": float(roc_auc_score(y, s)),
        "pr_auc": float(average_precision_score(y, s)),
        "log_loss": float(log_loss(y, s, labels=[0, 1])),
        "brier_loss": float(brier_score_loss(y, s)),
        "calibration_error_loss": calibration_error(y, s, min(CALIBRATION_BINS, len(y))),
        "base_rate": base_rate,
        "positives": float(y.sum()),
        "negatives": float(len(y) - y.sum()),
    }
    for percent in TOP_PERCENTS:
        precision = precision_at(y, s, percent / 100)
        metrics[f"precision_at_{percent}pct_score"] = precision
        metrics[f"lift_at_{percent}pct_score"] = precision / base_rate
    return metrics


def calibration_error(y_true: ArrayLike, scores: ArrayLike, bins: int = CALIBRATION_BINS) -> float:
    """Expected calibration error over equal-frequency bins (see `calibration_bins`):

        ECE = sum over bins b of (n_b / n) * |mean(y in b) - mean(score in b)|

    0 means perfectly calibrated; a finite sample of perfectly calibrated scores still gives a
    small positive value (sampling noise of each bin's positive rate)."""
    table = calibration_bins(y_true, scores, bins)
    gaps = table["n"] * (table["rate"] - table["mean_score"]).abs()
    return float(gaps.sum() / table["n"].sum())


def calibration_bins(y_true: ArrayLike, scores: ArrayLike, bins: int = CALIBRATION_BINS) -> pd.DataFrame:
    """Reliability table, lowest scores first: rows, mean score and observed positive rate per bin.

    Rows are sorted by score and cut into `bins` groups of (nearly) equal size, so every bin holds
    enough rows to estimate its rate even when scores crowd near 0, as churn scores do; equal-width
    bins would leave the top bins nearly empty. Tied scores on a bin edge fall by row order."""
    y, s = check_inputs(y_true, scores)
    _check_bins(bins, len(y))
    groups = np.array_split(np.argsort(s, kind="stable"), bins)
    return pd.DataFrame(
        {
            "n": [len(g) for g in groups],
            "mean_score": [float(s[g].mean()) for g in groups],
            "rate": [float(y[g].mean()) for g in groups],
        }
    )


def precision_at(y_true: ArrayLike, scores: ArrayLike, fraction: float) -> float:
    """Positive rate among the top `fraction` of rows by score (at least one row).

    Ties at the cut-off are shared pro rata instead of by row order, so a scorer with coarse
    scores (a rule, a constant) gets its expected precision under random tie-breaking."""
    y, s = check_inputs(y_true, scores)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1]; got {fraction}")
    k = max(1, int(np.ceil(fraction * len(y))))
    threshold = np.sort(s)[::-1][k - 1]
    above, tied = s > threshold, s == threshold
    hits = y[above].sum() + (k - above.sum()) * y[tied].mean()
    return float(hits / k)


def gain_table(y_true: ArrayLike, scores: ArrayLike, bins: int = 10) -> pd.DataFrame:
    """One row per score bin, 1 = highest scores: customers, positives, mean score, positive rate,
    lift over the base rate and the cumulative share of all positives captured down to that bin.

    Bins are equal-size by rank; tied scores on a bin edge fall by row order."""
    y, s = check_inputs(y_true, scores)
    _check_bins(bins, len(y))
    order = np.argsort(-s, kind="stable")
    groups = np.array_split(order, bins)
    customers = np.array([len(g) for g in groups])
    positives = np.array([int(y[g].sum()) for g in groups])
    rate = positives / customers
    return pd.DataFrame(
        {
            "decile": np.arange(1, bins + 1),
            "customers": customers,
            "positives": positives,
            "mean_score": [float(s[g].mean()) for g in groups],
            "rate": rate,
            "lift": rate / y.mean(),
            "cumulative_gain_share": np.cumsum(positives) / y.sum(),
        },
        columns=list(GAIN_COLUMNS),
    )


def segment_metrics(y_true: ArrayLike, scores: ArrayLike, segments: pd.Series) -> pd.DataFrame:
    """Per segment value (missing values form their own segment): rows, base rate, ROC-AUC (NaN
    where the segment has a single class) and mean score. Rows align by position, not index."""
    y, s = check_inputs(y_true, scores)
    if len(segments) != len(y):
        raise ValueError(f"segments has length {len(segments)} but y_true has length {len(y)}")
    frame = pd.DataFrame({"segment": segments.to_numpy(), "y": y, "s": s})
    rows = [
        {
            "segment": value,
            "n": len(group),
            "base_rate": float(group["y"].mean()),
            "roc_auc": _auc_or_nan(group["y"].to_numpy(), group["s"].to_numpy()),
            "mean_score": float(group["s"].mean()),
        }
        for value, group in frame.groupby("segment", dropna=False, sort=True)
    ]
    return pd.DataFrame(rows, columns=list(SEGMENT_COLUMNS))


def oracle_gap(model: dict[str, float], oracle: dict[str, float]) -> dict[str, float]:
    """How close the model comes to the true probabilities (known only on simulated data).

    `roc_auc_share_of_oracle` = model ROC-AUC / oracle ROC-AUC (the goal is >= 0.95); the gap and
    the Brier excess give the same distance in absolute terms."""
    for name, metrics in (("model", model), ("oracle", oracle)):
        missing = {"roc_auc", "pr_auc", "brier_loss"} - metrics.keys()
        if missing:
            raise ValueError(f"{name} metrics lack {sorted(missing)}; pass binary_metrics() output")
    return {
        "roc_auc_share_of_oracle": _ratio(model["roc_auc"], oracle["roc_auc"]),
        "roc_auc_gap_to_oracle_loss": oracle["roc_auc"] - model["roc_auc"],
        "pr_auc_share_of_oracle": _ratio(model["pr_auc"], oracle["pr_auc"]),
        "brier_excess_over_oracle_loss": model["brier_loss"] - oracle["brier_loss"],
    }


def margin_over(
    model: dict[str, float], baselines: dict[str, dict[str, float]], metric: str = "roc_auc"
) -> dict[str, float]:
    """Per baseline name, model metric minus baseline metric (positive = model better for scores;
    for a `*_loss` metric a negative margin means the model is better)."""
    shared = set(model).intersection(*baselines.values())
    if metric not in shared:
        raise ValueError(
            f"metric must be one of {sorted(shared)} (present for model and every baseline); got {metric!r}"
        )
    return {name: model[metric] - metrics[metric] for name, metrics in baselines.items()}


def check_inputs(y_true: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Labels as int 0/1 and scores as float, or a ValueError naming the offending argument."""
    y, s = np.asarray(y_true), np.asarray(scores)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"y_true must be a non-empty 1-D array; got shape {y.shape}")
    if s.shape != y.shape:
        raise ValueError(f"scores must have the same length as y_true ({len(y)}); got shape {s.shape}")
    outside = y[~np.isin(y, (0, 1))] if y.dtype.kind in "biuf" else y
    if len(outside):
        raise ValueError(f"y_true must hold only the values {{0, 1}}; got {pd.unique(outside)[:5].tolist()}")
    if np.unique(y).size < 2:
        raise ValueError("y_true must contain both classes {0, 1}; got a single class")
    if s.dtype.kind not in "iuf" or not np.isfinite(s).all() or s.min() < 0 or s.max() > 1:
        raise ValueError("scores must be finite probabilities in [0, 1]")
    return y.astype(np.int64), s.astype(np.float64)


def _check_bins(bins: int, rows: int) -> None:
    if not 1 <= bins <= rows:
        raise ValueError(f"bins must be between 1 and the number of rows ({rows}); got {bins}")


def _auc_or_nan(y: np.ndarray, s: np.ndarray) -> float:
    return float(roc_auc_score(y, s)) if np.unique(y).size == 2 else float("nan")


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")
