"""Every meta-learner recovers a planted effect's sign and ranking, beats random targeting and pickles."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from scipy.stats import spearmanr

from tests.unit.training.uplift.planted import planted_experiment
from training.uplift.boosting import lgbm_params
from training.uplift.learners import (
    LEARNERS,
    ClassTransformation,
    LogOddsShiftLearner,
    UpliftLearner,
    XLearner,
    make_learner,
)
from training.uplift.metrics import qini_score

# One thread: the suite shares two cores, and OpenMP threads that wait on each other crawl.
FAST = {"n_jobs": 1}
CASES = [(name, None) for name in LEARNERS] + [(name, 0.5) for name in ("x", "dr", "class_transformation")]


@pytest.fixture(scope="module")
def experiment() -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    return planted_experiment(6000, seed=0)


@pytest.fixture(scope="module")
def holdout() -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    return planted_experiment(4000, seed=1)


@pytest.fixture(scope="module")
def fitted(experiment: tuple) -> dict[tuple[str, float | None], UpliftLearner]:
    X, y, t, _ = experiment
    return {
        case: make_learner(case[0], FAST, seed=0).fit(X, y, treatment=t, propensity=case[1]) for case in CASES
    }


@pytest.mark.parametrize("case", CASES, ids=[f"{name}-{p}" for name, p in CASES])
def test_learner_recovers_sign_and_ranking_of_the_planted_effect(
    case: tuple[str, float | None], fitted: dict, holdout: tuple
) -> None:
    X, y, t, effect = holdout
    uplift = fitted[case].predict_uplift(X)
    assert uplift.shape == (len(X),)
    # Effect sizes on the halves are about +0.15 and -0.12: a sign flip cannot pass by noise.
    assert uplift[X["x1"] > 0].mean() > 0.05
    assert uplift[X["x1"] < 0].mean() < -0.03
    assert spearmanr(uplift, effect).statistic > 0.6
    # A random ranking scores 0 +- 0.015 here; the true effect about 0.17.
    assert qini_score(y, uplift, t) > 0.5 * qini_score(y, effect, t)


@pytest.mark.parametrize("name", list(LEARNERS))
def test_pickled_learner_predicts_identically(name: str, fitted: dict, holdout: tuple) -> None:
    X = holdout[0].head(500)
    restored = pickle.loads(pickle.dumps(fitted[(name, None)]))
    np.testing.assert_array_equal(restored.predict_uplift(X), fitted[(name, None)].predict_uplift(X))


def test_fits_are_deterministic_by_seed(experiment: tuple, holdout: tuple) -> None:
    X, y, t, _ = experiment
    first = make_learner("dr", FAST, seed=3).fit(X, y, treatment=t).predict_uplift(holdout[0])
    second = make_learner("dr", FAST, seed=3).fit(X, y, treatment=t).predict_uplift(holdout[0])
    np.testing.assert_array_equal(first, second)


def test_unseen_categories_and_missing_values_are_scored(fitted: dict, holdout: tuple) -> None:
    X = holdout[0].head(3).copy()
    X["channel"] = pd.Categorical(["kiosk", None, "web"])
    X.loc[0, "x2"] = np.nan
    for learner in fitted.values():
        assert np.isfinite(learner.predict_uplift(X)).all()


def test_unbalanced_arms_and_per_row_propensities() -> None:
    rng = np.random.default_rng(5)
    X, _, _, _ = planted_experiment(6000, seed=2)
    # A stratified design: web customers are treated 80% of the time, the others 30%.
    propensity = np.where(X["channel"] == "web", 0.8, 0.3)
    t = (rng.uniform(size=len(X)) < propensity).astype(int)
    p0 = 1 / (1 + np.exp(-(-0.8 + 0.8 * X["x2"].fillna(0).to_numpy())))
    p1 = 1 / (1 + np.exp(-(-0.8 + 0.8 * X["x2"].fillna(0).to_numpy() + 1.6 * X["x1"].to_numpy())))
    y = (rng.uniform(size=len(X)) < np.where(t == 1, p1, p0)).astype(int)
    for learner in (XLearner(FAST), ClassTransformation(FAST)):
        for known in (propensity, None):
            uplift = learner.fit(X, y, treatment=t, propensity=known).predict_uplift(X)
            assert uplift[X["x1"] > 0.3].mean() > 0.05 > -0.05 > uplift[X["x1"] < -0.3].mean()


def test_log_odds_shift_learner_finds_a_uniform_nudge_from_the_control_rate() -> None:
    """Every customer's log-odds move by 1.0: uplift is largest on the fence (p0 near 0.3-0.5) and
    small for lost causes, a shape two separately fitted rates recover far more noisily."""
    rng = np.random.default_rng(11)
    n = 8000
    x2 = rng.normal(size=n)
    X = pd.DataFrame({"x2": x2, "noise": rng.normal(size=n)})
    base = -2.0 + 1.5 * x2
    true = 1 / (1 + np.exp(-(base + 1.0))) - 1 / (1 + np.exp(-base))
    t = rng.integers(0, 2, n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(base + t * 1.0)))).astype(int)
    learner = LogOddsShiftLearner(FAST).fit(X, y, treatment=t)
    test = pd.DataFrame({"x2": np.linspace(-2, 2, 201), "noise": rng.normal(size=201)})
    true_test = 1 / (1 + np.exp(-(-1.0 + 1.5 * test["x2"]))) - 1 / (1 + np.exp(-(-2.0 + 1.5 * test["x2"])))
    uplift = learner.predict_uplift(test)
    assert abs(learner.delta_ - 1.0) < 0.15
    assert np.abs(uplift - true_test).mean() < 0.02
    assert spearmanr(uplift, true_test).statistic > 0.9
    t_learner = make_learner("t", FAST).fit(X, y, treatment=t)
    assert np.abs(uplift - true_test).mean() < np.abs(t_learner.predict_uplift(test) - true_test).mean()
    assert true.max() > 0.2  # the nudge is worth finding
    p_control, p_treated = learner.predict_outcomes(test)
    np.testing.assert_array_equal(p_treated - p_control, uplift)
    # The custom loss kept its training rows only while fitting: they are not pickled with the model.
    assert learner.shift_.objective.offset.size == 0


def test_log_odds_shift_learner_finds_the_harm_done_to_a_small_group() -> None:
    """6% of customers (opted out of marketing) are put off by the treatment, -2.2 on the log-odds,
    among 20 noise features; everyone else is nudged +0.4. The group is a few dozen rows of any
    held-out split, so s(x) must be sized on more than one to keep their harm."""
    rng = np.random.default_rng(0)
    n = 10000
    X = pd.DataFrame({f"noise{i}": rng.normal(size=n) for i in range(20)})
    X["x"] = rng.normal(size=n)
    X["opted_out"] = (rng.uniform(size=n) < 0.06).astype(float)
    base = -2.0 + 0.8 * X["x"].to_numpy()
    effect = np.where(X["opted_out"] == 1, -2.2, 0.4)
    t = (rng.uniform(size=n) < 0.6).astype(int)
    y = (rng.uniform(size=n) < expit(base + t * effect)).astype(int)
    true = expit(base + effect) - expit(base)
    uplift = LogOddsShiftLearner(FAST).fit(X, y, treatment=t).predict_uplift(X)
    group = X["opted_out"].to_numpy() == 1
    assert uplift[group].mean() < true[group].mean() / 3 < 0
    assert (uplift[group] < 0).all()
    assert uplift[~group].mean() > 0.5 * true[~group].mean() > 0


def test_lightgbm_uses_the_usable_cores_by_default_and_is_silent() -> None:
    params = lgbm_params(None, seed=7)
    assert params["n_jobs"] == len(os.sched_getaffinity(0))
    assert params["verbose"] == -1
    assert params["random_state"] == 7
    assert lgbm_params({"n_jobs": 1, "num_leaves": 4}, 0)["num_leaves"] == 4


def test_make_learner_names_the_allowed_learners() -> None:
    assert set(LEARNERS) == {"s", "t", "x", "dr", "shift", "class_transformation"}
    with pytest.raises(ValueError, match="allowed: s, class_transformation, shift, t, x, dr"):
        make_learner("causal_forest")


@pytest.mark.parametrize(
    ("treatment", "propensity", "message"),
    [
        (np.ones(100, dtype=int), None, "both arms"),
        (np.arange(100) % 2, 1.0, "strictly between 0 and 1"),
        (np.arange(99) % 2, None, "one length"),
        (np.arange(100) % 3, None, "treatment must hold only"),
    ],
)
def test_fit_validates_inputs(treatment: np.ndarray, propensity: float | None, message: str) -> None:
    X = pd.DataFrame({"a": np.arange(100.0)})
    with pytest.raises(ValueError, match=message):
        make_learner("t", FAST).fit(X, np.arange(100) % 2, treatment=treatment, propensity=propensity)


def test_predict_before_fit_is_refused() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        make_learner("x").predict_uplift(pd.DataFrame({"a": [1.0]}))
