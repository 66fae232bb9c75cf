from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from campaigns.inference import proportion_difference, welch_difference


def test_difference_of_proportions_on_a_hand_example() -> None:
    # 60 of 200 treated vs 40 of 200 held out: d = 0.1,
    # se = sqrt(0.3 * 0.7 / 200 + 0.2 * 0.8 / 200) = sqrt(0.00185) = 0.0430116.
    got = proportion_difference(60, 200, 40, 200)
    se = math.sqrt(0.00185)
    assert got.estimate == pytest.approx(0.1)
    assert got.low == pytest.approx(0.1 - 1.959964 * se, abs=1e-6)
    assert got.high == pytest.approx(0.1 + 1.959964 * se, abs=1e-6)
    assert (got.low, got.high) == pytest.approx((0.015698, 0.184302), abs=1e-6)
    assert got.excludes_zero()
    # Incremental conversions: the rate difference for each of the 200 treated.
    assert got.scaled(200).estimate == pytest.approx(20.0)


def test_narrower_at_a_lower_level() -> None:
    wide, narrow = proportion_difference(30, 100, 20, 100), proportion_difference(30, 100, 20, 100, 0.8)
    assert wide.low < narrow.low < narrow.high < wide.high


def test_welch_interval_matches_the_textbook_computation() -> None:
    treated = np.array([0.0, 0.0, 12.0, 30.0, 0.0, 45.0, 0.0, 8.0])
    control = np.array([0.0, 10.0, 0.0, 0.0, 5.0])
    got = welch_difference(treated, control)
    va, vb = treated.var(ddof=1) / 8, control.var(ddof=1) / 5
    df = (va + vb) ** 2 / (va**2 / 7 + vb**2 / 4)
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    assert got.estimate == pytest.approx(treated.mean() - control.mean())
    assert (got.low, got.high) == pytest.approx((got.estimate - half, got.estimate + half))
    reference = stats.ttest_ind(treated, control, equal_var=False).confidence_interval(0.95)
    assert (got.low, got.high) == pytest.approx((reference.low, reference.high))


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="both arms"):
        proportion_difference(1, 10, 0, 0)
    with pytest.raises(ValueError, match="holdout: conversions"):
        proportion_difference(1, 10, 11, 10)
    with pytest.raises(ValueError, match="two values per arm"):
        welch_difference([1.0], [1.0, 2.0])
