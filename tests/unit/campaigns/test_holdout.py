from __future__ import annotations

import numpy as np
import pytest

from campaigns.holdout import HOLDOUT, TREATMENT, assign_arms, uniform_draws


def test_the_same_campaign_and_customers_always_split_the_same_way() -> None:
    ids = np.arange(1, 5001)
    first, p_first = assign_arms("welcome-2025-06-01", ids, 0.1)
    again, p_again = assign_arms("welcome-2025-06-01", ids[::-1], 0.1)
    assert (first == again[::-1]).all() and (p_first == p_again[::-1]).all()
    # A customer's arm does not depend on who else is in the audience.
    alone, _ = assign_arms("welcome-2025-06-01", ids[:10], 0.1)
    assert (alone == first[:10]).all()


def test_campaigns_split_independently() -> None:
    ids = np.arange(20_000)
    a, _ = assign_arms("campaign-a", ids, 0.5)
    b, _ = assign_arms("campaign-b", ids, 0.5)
    agreement = float((a == b).mean())
    assert abs(agreement - 0.5) < 0.02  # independent fair coins agree half the time


@pytest.mark.parametrize("share", [0.05, 0.1, 0.3])
def test_holdout_share_and_logged_probabilities(share: float) -> None:
    n = 40_000
    arm, probability = assign_arms("share-test", np.arange(n), share)
    held = arm == HOLDOUT
    assert set(arm) == {TREATMENT, HOLDOUT}
    # Binomial(n, share): within 4 standard deviations.
    assert abs(held.mean() - share) < 4 * np.sqrt(share * (1 - share) / n)
    assert np.allclose(probability[held], share) and np.allclose(probability[~held], 1 - share)


def test_draws_are_uniform() -> None:
    draws = uniform_draws("uniform", np.arange(50_000))
    assert draws.min() >= 0 and draws.max() < 1
    counts, _ = np.histogram(draws, bins=10, range=(0, 1))
    assert (abs(counts - 5000) < 4 * np.sqrt(5000 * 0.9)).all()


@pytest.mark.parametrize("share", [0.0, 1.0, -0.1, 1.5])
def test_a_share_outside_zero_one_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="holdout share"):
        assign_arms("x", np.arange(3), share)
