"""LightGBM uplift meta-learners for a binary outcome: S, T, X, DR and the class transformation.

Every learner follows scikit-learn: `__init__` stores `params` (LightGBM parameters over
`boosting.DEFAULT_PARAMS`) and `seed`; `fit(X, y, *, treatment, propensity=None)` returns self;
`predict_uplift(X)` returns the estimated effect of treatment on P(y = 1) per row. X is a DataFrame
(category columns and NaNs are handled by LightGBM natively); predictions also take the float matrix
features.rows.model_matrix codes, which skips pandas (serving does this on every request).
`propensity` is the known probability of treatment, a scalar or one per row (a randomized holdout
knows it); when absent, learners that need it fit a classifier. Learners pickle, and importing this
module pulls in no training or tracking stack.
"""

from __future__ import annotations

from typing import Any, TypeVar

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import expit, logit
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from training.uplift.boosting import (
    Features,
    Propensity,
    PropensityModel,
    arm_outcome_folds,
    as_features,
    as_frame,
    check_fit_inputs,
    classifier,
    predicted,
    regressor,
)
from training.uplift.calibration import log_odds_shift, transformed_outcome

TREATMENT_COLUMN = "treatment_indicator_"
LGBM = TypeVar("LGBM", bound=lgb.LGBMModel)
# The log-odds shift's s(x) corrects a sound offset: a few shallow, large-leaf trees, as many as
# cross-validation over SHIFT_FOLDS folds finds best.
SHIFT_PARAMS: dict[str, Any] = {"num_leaves": 4, "min_child_samples": 200, "reg_lambda": 5.0}
SHIFT_FOLDS = 4


class UpliftLearner(BaseEstimator):
    """Base of the meta-learners: parameters, fitted-state checks and the shared signature."""

    def __init__(self, params: dict[str, Any] | None = None, seed: int = 0) -> None:
        self.params = params
        self.seed = seed

    def fit(
        self, X: pd.DataFrame, y: ArrayLike, *, treatment: ArrayLike, propensity: Propensity = None
    ) -> UpliftLearner:
        raise NotImplementedError

    def predict_uplift(self, X: Features) -> np.ndarray:
        raise NotImplementedError


class SLearner(UpliftLearner):
    """One outcome model with treatment as a feature; uplift = p(x, treated) - p(x, control)."""

    def fit(
        self, X: pd.DataFrame, y: ArrayLike, *, treatment: ArrayLike, propensity: Propensity = None
    ) -> SLearner:
        X = as_frame(X)
        if TREATMENT_COLUMN in X.columns:
            raise ValueError(f"X must not contain the reserved column {TREATMENT_COLUMN!r}")
        y_arr, t_arr, _ = check_fit_inputs(X, y, treatment, propensity)
        self.model_ = classifier(self.params, self.seed).fit(_with_arm(X, t_arr), y_arr)
        return self

    def predict_uplift(self, X: Features) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = as_features(X)
        treated = predicted(self.model_, _with_arm(X, np.ones(len(X), dtype=np.int64)))
        control = predicted(self.model_, _with_arm(X, np.zeros(len(X), dtype=np.int64)))
        return treated - control


class TLearner(UpliftLearner):
    """One outcome model per arm; uplift = p_treated(x) - p_control(x)."""

    def fit(
        self, X: pd.DataFrame, y: ArrayLike, *, treatment: ArrayLike, propensity: Propensity = None
    ) -> TLearner:
        X = as_frame(X)
        y_arr, t_arr, _ = check_fit_inputs(X, y, treatment, propensity)
        self.control_, self.treated_ = _arm_models(X, y_arr, t_arr, self.params, self.seed)
        return self

    def predict_uplift(self, X: Features) -> np.ndarray:
        check_is_fitted(self, "treated_")
        X = as_features(X)
        return predicted(self.treated_, X) - predicted(self.control_, X)


class XLearner(UpliftLearner):
    """Künzel et al. (2019): per-arm outcome models impute each row's effect, one regressor per arm
    learns it, and the two are combined as e(x) * tau_control(x) + (1 - e(x)) * tau_treated(x)."""

    def fit(
        self, X: pd.DataFrame, y: ArrayLike, *, treatment: ArrayLike, propensity: Propensity = None
    ) -> XLearner:
        X = as_frame(X)
        y_arr, t_arr, known = check_fit_inputs(X, y, treatment, propensity)
        control, treated = _arm_models(X, y_arr, t_arr, self.params, self.seed)
        is_treated = t_arr == 1
        X_t, X_c = X[is_treated], X[~is_treated]
        imputed_t = y_arr[is_treated] - predicted(control, X_t)
        imputed_c = predicted(treated, X_c) - y_arr[~is_treated]
        self.tau_treated_ = regressor(self.params, self.seed).fit(X_t, imputed_t)
        self.tau_control_ = regressor(self.params, self.seed).fit(X_c, imputed_c)
        self.propensity_ = PropensityModel(self.params, self.seed).fit(X, t_arr, known)
        return self

    def predict_uplift(self, X: Features) -> np.ndarray:
        check_is_fitted(self, "propensity_")
        X = as_features(X)
        # The weight goes to the effect model trained on the arm with more rows near x.
        weight = self.propensity_.predict(X)
        tau_c = predicted(self.tau_control_, X)
        tau_t = predicted(self.tau_treated_, X)
        return weight * tau_c + (1 - weight) * tau_t


class DRLearner(UpliftLearner):
    """Doubly robust learner (Kennedy 2023): cross-fitted outcome and propensity models give each row
    the pseudo-outcome mu1 - mu0 + t (y - mu1) / e - (1 - t) (y - mu0) / (1 - e), whose conditional
    mean is the effect; a regressor on all rows learns it. `clip` bounds e away from 0 and 1, whose
    inverse would otherwise let a few rows dominate."""

    def __init__(
        self, params: dict[str, Any] | None = None, seed: int = 0, folds: int = 2, clip: float = 0.05
    ) -> None:
        super().__init__(params, seed)
        self.folds = folds
        self.clip = clip

    def fit(
        self, X: pd.DataFrame, y: ArrayLike, *, treatment: ArrayLike, propensity: Propensity = None
    ) -> DRLearner:
        X = as_frame(X)
        y_arr, t_arr, known = check_fit_inputs(X, y, treatment, propensity)
        pseudo = np.empty(len(X))
        for train, held in arm_outcome_folds(self.folds, t_arr, y_arr, self.seed):
            pseudo[held] = self._pseudo_outcomes(X, y_arr, t_arr, known, train, held)
        # The mean pseudo-outcome is the doubly robust (AIPW) estimate of the average effect.
        self.average_effect_ = float(pseudo.mean())
        self.model_ = regressor(self.params, self.seed).fit(X, pseudo)
        return self

    def predict_uplift(self, X: Features) -> np.ndarray:
        check_is_fitted(self, "model_")
        return predicted(self.model_, as_features(X))

    def _pseudo_outcomes(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        t: np.ndarray,
        known: np.ndarray | None,
        train: np.ndarray,
        held: np.ndarray,
    ) -> np.ndarray:
        X_train, X_held = X.iloc[train], X.iloc[held]
        control, treated = _arm_models(X_train, y[train], t[train], self.params, self.seed)
        mu0, mu1 = predicted(control, X_held), predicted(treated, X_held)
        if known is None:
            e = predicted(classifier(self.params, self.seed).fit(X_train, t[train]), X_held)
        else:
            e = known[held]
        e = np.clip(e, self.clip, 1 - self.clip)
        y_h, t_h = y[held], t[held]
        return mu1 - mu0 + t_h * (y_h - mu1) / e - (1 - t_h) * (y_h - mu0) / (1 - e)


class ClassTransformation(UpliftLearner):
    """Jaskowski & Jaroszewicz (2012): classify z = 1 for treated responders and control non-responders;
    uplift = 2 P(z = 1 | x) - 1. Rows are weighted so both arms weigh the same, the balanced design the
    identity assumes. With known propensities e, the generalized transformed outcome
    z = y (t - e) / (e (1 - e)), whose conditional mean is the effect, is regressed instead."""

    def fit(
        self, X: pd.DataFrame, y: ArrayLike, *, treatment: ArrayLike, propensity: Propensity = None
    ) -> ClassTransformation:
        X = as_frame(X)
        y_arr, t_arr, known = check_fit_inputs(X, y, treatment, propensity)
        self.model_: lgb.LGBMModel
        if known is None:
            share = t_arr.mean()
            weight = np.where(t_arr == 1, 0.5 / share, 0.5 / (1 - share))
            z = y_arr * t_arr + (1 - y_arr) * (1 - t_arr)
            self.model_ = classifier(self.params, self.seed).fit(X, z, sample_weight=weight)
        else:
            self.model_ = regressor(self.params, self.seed).fit(X, transformed_outcome(y_arr, t_arr, known))
        return self

    def predict_uplift(self, X: Features) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = as_features(X)
        if isinstance(self.model_, lgb.LGBMClassifier):
            return 2 * predicted(self.model_, X) - 1
        return predicted(self.model_, X)


class LogOddsShiftLearner(UpliftLearner):
    """Treatment as a shift of the log-odds of the outcome, learned from both arms at once:

        logit P(y | x, t) = f(x) + (t - e) * (delta + s(x)),    uplift = P(y | x, 1) - P(y | x, 0)

    with e the treated share, delta the one shift that matches the treated arm's outcome rate to the
    control arm's model, and s(x) small trees fitted on both arms (a treated and a control row each
    say how far the shift is off, with opposite signs). The same nudge moves a customer
    on the fence far more than a lost cause or a sure thing: this learner starts from that
    structure instead of taking the difference of two noisy rates, and with no evidence of
    heterogeneity (cross-validation keeps s(x) to a tree or a few) it still ranks by the base
    rate. f learns from every row, not only the control arm, which campaigns keep small. Centring
    the treatment on e is what lets f do so: f is then the arms' average log-odds, and a
    heterogeneous effect does not leak into it.
    """

    def __init__(
        self, params: dict[str, Any] | None = None, seed: int = 0, validation_share: float = 0.25
    ) -> None:
        super().__init__(params, seed)
        self.validation_share = validation_share

    def fit(
        self, X: pd.DataFrame, y: ArrayLike, *, treatment: ArrayLike, propensity: Propensity = None
    ) -> LogOddsShiftLearner:
        X = as_frame(X).reset_index(drop=True)
        y_arr, t_arr, _ = check_fit_inputs(X, y, treatment, propensity)
        is_treated = t_arr == 1
        control = classifier(self.params, self.seed).fit(X[~is_treated], y_arr[~is_treated])
        # The control model never saw a treated row: its p0 there is out of sample.
        self.delta_ = log_odds_shift(predicted(control, X[is_treated]), y_arr[is_treated])
        self.treated_share_ = float(t_arr.mean())
        centred = t_arr - self.treated_share_
        held = np.random.default_rng(self.seed).random(len(X)) < self.validation_share
        # Trees fitted on an init score start from 0, not from the average (and a tree that finds
        # no split stays 0): the intercept of f is set here, the trees only add to it.
        self.intercept_ = _intercept(centred * self.delta_, y_arr)
        offset = self.intercept_ + centred * self.delta_
        self.base_ = _stopped(classifier(self.params, self.seed), X, y_arr, held, init_score=offset)
        # s(x) learns from both arms: on every row the log-odds are f(x) + (t - e)(delta + s(x)), so
        # a treated row and a control row both say how far the shift is off, with opposite signs.
        offset = self._base_logit(X) + centred * self.delta_
        params = {**(self.params or {}), **SHIFT_PARAMS, "metric": "None"}
        # From every row, its size chosen by cross-validation: a small group a treatment moves a lot
        # (customers a push puts off) is a few dozen rows of one held-out split, whose loss they move
        # less than its noise does; stopped there, s(x) kept a tenth of their harm or none.
        folds = arm_outcome_folds(SHIFT_FOLDS, t_arr, y_arr, self.seed)
        self.shift_rounds_ = _shift_rounds(params, X, y_arr, offset, centred, folds, self.seed)
        loss = _ShiftedLogistic(offset, centred)
        params |= {"objective": loss, "n_estimators": self.shift_rounds_}
        self.shift_ = regressor(params, self.seed).fit(X, y_arr)
        # The fitted trees predict s(x) alone: the training rows the loss held need not be pickled.
        loss.release()
        return self

    def predict_logits(self, X: Features) -> tuple[np.ndarray, np.ndarray]:
        """(log-odds without treatment, the treatment's shift) per row."""
        check_is_fitted(self, "shift_")
        X = as_features(X)
        base = self._base_logit(X)
        shift = self.delta_ + predicted(self.shift_, X)
        return base - self.treated_share_ * shift, shift

    def _base_logit(self, X: Features) -> np.ndarray:
        return self.intercept_ + logit(np.clip(predicted(self.base_, X), 1e-12, 1 - 1e-12))

    def predict_outcomes(self, X: Features) -> tuple[np.ndarray, np.ndarray]:
        """(P(y | x, not treated), P(y | x, treated)) per row: the one model's pair, which decisions
        that pay on treated outcomes (coupons) need consistent with the uplift."""
        control, shift = self.predict_logits(X)
        return expit(control), expit(control + shift)

    def predict_uplift(self, X: Features) -> np.ndarray:
        p_control, p_treated = self.predict_outcomes(X)
        return p_treated - p_control


# Simplest first: model selection breaks ties in this order. The shift learner comes before the
# two-model learners: its effect is one offset plus a few cross-validated trees, far less variance.
LEARNERS: dict[str, type[UpliftLearner]] = {
    "s": SLearner,
    "class_transformation": ClassTransformation,
    "shift": LogOddsShiftLearner,
    "t": TLearner,
    "x": XLearner,
    "dr": DRLearner,
}


def make_learner(name: str, params: dict[str, Any] | None = None, seed: int = 0) -> UpliftLearner:
    """A new learner by registry name."""
    if name not in LEARNERS:
        raise ValueError(f"unknown uplift learner {name!r}; allowed: {', '.join(LEARNERS)}")
    return LEARNERS[name](params=params, seed=seed)


def _with_arm(X: Features, arm: np.ndarray) -> Features:
    if isinstance(X, np.ndarray):
        return np.column_stack([X, arm])
    return X.assign(**{TREATMENT_COLUMN: arm})


def _arm_models(
    X: pd.DataFrame, y: np.ndarray, t: np.ndarray, params: dict[str, Any] | None, seed: int
) -> tuple[lgb.LGBMClassifier, lgb.LGBMClassifier]:
    """Outcome classifiers fitted on the control rows and on the treated rows."""
    is_treated = t == 1
    control = classifier(params, seed).fit(X[~is_treated], y[~is_treated])
    treated = classifier(params, seed).fit(X[is_treated], y[is_treated])
    return control, treated


class _ShiftedLogistic:
    """Logistic loss of log-odds offset + multiplier * s(x), as LightGBM's custom objective (gradient
    and hessian in s) and as an evaluation metric. A fitted model predicts s(x) without it."""

    METRIC = "shifted_logloss"  # the metric's name in LightGBM's evals_result_

    def __init__(self, offset: np.ndarray, multiplier: np.ndarray) -> None:
        self.offset = offset
        self.multiplier = multiplier

    def __call__(self, y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = expit(self.offset + self.multiplier * s)
        return self.multiplier * (p - y), self.multiplier**2 * p * (1 - p)

    def release(self) -> None:
        self.offset = self.multiplier = np.zeros(0)

    def log_loss(self, y: np.ndarray | None, s: np.ndarray) -> tuple[str, float, bool]:
        if y is None:
            raise ValueError("the shifted log-loss needs the labels of the rows it scores")
        p = np.clip(expit(self.offset + self.multiplier * s), 1e-12, 1 - 1e-12)
        return self.METRIC, float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))), False


def _intercept(offset: np.ndarray, y: np.ndarray, steps: int = 20) -> float:
    """The constant c with mean(sigma(offset + c)) = mean(y), by Newton's method from logit(mean y)."""
    rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    c = float(logit(rate))
    for _ in range(steps):
        p = expit(offset + c)
        step = float((p.sum() - y.sum()) / max((p * (1 - p)).sum(), 1e-12))
        c -= step
        if abs(step) < 1e-10:
            break
    return c


def _shift_rounds(
    params: dict[str, Any],
    X: pd.DataFrame,
    y: np.ndarray,
    offset: np.ndarray,
    multiplier: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    seed: int,
) -> int:
    """The number of s(x) trees (at most params' n_estimators) whose shifted log-loss on the held
    rows, averaged over the (fitted, held) `folds`, is lowest."""
    curves = []
    for fitted, held in folds:
        loss, metric = (_ShiftedLogistic(offset[rows], multiplier[rows]) for rows in (fitted, held))
        model = regressor({**params, "objective": loss}, seed).fit(
            X.iloc[fitted],
            y[fitted],
            eval_X=(X.iloc[held],),
            eval_y=(y[held],),
            eval_metric=metric.log_loss,
        )
        curves.append(model.evals_result_["valid_0"][_ShiftedLogistic.METRIC])
    return int(np.argmin(np.mean(curves, axis=0))) + 1


def _stopped(model: LGBM, X: pd.DataFrame, y: np.ndarray, held: np.ndarray, init_score: np.ndarray) -> LGBM:
    """`model` fitted from `init_score` on the rows not `held`, stopped early by its first metric on
    the held ones."""
    return model.fit(
        X[~held],
        y[~held],
        init_score=init_score[~held],
        eval_X=(X[held],),
        eval_y=(y[held],),
        eval_init_score=[init_score[held]],
        callbacks=[lgb.early_stopping(20, first_metric_only=True, verbose=False)],
    )
