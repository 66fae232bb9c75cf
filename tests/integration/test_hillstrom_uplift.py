"""A learner trained on half of the real Hillstrom experiment targets the other half better than chance."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.uplift.hillstrom import FILENAME, PROPENSITY, read_hillstrom, split_half, uplift_task
from training.uplift.learners import make_learner
from training.uplift.metrics import qini_score, uplift_at_k

HILLSTROM = Path(__file__).resolve().parents[3] / "shared" / "data" / "hillstrom" / FILENAME


@pytest.mark.integration
@pytest.mark.skipif(not HILLSTROM.exists(), reason=f"{HILLSTROM} is absent (expected ../shared/data)")
def test_womens_email_uplift_on_the_test_half() -> None:
    train, test = split_half(uplift_task(read_hillstrom(HILLSTROM), "womens"))
    learner = make_learner("s", {"n_jobs": 1, "num_leaves": 4, "min_child_samples": 400}, seed=42)
    learner.fit(train.X, train.y, treatment=train.treatment, propensity=PROPENSITY)
    uplift = learner.predict_uplift(test.X)
    assert uplift_at_k(test.y, uplift, test.treatment, k=0.3) > 0
    assert qini_score(test.y, uplift, test.treatment) > 0
