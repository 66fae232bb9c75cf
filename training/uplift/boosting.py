"""LightGBM base models, input checks and propensities shared by the uplift meta-learners.

Kept free of anything heavier than numpy, pandas, scikit-learn and LightGBM: fitted learners are
pickled into MLflow and unpickled by the serving process, which must not pull in the training stack.
"""

from __future__ import annotations

import ctypes
import os
import threading
import weakref
from typing import Any, TypeAlias

import lightgbm as lgb
import numpy as np
import pandas as pd
from lightgbm.basic import _C_API_DTYPE_FLOAT64, _C_API_PREDICT_NORMAL, _LIB, _c_str, _safe_call
from numpy.typing import ArrayLike
from sklearn.model_selection import StratifiedKFold

from features.catalog import STRING_FEATURES
from training.uplift.metrics import as_binary

# Uplift is a small difference between two noisy rates: on a planted-effect simulation and on the
# Hillstrom experiment, fewer leaves, larger leaves and L2 shrinkage ranked better than LightGBM's
# defaults (31 leaves, 20 rows per leaf) for every learner.
DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 200,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 100,
    "reg_lambda": 5.0,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
}
Propensity = float | ArrayLike | None
Features: TypeAlias = pd.DataFrame | np.ndarray  # a frame with category columns, or a matrix already coded


def lgbm_params(params: dict[str, Any] | None, seed: int) -> dict[str, Any]:
    """Defaults overlaid with `params`, a seed, silence and a thread count that fits this process."""
    merged = {**DEFAULT_PARAMS, **(params or {})}
    # OpenMP's default of one thread per machine core oversubscribes containers pinned to fewer cores
    # (fits ran 20x slower); the affinity mask is what this process may actually use.
    merged["n_jobs"] = merged.get("n_jobs") or _usable_cores()
    # Row-wise histograms chosen up front rather than by LightGBM's timing test keep fits reproducible.
    merged.setdefault("force_row_wise", True)
    merged.setdefault("deterministic", True)
    merged.setdefault("verbose", -1)
    merged["random_state"] = seed
    return merged


def classifier(params: dict[str, Any] | None, seed: int) -> lgb.LGBMClassifier:
    return lgb.LGBMClassifier(**lgbm_params(params, seed))


def regressor(params: dict[str, Any] | None, seed: int) -> lgb.LGBMRegressor:
    return lgb.LGBMRegressor(**lgbm_params(params, seed))


def predicted(model: lgb.LGBMModel, X: Features) -> np.ndarray:
    """A classifier's P(y = 1) or a regressor's prediction, per row of X.

    A DataFrame goes through the scikit-learn wrapper, which codes its category columns the way
    the model saw them at fit. A matrix is taken as coded already (features.rows.model_matrix)
    and goes straight to the booster: on a one-row request the wrapper's checks and pandas
    conversions cost many times the prediction itself.
    """
    if isinstance(X, np.ndarray):
        if len(X) == 1:
            return _row_predictor(model).predict(X[0])
        # n_jobs as the wrapper would pass it (serving sets 1); 0 is LightGBM's own default.
        threads = model.n_jobs if isinstance(model.n_jobs, int) and model.n_jobs > 0 else 0
        return np.asarray(model.booster_.predict(X, num_threads=threads), dtype=np.float64)
    if isinstance(model, lgb.LGBMClassifier):
        return np.asarray(model.predict_proba(X))[:, 1]
    return np.asarray(model.predict(X), dtype=np.float64)


class _RowPredictor:
    """LightGBM's single-row prediction with its set-up (parameters, buffers) done once, through
    the C API's FastConfig, which the Python package does not offer. `Booster.predict` on one row
    builds a predictor, checks and converts its input every call: 3x the cost of the trees.

    The FastConfig points into the booster (and holds a lock on it), so this object keeps the
    booster alive and frees its FastConfig first.
    """

    def __init__(self, booster: lgb.Booster) -> None:
        self.handle = ctypes.c_void_p()  # first: __del__ runs even when a check below refuses
        if booster.num_model_per_iteration() != 1:  # one output per row: binary or regression
            raise ValueError("single-row prediction serves binary and regression models only")
        self.booster = booster
        self.width = booster.num_feature()
        # As Booster.predict: up to the best iteration when early stopping recorded one.
        iterations = booster.best_iteration if booster.best_iteration > 0 else -1
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,
                ctypes.c_int(_C_API_PREDICT_NORMAL),
                ctypes.c_int(0),
                ctypes.c_int(iterations),
                ctypes.c_int(_C_API_DTYPE_FLOAT64),
                ctypes.c_int32(self.width),
                _c_str("num_threads=1"),
                ctypes.byref(self.handle),
            )
        )

    def predict(self, row: np.ndarray) -> np.ndarray:
        if row.shape != (self.width,):
            raise ValueError(f"the model reads {self.width} features; the row has {row.shape[-1]}")
        row = np.ascontiguousarray(row, dtype=np.float64)
        out = np.empty(1)
        length = ctypes.c_int64()
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFast(
                self.handle,
                ctypes.c_void_p(row.ctypes.data),
                ctypes.byref(length),
                ctypes.c_void_p(out.ctypes.data),
            )
        )
        return out

    def __del__(self) -> None:
        if self.handle:
            _LIB.LGBM_FastConfigFree(self.handle)
            self.handle = ctypes.c_void_p()


# Per fitted model, not pickled with it; an entry goes when its model does.
_ROW_PREDICTORS: weakref.WeakKeyDictionary[lgb.LGBMModel, _RowPredictor] = weakref.WeakKeyDictionary()
_ROW_PREDICTORS_LOCK = threading.Lock()


def _row_predictor(model: lgb.LGBMModel) -> _RowPredictor:
    predictor = _ROW_PREDICTORS.get(model)
    if predictor is None or predictor.booster is not model.booster_:  # new, or refitted since
        with _ROW_PREDICTORS_LOCK:
            predictor = _ROW_PREDICTORS[model] = _RowPredictor(model.booster_)
    return predictor


def training_categories(model: lgb.LGBMModel, columns: list[str]) -> dict[str, pd.Index]:
    """The categories LightGBM recorded at fit for each string column of `columns` (in order)."""
    strings = [name for name in columns if name in STRING_FEATURES]
    recorded = model.booster_.pandas_categorical or []
    if len(recorded) != len(strings):
        raise ValueError(
            f"the model recorded {len(recorded)} category columns at fit; its features have {strings}"
        )
    return {name: pd.Index(values) for name, values in zip(strings, recorded, strict=True)}


def as_frame(X: pd.DataFrame | ArrayLike) -> pd.DataFrame:
    """A DataFrame as given (category dtypes and NaNs intact), or one built from an array."""
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))


def as_features(X: Features | ArrayLike) -> Features:
    """What predictions take: a DataFrame as given, anything else as a float matrix."""
    return X if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=np.float64)


def check_fit_inputs(
    X: pd.DataFrame, y: ArrayLike, treatment: ArrayLike, propensity: Propensity
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Binary `y` and `treatment` with both arms, and the known propensity per row (or None)."""
    y_arr, t_arr = as_binary("y", y), as_binary("treatment", treatment)
    if not len(X) == len(y_arr) == len(t_arr):
        raise ValueError(f"X, y and treatment must have one length; got {len(X)}, {len(y_arr)}, {len(t_arr)}")
    for arm, label in ((0, "control"), (1, "treated")):
        if not (t_arr == arm).any():
            raise ValueError(f"treatment must contain both arms; no {label} rows ({arm})")
    return y_arr, t_arr, known_propensity(propensity, len(t_arr))


def arm_outcome_folds(
    folds: int, t: np.ndarray, y: np.ndarray, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fitted, held) row positions of `folds` cross-validation folds stratified by treatment x
    outcome, so each fold keeps both arms and their response rates."""
    return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(t)), 2 * t + y))


def known_propensity(propensity: Propensity, n: int) -> np.ndarray | None:
    """The assignment probability per row from a scalar or an array, checked to lie in (0, 1)."""
    if propensity is None:
        return None
    values = np.broadcast_to(np.asarray(propensity, dtype=np.float64), (n,)).copy()
    if not ((values > 0) & (values < 1)).all():
        raise ValueError("propensity must lie strictly between 0 and 1 (a probability of treatment)")
    return values


class PropensityModel:
    """e(x) = P(treated | x): the known assignment probability when given, else a fitted classifier.

    A known propensity that varies by row (a stratified design) is learnt as a function of X, because
    prediction sees new rows whose assignment probability nobody passed in.
    """

    def __init__(self, params: dict[str, Any] | None = None, seed: int = 0, clip: float = 0.01) -> None:
        self.params = params
        self.seed = seed
        self.clip = clip

    def fit(self, X: pd.DataFrame, treatment: np.ndarray, known: np.ndarray | None) -> PropensityModel:
        self.constant_: float | None = None
        self.model_: lgb.LGBMModel | None = None
        if known is not None and np.ptp(known) == 0:
            self.constant_ = float(known[0])
        elif known is not None:
            self.model_ = regressor(self.params, self.seed).fit(X, known)
        else:
            self.model_ = classifier(self.params, self.seed).fit(X, treatment)
        return self

    def predict(self, X: Features) -> np.ndarray:
        if self.constant_ is not None:
            return np.full(len(X), self.constant_)
        return np.clip(predicted(self.model_, X), self.clip, 1 - self.clip)  # type: ignore[arg-type]


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
