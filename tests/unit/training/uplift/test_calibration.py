"""Uplift calibration: the transformed outcome is unbiased, the fitted line shrinks noisy estimates."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.training.uplift.planted import planted_experiment
from training.uplift.calibration import (
    MAX_SHIFT,
    UpliftCalibration,
    fit_calibration,
    log_odds_shift,
    shifted,
    transformed_outcome,
)
from training.uplift.selection import select_learner


def test_transformed_outcome_averages_to_the_effect_under_unequal_assignment() -> None:
    rng = np.random.default_rng(0)
    n, e = 400_000, 0.8
    t = (rng.uniform(size=n) < e).astype(int)
    y = (rng.uniform(size=n) < np.where(t == 1, 0.30, 0.20)).astype(int)
    assert transformed_outcome(y, t, np.full(n, e)).mean() == pytest.approx(0.10, abs=0.01)
    # Without a known propensity the treated share stands in for it.
    assert transformed_outcome(y, t, None).mean() == pytest.approx(0.10, abs=0.01)


def test_pure_noise_estimates_get_slope_zero_and_the_average_effect() -> None:
    rng = np.random.default_rng(1)
    n = 50_000
    t = rng.integers(0, 2, n)
    y = (rng.uniform(size=n) < np.where(t == 1, 0.25, 0.20)).astype(int)
    calibration = fit_calibration(rng.normal(size=n), y, t, np.full(n, 0.5))
    assert calibration.slope == pytest.approx(0.0, abs=0.02)
    assert calibration(np.array([-3.0, 3.0])) == pytest.approx([0.05, 0.05], abs=0.02)


def test_the_slope_never_widens_estimates() -> None:
    rng = np.random.default_rng(2)
    n = 50_000
    effect = rng.uniform(0.0, 0.4, n)
    t = rng.integers(0, 2, n)
    y = (rng.uniform(size=n) < 0.2 + t * effect).astype(int)
    # Estimates squeezed to a tenth of the true spread would need slope 10; it stops at 1.
    assert fit_calibration(0.1 * effect, y, t, None).slope == 1.0


def test_calibration_shrinks_noisy_estimates_towards_the_true_effect() -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    effect = rng.uniform(0.0, 0.2, n)
    noisy = effect + rng.normal(0.0, 0.1, n)  # noise twice the effect's spread
    t = rng.integers(0, 2, n)
    y = (rng.uniform(size=n) < 0.2 + t * effect).astype(int)
    calibration = fit_calibration(noisy, y, t, np.full(n, 0.5))
    # var(effect) / (var(effect) + var(noise)) = (0.04 / 12) / (0.04 / 12 + 0.01) = 0.25
    assert calibration.slope == pytest.approx(0.25, abs=0.05)
    assert np.mean((calibration(noisy) - effect) ** 2) < 0.5 * np.mean((noisy - effect) ** 2)


def test_out_of_fold_estimates_of_a_real_learner_calibrate_to_a_shrinking_slope() -> None:
    X, y, t, effect = planted_experiment(6000, seed=3)
    selection = select_learner(X, y, t, 0.5, ["t"], folds=3, seed=0, params={"n_jobs": 1, "n_estimators": 60})
    calibration = fit_calibration(selection.out_of_fold["t"], y, t, np.full(len(y), 0.5))
    assert 0.5 < calibration.slope <= 1.0  # the planted effect is strong: little to shrink
    assert calibration(selection.out_of_fold["t"]).mean() == pytest.approx(effect.mean(), abs=0.03)


def test_mismatched_or_too_few_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="one out-of-fold estimate per row"):
        fit_calibration(np.zeros(3), np.zeros(4), np.array([0, 1, 0, 1]), None)
    assert UpliftCalibration()(np.array([0.1])) == pytest.approx([0.1])


def _log_odds_experiment(n: int, delta: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p_control, treatment, y): treatment moves every customer's log-odds of ordering by delta."""
    rng = np.random.default_rng(seed)
    p0 = rng.uniform(0.005, 0.6, n)
    t = rng.integers(0, 2, n)
    p = np.where(t == 1, shifted(p0, delta) + p0, p0)
    return p0, t, (rng.uniform(size=n) < p).astype(int)


def test_the_log_odds_shift_is_recovered_from_the_treated_arm() -> None:
    p0, t, y = _log_odds_experiment(200_000, 0.8, seed=2)
    assert log_odds_shift(p0[t == 1], y[t == 1]) == pytest.approx(0.8, abs=0.03)
    # Nobody (everybody) treated ordering is no estimate: the shift stops at its bound.
    assert log_odds_shift(p0[:100], np.zeros(100)) == -MAX_SHIFT
    assert log_odds_shift(p0[:100], np.ones(100)) == MAX_SHIFT


def test_without_signal_the_fallback_follows_the_log_odds_not_one_average() -> None:
    p0, t, y = _log_odds_experiment(200_000, 0.8, seed=3)
    rng = np.random.default_rng(4)
    calibration = fit_calibration(rng.normal(size=len(y)), y, t, np.full(len(y), 0.5), p0)
    assert calibration.slope == pytest.approx(0.0, abs=0.02)
    assert calibration.log_odds_shift == pytest.approx(0.8, abs=0.05)
    # A lost cause gains almost nothing; a customer on the fence gains most.
    lost, fence = calibration(np.zeros(2), np.array([0.005, 0.5]))
    assert lost == pytest.approx(shifted(np.array([0.005]), 0.8)[0], abs=0.01)
    assert fence == pytest.approx(shifted(np.array([0.5]), 0.8)[0], abs=0.01)
    assert fence > 10 * lost
    with pytest.raises(ValueError, match="P\\(order \\| not treated\\)"):
        calibration(np.zeros(2))


def test_a_ranking_without_evidence_gets_no_slope() -> None:
    rng = np.random.default_rng(5)
    n = 50_000
    p0, t = rng.uniform(0.05, 0.5, n), rng.integers(0, 2, n)
    movable = rng.integers(0, 2, n)  # only half respond: a ranking that knows who has signal
    y = (rng.uniform(size=n) < p0 + t * shifted(p0, 1.6 * movable)).astype(int)
    trusted = fit_calibration(movable, y, t, np.full(n, 0.5), p0)
    gated = fit_calibration(movable, y, t, np.full(n, 0.5), p0, ranks=False)
    assert trusted.slope > 0.05
    assert gated.slope == 0.0
    assert gated.log_odds_shift == trusted.log_odds_shift
