from __future__ import annotations

import pytest

from campaigns.power import minimum_detectable_effect


def test_mde_matches_the_two_proportion_formula_by_hand() -> None:
    # (z_0.975 + z_0.8) * sqrt(p (1-p) (1/n_t + 1/n_c)) = (1.959964 + 0.841621) * sqrt(0.09 * 0.002)
    assert minimum_detectable_effect(0.10, 1000, 1000) == pytest.approx(0.037587, abs=1e-6)
    # A 10% holdout of 10,000 at a 5% baseline: the small arm limits the test.
    assert minimum_detectable_effect(0.05, 9000, 1000) == pytest.approx(0.020353, abs=1e-6)


def test_mde_agrees_with_lehrs_rule_of_sixteen() -> None:
    # Lehr: n per arm = 16 p (1 - p) / delta^2 for alpha 0.05, power 0.8 (2 * 2.8^2 = 15.7 ~ 16).
    p, delta = 0.2, 0.05
    n = round(16 * p * (1 - p) / delta**2)
    assert minimum_detectable_effect(p, n, n) == pytest.approx(delta, rel=0.02)


def test_mde_shrinks_with_size_and_is_none_without_both_arms() -> None:
    small = minimum_detectable_effect(0.1, 1000, 1000)
    assert small is not None
    assert minimum_detectable_effect(0.1, 4000, 4000) == pytest.approx(small / 2)
    assert minimum_detectable_effect(0.1, 500, 0) is None
    assert minimum_detectable_effect(0.1, 0, 500) is None


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="baseline"):
        minimum_detectable_effect(1.5, 10, 10)
    with pytest.raises(ValueError, match="alpha and power"):
        minimum_detectable_effect(0.1, 10, 10, power=1.0)
