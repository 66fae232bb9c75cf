"""The evidence gate of one action's uplift model: what serves when the chosen ranking is not borne out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from configs.schema import LightGBMParams, UpliftConfig
from training.uplift import trainer
from training.uplift.calibration import IDENTITY
from training.uplift.learners import LogOddsShiftLearner, TLearner
from training.uplift.selection import Selection

COLUMNS = ["x1", "x2"]


def no_effect_split(n: int = 3000, seed: int = 3) -> trainer.ActionSplit:
    """Assignments whose treatment changes nothing: no ranking can be borne out on the test days."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "treated": rng.integers(0, 2, n),
            "propensity": 0.5,
            "converted": (rng.uniform(size=n) < 1 / (1 + np.exp(1.0 - 0.8 * x2))).astype(int),
            "event_timestamp": pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(n) % 40, unit="D"),
        }
    )
    return trainer.split_action(frame, test_share=0.25)


def fit(monkeypatch: pytest.MonkeyPatch, learners: tuple[str, ...]) -> tuple:
    # Cross-validation is bypassed: it chose the T-learner, whatever the data say.
    def chose_t(x: pd.DataFrame, *args: object, **kwargs: object) -> Selection:
        zeros = {name: np.zeros(len(x)) for name in learners}
        return Selection("t", dict.fromkeys(learners, 0.01), dict.fromkeys(learners, 0.0), {}, zeros)

    monkeypatch.setattr(trainer, "select_learner", chose_t)
    config = UpliftConfig(
        learners=learners,  # type: ignore[arg-type]
        baselines=(),
        bootstrap=50,
        lightgbm=LightGBMParams(n_estimators=40, num_leaves=7, min_child_samples=100, n_jobs=1),
    )
    return trainer.fit_action("welcome_coupon", no_effect_split(), COLUMNS, config, seed=0, truth=None)


def test_an_untrusted_ranking_gives_way_to_the_log_odds_shift_learner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result, model = fit(monkeypatch, ("t", "shift"))
    assert result.test["t"]["qini_low"] <= 0
    assert (result.selected, result.learner, model.learner_name) == ("t", "shift", "shift")
    assert isinstance(model.learner, LogOddsShiftLearner)
    assert model.calibration == IDENTITY
    assert "in place of t" in result.describe()
    # With no effect to find, the shift learner's estimates stay near the (zero) average effect.
    uplift, p_control = model.predict(pd.DataFrame({"x1": [0.0, 1.0], "x2": [-1.0, 1.0]}))
    assert np.abs(uplift).max() < 0.1
    assert ((p_control > 0) & (p_control < 1)).all()


def test_without_the_shift_learner_an_untrusted_ranking_falls_back_to_the_constant_shift(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result, model = fit(monkeypatch, ("t",))
    assert (result.selected, result.learner) == ("t", "t")
    assert isinstance(model.learner, TLearner)
    assert model.calibration.slope == 0
    assert "ranking not used" in result.describe()
