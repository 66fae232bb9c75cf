"""Uplift metrics on hand-computed examples, their validation and the bootstrap."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from training.uplift.metrics import (
    auuc_score,
    bootstrap_interval,
    qini_curve,
    qini_score,
    targeted_gain,
    uplift_at_k,
)

# Six rows already in score order: treated responder, treated non-responder, control responder, ...
Y = np.array([1, 0, 1, 0, 0, 1])
T = np.array([1, 1, 0, 0, 1, 0])
SCORES = np.array([6.0, 5, 4, 3, 2, 1])


def test_qini_curve_counts_incremental_responders_by_hand() -> None:
    fraction, gain = qini_curve(Y, SCORES, T)
    np.testing.assert_allclose(fraction, np.arange(7) / 6)
    # e.g. after 5 rows: 1 treated responder of 3 treated, 1 control responder of 2 -> 1 - 1 * 3/2.
    np.testing.assert_allclose(gain, [0, 1, 1, -1, 0, -0.5, -1])


def test_qini_curve_groups_tied_scores() -> None:
    fraction, gain = qini_curve(Y, np.array([2.0, 2, 2, 1, 1, 1]), T)
    np.testing.assert_allclose(fraction, [0, 0.5, 1])
    np.testing.assert_allclose(gain, [0, 1 - 1 * 2 / 1, -1])


def test_qini_score_of_the_perfect_ranking_is_one_and_of_its_reverse_by_hand() -> None:
    y, t = np.array([1, 0, 0, 1]), np.array([1, 1, 0, 0])
    assert qini_score(y, np.array([4.0, 3, 2, 1]), t) == pytest.approx(1.0)
    # Reversed: curve 0, 0, 0, -0.5, 0 (area -0.125) over the perfect area 0.75.
    assert qini_score(y, np.array([1.0, 2, 3, 4]), t) == pytest.approx(-1 / 6)


def test_perfect_rankings_score_one_for_both_coefficients() -> None:
    rng = np.random.default_rng(0)
    y, t = rng.integers(0, 2, 500), rng.integers(0, 2, 500)
    assert qini_score(y, y * t - y * (1 - t), t) == pytest.approx(1.0)
    summand = y if ((y == 1) & (t == 0)).sum() > ((y == 0) & (t == 1)).sum() else t
    assert auuc_score(y, 2 * (y == t) + summand, t) == pytest.approx(1.0)


def test_a_constant_score_is_the_random_line_and_random_scores_average_zero() -> None:
    rng = np.random.default_rng(1)
    y, t = rng.integers(0, 2, 2000), rng.integers(0, 2, 2000)
    assert qini_score(y, np.zeros(2000), t) == pytest.approx(0.0, abs=1e-12)
    assert auuc_score(y, np.zeros(2000), t) == pytest.approx(0.0, abs=1e-12)
    scores = [qini_score(y, rng.normal(size=2000), t) for _ in range(50)]
    assert abs(np.mean(scores)) < 0.02


def test_uplift_at_k_takes_the_top_of_everyone_then_compares_arms() -> None:
    y = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0])
    t = np.array([1, 0, 1, 1, 0, 1, 0, 0, 1, 0])
    scores = np.arange(10, 0, -1).astype(float)
    # Top 5: treated rows answer 1, 0, 1 (2/3), control rows 1, 0 (1/2).
    assert uplift_at_k(y, scores, t, k=0.5) == pytest.approx(2 / 3 - 1 / 2)
    # Top int(0.3 * 10) = 3: treated 1, 0 (1/2), control 1 (1).
    assert uplift_at_k(y, scores, t) == pytest.approx(-0.5)


def test_targeted_gain_counts_incremental_responders_where_the_score_is_positive() -> None:
    y = np.array([1, 1, 1, 0, 1, 0, 0, 0, 1, 1])
    t = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    scores = np.array([0.3, 0.2, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1, -0.1, 0.0])
    # Eight positive rows: treated 3 of 4 respond, control 1 of 4: 8 x (3/4 - 1/4). The two rows at
    # or below zero (control responders) are not contacted and do not count.
    assert targeted_gain(y, scores, t) == pytest.approx(4.0)
    assert targeted_gain(y, -scores - 1, t) == 0.0  # nobody contacted
    assert targeted_gain(y, np.where(t == 1, 1.0, -1.0), t) == 0.0  # no control row to compare with


@pytest.mark.parametrize(
    ("y", "scores", "t", "message"),
    [
        ([1, 0, 1], [0.1, 0.2], [1, 0, 1], "one length"),
        ([1, 2, 0], [0.1, 0.2, 0.3], [1, 0, 1], "y must hold only the values 0 and 1"),
        ([1, 0, 0], [0.1, 0.2, 0.3], [1, 1, 1], "both arms"),
        ([1, 0, 0], [0.1, np.nan, 0.3], [1, 0, 1], "finite"),
        ([[1, 0]], [[0.1, 0.2]], [[1, 0]], "one-dimensional"),
    ],
)
def test_invalid_inputs_are_named(y: list, scores: list, t: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        qini_score(np.array(y), np.array(scores), np.array(t))


def test_uplift_at_k_rejects_bad_k_and_a_top_with_one_arm() -> None:
    with pytest.raises(ValueError, match="k must be"):
        uplift_at_k(Y, SCORES, T, k=1.5)
    with pytest.raises(ValueError, match="both arms"):
        uplift_at_k(Y, SCORES, T, k=0.34)


def test_undefined_coefficient_without_responders() -> None:
    with pytest.raises(ValueError, match="undefined"):
        qini_score(np.zeros(4, dtype=int), np.arange(4.0), np.array([0, 1, 0, 1]))


def test_bootstrap_interval_holds_the_point_and_is_fixed_by_seed() -> None:
    rng = np.random.default_rng(2)
    t = rng.integers(0, 2, 3000)
    x = rng.normal(size=3000)
    y = (rng.uniform(size=3000) < 0.2 + 0.1 * t * (x > 0)).astype(int)
    metric = partial(uplift_at_k, k=0.3)
    point, low, high = bootstrap_interval(metric, y, x, t, n_boot=100, seed=3)
    assert point == pytest.approx(metric(y, x, t))
    assert low < point < high
    assert bootstrap_interval(metric, y, x, t, n_boot=100, seed=3) == (point, low, high)
    assert bootstrap_interval(metric, y, x, t, n_boot=100, seed=4) != (point, low, high)
    narrow = bootstrap_interval(qini_score, y, x, t, n_boot=100, level=0.5, seed=3)
    wide = bootstrap_interval(qini_score, y, x, t, n_boot=100, level=0.95, seed=3)
    assert wide[1] <= narrow[1] <= narrow[2] <= wide[2]


def test_bootstrap_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_interval(qini_score, Y, SCORES, T, n_boot=0)
    with pytest.raises(ValueError, match="level"):
        bootstrap_interval(qini_score, Y, SCORES, T, level=1.0)
