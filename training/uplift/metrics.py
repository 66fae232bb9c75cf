"""Uplift evaluation on randomized data: Qini and uplift curves, their coefficients, uplift@k, bootstrap.

Inputs everywhere: `y` the observed binary outcome (0/1), `uplift` the predicted scores (higher means
"target first"), `treatment` the binary arm (1 treated, 0 control), all of one length, both arms present.
The conventions are scikit-uplift's (`sklift.metrics`), so figures compare with its published ones.

Ranking. Rows are sorted by score, descending. Curves are evaluated only at the ends of groups of equal
scores, so the order of tied rows never changes a curve or an area.

Qini curve (Radcliffe 2007). After targeting the top `n` rows, with `N_T(n), N_C(n)` treated / control
rows among them and `R_T(n), R_C(n)` their responders::

    Q(n) = R_T(n) - R_C(n) * N_T(n) / N_C(n)        (0 while N_C(n) = 0)

the number of incremental responders, control responses rescaled to the treated count. `qini_curve`
returns `(n / N, Q(n))` for `n` at each group end, starting at `(0, 0)`.

Uplift curve. `U(n) = (R_T(n) / N_T(n) - R_C(n) / N_C(n)) * n` (a rate of 0 for an empty arm).

Random line. The straight line from `(0, 0)` to the curve's last point: the expected curve of a random
ranking.

`qini_score` (Qini coefficient, scikit-uplift `qini_auc_score(negative_effect=True)`):

    (area(model Qini) - area(random line)) / (area(perfect Qini) - area(random line))

with trapezoidal areas over the same x-axis. The perfect Qini curve ranks treated responders first and
control responders last (score `y*t - y*(1-t)`), so negative effects ("sleeping dogs") count. 1 is the
perfect ranking, 0 a random one, negative worse than random.

`auuc_score` (scikit-uplift `uplift_auc_score`): the same ratio for the uplift curve, whose perfect
ranking puts treated responders, then control non-responders first; of the rest, control responders go
last when they outnumber treated non-responders, otherwise treated non-responders go last.

`uplift_at_k` (scikit-uplift `uplift_at_k(strategy="overall")`): take the top `int(k * N)` rows of the
whole population by score, then the response rate of the treated among them minus that of the control
among them. Ties at the cut are broken as scikit-uplift does (stable sort, reversed). The alternative
"by_group" strategy, top k of each arm separately, is not offered.

`targeted_gain`: the incremental responders among the rows with a positive score, the ones a
decision would contact were contacts free: their count times the treated minus control response rate
among them (0 when no row is positive or an arm is missing among them). Unlike the ranking metrics
it counts where the scores cross zero: a model that ranks harmed rows low but above zero still
contacts them.

`bootstrap_interval`: percentile interval over resamples drawn with replacement within each arm
separately (arm sizes kept, as in the randomized design), so every resample holds both arms.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

Metric = Callable[[np.ndarray, np.ndarray, np.ndarray], float]


def as_binary(name: str, values: ArrayLike) -> np.ndarray:
    """`values` as a 1-D int array, or a ValueError naming `name` unless every value is 0 or 1."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.dtype == bool:
        return array.astype(np.int64)
    if not np.isin(array, (0, 1)).all():
        found = np.unique(array[~np.isin(array, (0, 1))])[:5]
        raise ValueError(f"{name} must hold only the values 0 and 1; found {found.tolist()}")
    return array.astype(np.int64)


def check_inputs(
    y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated `(y, uplift, treatment)` arrays: equal lengths, binary y and treatment, both arms."""
    y_arr, t_arr = as_binary("y", y), as_binary("treatment", treatment)
    scores = np.asarray(uplift, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(f"uplift must be one-dimensional, got shape {scores.shape}")
    if not len(y_arr) == len(scores) == len(t_arr):
        raise ValueError(
            f"y, uplift and treatment must have one length; got {len(y_arr)}, {len(scores)}, {len(t_arr)}"
        )
    if not np.isfinite(scores).all():
        raise ValueError("uplift must be finite (no NaN or infinity)")
    arms = set(np.unique(t_arr).tolist())
    if arms != {0, 1}:
        raise ValueError(
            f"treatment must contain both arms, 0 (control) and 1 (treated); found {sorted(arms)}"
        )
    return y_arr, scores, t_arr


def qini_curve(y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """`(fraction_targeted, incremental_gain)`: the Qini curve, in incremental responders."""
    y_arr, scores, t_arr = check_inputs(y, uplift, treatment)
    n, n_t, r_t, r_c = _cumulative(y_arr, scores, t_arr)
    n_c = n - n_t
    gain = r_t - r_c * np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c > 0)
    return n / len(y_arr), gain


def uplift_curve(y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """`(fraction_targeted, uplift * targeted)`: the uplift curve, in incremental responders."""
    y_arr, scores, t_arr = check_inputs(y, uplift, treatment)
    n, n_t, r_t, r_c = _cumulative(y_arr, scores, t_arr)
    n_c = n - n_t
    rate_t = np.divide(r_t, n_t, out=np.zeros_like(r_t), where=n_t > 0)
    rate_c = np.divide(r_c, n_c, out=np.zeros_like(r_c), where=n_c > 0)
    return n / len(y_arr), (rate_t - rate_c) * n


def qini_score(y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike) -> float:
    """Qini coefficient: area between the model's Qini curve and the random line over the perfect one's."""
    y_arr, scores, t_arr = check_inputs(y, uplift, treatment)
    perfect = (y_arr * t_arr - y_arr * (1 - t_arr)).astype(np.float64)
    return _normalised_area(qini_curve, y_arr, scores, t_arr, perfect)


def auuc_score(y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike) -> float:
    """Area between the model's uplift curve and the random line over the perfect ranking's."""
    y_arr, scores, t_arr = check_inputs(y, uplift, treatment)
    control_responders = int(((y_arr == 1) & (t_arr == 0)).sum())
    treated_non_responders = int(((y_arr == 0) & (t_arr == 1)).sum())
    # scikit-uplift's ideal ranking; the summand decides which of the two "bad" groups goes last.
    summand = y_arr if control_responders > treated_non_responders else t_arr
    perfect = (2 * (y_arr == t_arr) + summand).astype(np.float64)
    return _normalised_area(uplift_curve, y_arr, scores, t_arr, perfect)


def uplift_at_k(y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike, k: float = 0.3) -> float:
    """Treated minus control response rate among the top `k` fraction of all rows ("overall" strategy)."""
    y_arr, scores, t_arr = check_inputs(y, uplift, treatment)
    if not 0 < k <= 1:
        raise ValueError(f"k must be a fraction in (0, 1], got {k}")
    size = int(len(y_arr) * k)
    # Stable sort reversed, exactly as scikit-uplift, so the rows kept at a tied cut are the same.
    top = np.argsort(scores, kind="mergesort")[::-1][:size]
    top_y, top_t = y_arr[top], t_arr[top]
    n_treated = int(top_t.sum())
    if n_treated == 0 or n_treated == size:
        raise ValueError(f"the top {size} rows (k={k}) must hold both arms to compare response rates")
    return float(top_y[top_t == 1].mean() - top_y[top_t == 0].mean())


def targeted_gain(y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike) -> float:
    """Incremental responders among the rows with a positive score (see the module's definitions)."""
    y_arr, scores, t_arr = check_inputs(y, uplift, treatment)
    chosen = scores > 0
    treated, control = chosen & (t_arr == 1), chosen & (t_arr == 0)
    if not treated.any() or not control.any():
        return 0.0
    return float(chosen.sum() * (y_arr[treated].mean() - y_arr[control].mean()))


def bootstrap_interval(
    metric: Metric,
    y: ArrayLike,
    uplift: ArrayLike,
    treatment: ArrayLike,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """`(point, low, high)`: the metric on all rows and its percentile interval at `level`."""
    y_arr, scores, t_arr = check_inputs(y, uplift, treatment)
    if n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    treated, control = np.flatnonzero(t_arr == 1), np.flatnonzero(t_arr == 0)
    samples = np.empty(n_boot)
    for b in range(n_boot):
        rows = np.concatenate([rng.choice(treated, len(treated)), rng.choice(control, len(control))])
        samples[b] = metric(y_arr[rows], scores[rows], t_arr[rows])
    tail = (1 - level) / 2
    low, high = np.quantile(samples, [tail, 1 - tail])
    return float(metric(y_arr, scores, t_arr)), float(low), float(high)


def _cumulative(
    y: np.ndarray, scores: np.ndarray, treatment: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows, treated rows, treated and control responders in the top n, at each tie-group end and 0."""
    order = np.argsort(-scores, kind="stable")
    y, scores, treatment = y[order], scores[order], treatment[order]
    ends = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    n_t = np.cumsum(treatment)[ends].astype(np.float64)
    r_t = np.cumsum(y * treatment)[ends].astype(np.float64)
    r_c = np.cumsum(y * (1 - treatment))[ends].astype(np.float64)
    n = (ends + 1).astype(np.float64)
    return np.r_[0.0, n], np.r_[0.0, n_t], np.r_[0.0, r_t], np.r_[0.0, r_c]


def _normalised_area(
    curve: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    y: np.ndarray,
    scores: np.ndarray,
    treatment: np.ndarray,
    perfect_scores: np.ndarray,
) -> float:
    x_model, g_model = curve(y, scores, treatment)
    x_best, g_best = curve(y, perfect_scores, treatment)
    # Both curves end at the same point (everyone targeted), so they share the random line.
    random_area = g_best[-1] / 2
    best = np.trapezoid(g_best, x_best) - random_area
    if best <= 0:
        raise ValueError("the score is undefined: no ranking beats a random one (y has no responders?)")
    return float((np.trapezoid(g_model, x_model) - random_area) / best)
