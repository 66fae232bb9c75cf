import numpy as np
import pandas as pd

from configs.schema import LightGBMParams, TuningConfig
from training.tuning import tune


def _planted(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"f{i}" for i in range(6)])
    logit = 1.5 * x["f0"] - x["f1"] * x["f2"]
    return x, pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int))


def test_search_returns_usable_parameters_and_prunes_within_budget() -> None:
    train, valid = _planted(3000, 1), _planted(1500, 2)
    # The budget under test is the trial count; the time limit is only a backstop (a loaded
    # 2-core machine took over 60 s for these six trials).
    best, study = tune(
        train, valid, LightGBMParams(n_jobs=1), TuningConfig(trials=6, timeout_s=900), 7, False
    )
    assert len(study.trials) == 6
    assert all(4 <= trial.params["max_depth"] <= 10 for trial in study.trials)
    assert study.best_value > 0.75  # the planted signal is found
    assert 10 <= best["n_estimators"] <= LightGBMParams().n_estimators
    assert set(study.best_params) <= set(best)
