"""Serving predicts on one thread: every LightGBM model nested in a loaded model set is reached."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from serving.models import single_threaded
from tests.unit.training.uplift.planted import planted_experiment
from training.uplift.learners import make_learner


def test_every_nested_lightgbm_model_is_set_to_one_thread() -> None:
    X, y, t, _ = planted_experiment(600, seed=1)
    learner = make_learner("x", {"n_jobs": 2, "n_estimators": 10}, seed=0).fit(
        X, y, treatment=t, propensity=0.5
    )
    before = learner.predict_uplift(X)
    loose = lgb.LGBMClassifier(n_jobs=2, n_estimators=5)
    bundle = {"nested": [learner, (loose,)], "again": learner}  # shared objects are visited once
    single_threaded(bundle)
    found = [m for m in vars(learner).values() if isinstance(m, lgb.LGBMModel)]
    assert found and all(m.get_params()["n_jobs"] == 1 for m in [*found, loose])
    np.testing.assert_allclose(learner.predict_uplift(X), before)
