"""Baselines every model must beat: a transparent RFM rule, a logistic regression on all numeric
features, and for churn a buy-till-you-die model (BG/NBD). All follow scikit-learn: `fit(X, y)`
returns self and `predict_proba(X)` is (n, 2) with P(label = 1) in the second column.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Self

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, gammaln
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from features.catalog import STRING_FEATURES

log = logging.getLogger(__name__)

RULE_TASKS = ("churn", "conversion", "vip")
HISTORY_COLUMNS = ("orders_total", "days_since_first_order", "days_since_last_orders")
_LAPSED_DAYS = 3650.0  # a missing "days since" means it never happened: rank it as long ago
_PROBABILITY_FLOOR = 1e-4  # keeps log loss finite where the rule's training bins are pure
_TIE_BREAK = 1e-6

# Per task: (column, weight, value if missing) terms of the rule score sum(weight * log1p(value)).
_RULES: dict[str, tuple[tuple[str, float, float], ...]] = {
    "churn": (("days_since_last_orders", 1.0, _LAPSED_DAYS), ("orders_total", -1.0, 0.0)),
    "conversion": (
        ("cart_adds_30d", 1.0, 0.0),
        ("views_7d", 1.0, 0.0),
        ("days_since_last_sessions", -1.0, _LAPSED_DAYS),
    ),
    "vip": (
        ("revenue_first_30d", 1.0, 0.0),
        ("orders_first_30d", 1.0, 0.0),
        ("sessions_first_30d", 1.0, 0.0),
    ),
}


def _require(X: pd.DataFrame, columns: list[str], who: str) -> None:
    missing = [name for name in columns if name not in X.columns]
    if missing:
        raise ValueError(f"{who} needs columns {missing}, absent from the features")


def _column(X: pd.DataFrame, name: str, missing: float = 0.0) -> np.ndarray:
    return pd.to_numeric(X[name], errors="coerce").astype("float64").fillna(missing).to_numpy()


def _proba(p: np.ndarray) -> np.ndarray:
    return np.column_stack([1.0 - p, p])


class Baseline(ABC):
    """The interface the trainer relies on; a shared base also lets a dict of baselines type-check."""

    classes_: np.ndarray

    @abstractmethod
    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> Self: ...

    @abstractmethod
    def predict_proba(self, X: pd.DataFrame) -> np.ndarray: ...


class RfmRuleBaseline(Baseline):
    """A fixed recency/frequency/monetary rule per task; fitting only calibrates its score.

    The rule score (higher = label 1 more likely), with log1p = log(1 + x):
    - churn: log1p(days_since_last_orders) - log1p(orders_total): the longer since the last order,
      and the fewer orders so far, the higher the risk (a frequent buyer may stay silent longer);
    - conversion: log1p(cart_adds_30d) + log1p(views_7d) - log1p(days_since_last_sessions):
      recent visits, recent product views and cart adds signal a coming first order;
    - vip: log1p(revenue_first_30d) + log1p(orders_first_30d) + log1p(sessions_first_30d): early
      spend dominates, early orders and visits add to it.
    A missing "days since" counts as 10 years; other missing values as 0. `fit` maps the score to
    probabilities with an isotonic regression on the training rows, so log loss and Brier score
    are meaningful while the ranking (ROC-AUC) stays the rule's own.
    """

    def __init__(self, task: str) -> None:
        self.task = task

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The rule's score: higher means label 1 (churn, conversion, VIP) is more likely."""
        if self.task not in _RULES:
            raise ValueError(f"unknown task {self.task!r}; allowed: {', '.join(RULE_TASKS)}")
        rule = _RULES[self.task]
        _require(X, [name for name, _, _ in rule], f"the {self.task} rule")
        # Clipping at 0 keeps log1p defined if a feature ever arrives negative (clock skew).
        return np.sum([w * np.log1p(np.clip(_column(X, n, m), 0, None)) for n, w, m in rule], axis=0)

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> Self:
        self.calibration_ = IsotonicRegression(
            y_min=_PROBABILITY_FLOOR, y_max=1 - _PROBABILITY_FLOOR, out_of_bounds="clip"
        ).fit(self.decision_function(X), np.asarray(y, dtype=np.float64))
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        score = self.decision_function(X)
        # Isotonic steps tie rows the rule tells apart; a negligible strictly increasing term
        # restores the rule's order, so the baseline's ROC-AUC is the rule's, not its step count's.
        p = np.asarray(self.calibration_.predict(score)) + _TIE_BREAK * expit(score)
        return _proba(np.clip(p, 0.0, 1.0))


class LogisticBaseline(Baseline):
    """Logistic regression on every numeric feature: median imputation with missing-value
    indicators, standard scaling, LogisticRegression(max_iter=1000). String features
    (features.catalog.STRING_FEATURES) are dropped: the baseline stays linear and simple.
    """

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> Self:
        self.columns_ = [c for c in X.columns if c not in STRING_FEATURES]
        self.pipeline_: Pipeline = make_pipeline(
            # keep_empty_features: an all-missing column (e.g. no sessions in imported data) stays
            # as zeros instead of vanishing, so train and test keep the same shape.
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(max_iter=1000),
        ).fit(self._numeric(X), np.asarray(y))
        self.classes_ = self.pipeline_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.pipeline_.predict_proba(self._numeric(X)))

    def _numeric(self, X: pd.DataFrame) -> np.ndarray:
        # Online nulls arrive as None in object columns: coerce rather than trust the dtype.
        return X[self.columns_].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)


class BgNbdBaseline(Baseline):
    """BG/NBD (Fader, Hardie & Lee 2005) churn baseline: P(no order in the next `horizon_days`).

    Per customer, from the feature frame: x = orders_total - 1 repeat orders, T =
    days_since_first_order, recency t_x = T - days_since_last_orders. Buyers order at rate
    lambda ~ Gamma(r, alpha) while alive and drop out after each order with p ~ Beta(a, b).
    `fit` maximises the likelihood over the rows with an order (y is ignored: the model learns
    from purchase histories, not labels; a customer seen at several cutoffs counts once per row).
    Churn = 1 - P(alive) * (1 - ((alpha + T) / (alpha + T + h)) ** (r + x)): dead customers never
    order, and an alive one's rate given its history is Gamma(r + x, alpha + T).
    """

    def __init__(self, horizon_days: int = 30) -> None:
        self.horizon_days = horizon_days

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray | None = None) -> Self:
        x, t_x, T = self._history(X)
        buyers = T > 0
        if not buyers.any():
            raise ValueError("BG/NBD needs customers with at least one order and days since it")
        x, t_x, T = x[buyers], t_x[buyers], T[buyers]
        start = np.log([1.0, max(float(T.mean()), 1.0), 1.0, 1.0])
        # Log parameters keep r, alpha, a, b positive; the bounds keep gammaln away from overflow.
        fitted = minimize(
            lambda p: -_bgnbd_loglik(np.exp(p), x, t_x, T).mean(),
            start,
            method="L-BFGS-B",
            bounds=[(-8.0, 8.0)] * 4,
        )
        if not fitted.success:
            log.warning("BG/NBD fit did not converge (%s); using the last parameters", fitted.message)
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in np.exp(fitted.x))
        self.classes_ = np.array([0, 1])
        return self

    def p_alive(self, X: pd.DataFrame) -> np.ndarray:
        x, t_x, T = self._history(X)
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        # P(alive) = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)) for x > 0,
        # computed as expit(-log odds) so long silences underflow to 0 instead of overflowing.
        log_odds = (
            np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * np.log((alpha + T) / (alpha + t_x))
        )
        return np.where(x > 0, expit(-log_odds), 1.0)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        x, _, T = self._history(X)
        quiet_if_alive = ((self.alpha_ + T) / (self.alpha_ + T + self.horizon_days)) ** (self.r_ + x)
        return _proba(1.0 - self.p_alive(X) * (1.0 - quiet_if_alive))

    @staticmethod
    def _history(X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        _require(X, list(HISTORY_COLUMNS), "BG/NBD")
        # No order yet: x = t_x = T = 0, which the model scores with its population prior.
        T = np.clip(_column(X, "days_since_first_order"), 0, None)
        since_last = np.clip(_column(X, "days_since_last_orders"), 0, None)
        x = np.clip(_column(X, "orders_total") - 1, 0, None)
        return x, np.clip(T - since_last, 0, T), T


def _bgnbd_loglik(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood of BG/NBD (Fader, Hardie & Lee 2005), gamma and beta integrated out."""
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    common += gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    still_alive = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    dropped = np.full(len(x), -np.inf)
    dropped[repeat] = np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    return common + np.logaddexp(still_alive, dropped)
