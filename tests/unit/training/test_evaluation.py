"""Evaluation metrics on cases small enough to check by hand, and on synthetic probabilities."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, log_loss

from training.evaluation import (
    Evaluation,
    binary_metrics,
    calibration_bins,
    calibration_error,
    evaluate,
    gain_table,
    margin_over,
    oracle_gap,
    precision_at,
    sample_size_warning,
    segment_metrics,
)


def _ranked(positive_ranks: list[int], n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Scores falling with rank (rank 0 scores highest); labels 1 at the given ranks."""
    scores = np.linspace(0.99, 0.01, n)
    y = np.zeros(n, dtype=int)
    y[positive_ranks] = 1
    return y, scores


@pytest.fixture(scope="module")
def synthetic() -> tuple[np.ndarray, np.ndarray]:
    """True probabilities and labels drawn from them: perfectly calibrated by construction."""
    rng = np.random.default_rng(7)
    truth = rng.beta(1.0, 4.0, 40_000)
    return (rng.random(truth.size) < truth).astype(int), truth


def test_perfect_ranking_scores_one_and_reversed_ranking_zero() -> None:
    y, scores = _ranked(list(range(10)))
    assert binary_metrics(y, scores)["roc_auc"] == 1.0
    assert binary_metrics(y, scores)["pr_auc"] == pytest.approx(1.0)
    assert binary_metrics(y, 1 - scores)["roc_auc"] == 0.0


def test_precision_and_lift_at_top_percent_on_a_known_arrangement() -> None:
    # 10 positives in 100 rows (base rate 0.1): ranks 0, 2, 4, 6, 8 in the top 10, the rest low.
    y, scores = _ranked([0, 2, 4, 6, 8, 50, 60, 70, 80, 90])
    metrics = binary_metrics(y, scores)
    assert metrics["base_rate"] == pytest.approx(0.1)
    assert metrics["precision_at_1pct_score"] == pytest.approx(1.0)  # top row is positive
    assert metrics["precision_at_5pct_score"] == pytest.approx(3 / 5)
    assert metrics["precision_at_10pct_score"] == pytest.approx(5 / 10)
    assert metrics["lift_at_1pct_score"] == pytest.approx(10.0)
    assert metrics["lift_at_5pct_score"] == pytest.approx(6.0)
    assert metrics["lift_at_10pct_score"] == pytest.approx(5.0)


def test_ties_at_the_cut_off_are_shared_not_decided_by_row_order() -> None:
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])  # positives first: row order would flatter
    flat = np.full(10, 0.3)
    assert precision_at(y, flat, 0.1) == pytest.approx(0.3)
    assert binary_metrics(y, flat)["lift_at_10pct_score"] == pytest.approx(1.0)
    # Two rows above the cut, then 2 of 4 slots filled from 4 tied rows holding 1 positive.
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0])
    scores = np.array([0.9, 0.8, 0.5, 0.5, 0.5, 0.5, 0.1, 0.1])
    assert precision_at(y, scores, 0.5) == pytest.approx((1 + 2 * 0.25) / 4)


def test_metrics_carry_the_class_counts() -> None:
    y, scores = _ranked([0, 2, 4, 6, 8, 50, 60, 70, 80, 90])
    metrics = binary_metrics(y, scores)
    assert (metrics["positives"], metrics["negatives"]) == (10.0, 90.0)


def test_a_class_below_the_minimum_is_flagged_in_plain_words() -> None:
    y, scores = _ranked([0, 2, 4, 6, 8, 50, 60, 70, 80, 90])
    assert evaluate(y, scores).warnings == ()  # no minimum asked for
    assert evaluate(y, scores, min_class_rows=10).warnings == ()  # 10 positives: just enough
    (warning,) = evaluate(y, scores, min_class_rows=11).warnings
    assert "too small to trust" in warning and "10 positives and 90 negatives" in warning
    assert sample_size_warning(1 - y, 11) is not None  # too few negatives counts as well
    with pytest.raises(ValueError, match="min_class_rows"):
        sample_size_warning(y, -1)


def test_losses_equal_sklearns(synthetic: tuple[np.ndarray, np.ndarray]) -> None:
    y, scores = synthetic
    metrics = binary_metrics(y, scores)
    assert metrics["brier_loss"] == pytest.approx(brier_score_loss(y, scores))
    assert metrics["log_loss"] == pytest.approx(log_loss(y, scores))


def test_calibration_error_near_zero_when_calibrated_and_large_when_not(
    synthetic: tuple[np.ndarray, np.ndarray],
) -> None:
    y, truth = synthetic
    assert binary_metrics(y, truth)["calibration_error_loss"] < 0.01
    overconfident = np.sqrt(truth)  # same ranking, probabilities far too high
    assert binary_metrics(y, overconfident)["calibration_error_loss"] > 0.15
    assert binary_metrics(y, overconfident)["roc_auc"] == pytest.approx(binary_metrics(y, truth)["roc_auc"])


def test_calibration_error_by_hand_on_two_equal_frequency_bins() -> None:
    scores = np.array([0.1] * 10 + [0.9] * 10)
    y = np.array([1, 1] + [0] * 8 + [1] * 8 + [0, 0])  # rates 0.2 and 0.8 against 0.1 and 0.9
    assert calibration_error(y, scores, bins=2) == pytest.approx(0.5 * 0.1 + 0.5 * 0.1)
    table = calibration_bins(y, scores, bins=2)
    assert table["n"].tolist() == [10, 10]
    assert table["rate"].tolist() == pytest.approx([0.2, 0.8])


def test_gain_table_sums_and_orders_deciles_from_the_top() -> None:
    y, scores = _ranked(list(range(10)))
    gains = gain_table(y, scores)
    assert gains["decile"].tolist() == list(range(1, 11))
    assert gains["customers"].sum() == 100
    assert gains["positives"].sum() == 10
    assert gains["positives"].tolist() == [10] + [0] * 9
    assert gains.loc[0, "lift"] == pytest.approx(10.0)
    assert gains["cumulative_gain_share"].tolist() == pytest.approx([1.0] * 10)
    assert gains["mean_score"].is_monotonic_decreasing


def test_gain_table_of_an_informative_score(synthetic: tuple[np.ndarray, np.ndarray]) -> None:
    y, scores = synthetic
    gains = gain_table(y, scores, bins=5)
    assert len(gains) == 5
    assert gains["customers"].sum() == len(y)
    assert gains["positives"].sum() == y.sum()
    assert gains["rate"].is_monotonic_decreasing
    assert gains["cumulative_gain_share"].is_monotonic_increasing
    assert gains["cumulative_gain_share"].iloc[-1] == pytest.approx(1.0)
    weighted_lift = (gains["lift"] * gains["customers"]).sum() / gains["customers"].sum()
    assert weighted_lift == pytest.approx(1.0)


def test_segment_metrics_per_value_with_nan_auc_for_single_class_segments() -> None:
    y = np.array([1, 0, 1, 0, 0, 0, 1, 0])
    scores = np.array([0.9, 0.1, 0.8, 0.2, 0.3, 0.4, 0.7, 0.6])
    # A shuffled index: rows must match by position, as the arrays do.
    segments = pd.Series(["a", "a", "a", "a", "b", "b", None, None], index=[7, 6, 5, 4, 3, 2, 1, 0])
    table = segment_metrics(y, scores, segments).set_index("segment")
    assert table.loc["a", "n"] == 4
    assert table.loc["a", "base_rate"] == pytest.approx(0.5)
    assert table.loc["a", "roc_auc"] == 1.0
    assert table.loc["a", "mean_score"] == pytest.approx(0.5)
    assert np.isnan(table.loc["b", "roc_auc"])  # only negatives
    assert table["n"].sum() == 8  # missing segment values kept as their own row


def test_oracle_gap_and_margins() -> None:
    model = {"roc_auc": 0.76, "pr_auc": 0.30, "brier_loss": 0.10}
    oracle = {"roc_auc": 0.80, "pr_auc": 0.40, "brier_loss": 0.09}
    gap = oracle_gap(model, oracle)
    assert gap["roc_auc_share_of_oracle"] == pytest.approx(0.95)
    assert gap["roc_auc_gap_to_oracle_loss"] == pytest.approx(0.04)
    assert gap["pr_auc_share_of_oracle"] == pytest.approx(0.75)
    assert gap["brier_excess_over_oracle_loss"] == pytest.approx(0.01)
    baselines = {"rfm_rule": {"roc_auc": 0.70, "pr_auc": 0.2}, "logistic": {"roc_auc": 0.74, "pr_auc": 0.3}}
    assert margin_over(model, baselines) == pytest.approx({"rfm_rule": 0.06, "logistic": 0.02})
    assert margin_over(model, baselines, "pr_auc") == pytest.approx({"rfm_rule": 0.1, "logistic": 0.0})


def test_evaluate_bundles_metrics_gains_and_segments() -> None:
    y, scores = _ranked([0, 2, 4, 6, 8, 50, 60, 70, 80, 90])
    plain = evaluate(y, scores)
    assert plain.segments is None
    assert plain.metrics == binary_metrics(y, scores)
    assert len(plain.gains) == 10
    with_segments = evaluate(pd.Series(y), pd.Series(scores), pd.Series(np.arange(100) % 2))
    assert isinstance(with_segments, Evaluation)
    assert with_segments.segments is not None
    assert with_segments.segments["n"].tolist() == [50, 50]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plain.metrics = {}  # type: ignore[misc]


def test_every_metric_key_is_named_for_its_direction() -> None:
    metrics = binary_metrics(*_ranked([0, 5, 50]))
    # AUCs keep the names logged since the first runs; rates and class counts have no direction.
    undirected = {"roc_auc", "pr_auc", "base_rate", "positives", "negatives"}
    assert all(k.endswith(("_score", "_loss")) for k in metrics.keys() - undirected)
    assert all(np.isfinite(v) for v in metrics.values())


@pytest.mark.parametrize(
    ("y_true", "scores", "argument"),
    [
        ([0, 1, 1], [0.1, 0.2], "scores"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "y_true"),
        (["no", "yes"], [0.1, 0.2], "y_true"),
        ([1, 1, 1], [0.1, 0.2, 0.3], "y_true"),
        ([0, 1, np.nan], [0.1, 0.2, 0.3], "y_true"),
        ([], [], "y_true"),
        ([0, 1, 1], [0.1, np.nan, 0.3], "scores"),
        ([0, 1, 1], [0.1, 1.2, 0.3], "scores"),
        ([0, 1, 1], [-0.1, 0.2, 0.3], "scores"),
    ],
)
def test_invalid_inputs_raise_naming_the_argument(y_true: list, scores: list, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        binary_metrics(y_true, scores)


def test_invalid_options_raise_naming_the_option() -> None:
    y, scores = _ranked([0, 5, 50])
    with pytest.raises(ValueError, match="segments"):
        segment_metrics(y, scores, pd.Series(["a", "b"]))
    with pytest.raises(ValueError, match="bins"):
        gain_table(y, scores, bins=0)
    with pytest.raises(ValueError, match="bins"):
        calibration_error(y, scores, bins=101)
    with pytest.raises(ValueError, match="fraction"):
        precision_at(y, scores, 0.0)
    with pytest.raises(ValueError, match="metric must be one of"):
        margin_over({"roc_auc": 0.7}, {"rule": {"roc_auc": 0.6}}, metric="auc")
    with pytest.raises(ValueError, match="oracle"):
        oracle_gap({"roc_auc": 0.7, "pr_auc": 0.2, "brier_loss": 0.1}, {"roc_auc": 0.8})
