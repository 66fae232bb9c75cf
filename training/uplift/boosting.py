"""LightGBM base models, input checks and propensities shared by the uplift meta-learners.

Kept free of anything heavier than numpy, pandas, scikit-learn and LightGBM: fitted learners are
pickled into MLflow and unpickled by the serving process, which must not pull in the training stack.
"""

from __future__ import annotations

import os
from typing import Any, TypeAlias

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

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
        # n_jobs as the wrapper would pass it (serving sets 1); 0 is LightGBM's own default.
        threads = model.n_jobs if isinstance(model.n_jobs, int) and model.n_jobs > 0 else 0
        return np.asarray(model.booster_.predict(X, num_threads=threads), dtype=np.float64)
    if isinstance(model, lgb.LGBMClassifier):
        return np.asarray(model.predict_proba(X))[:, 1]
    return np.asarray(model.predict(X), dtype=np.float64)


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
