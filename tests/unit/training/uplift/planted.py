"""A randomized experiment with a planted effect: positive for x1 > 0, negative ("sleeping dogs") below."""

from __future__ import annotations

import numpy as np
import pandas as pd


def planted_experiment(
    n: int = 6000, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """`(X, y, treatment, true_effect)`: x1 drives the effect, x2 and channel only the base rate."""
    rng = np.random.default_rng(seed)
    x1 = rng.uniform(-1, 1, n)
    x2 = rng.normal(size=n)
    channel = rng.choice(["web", "phone", "store"], n)
    treatment = rng.integers(0, 2, n)
    base = -0.8 + 0.8 * x2 + np.select([channel == "web", channel == "phone"], [0.4, -0.4], 0.0)
    p_control = 1 / (1 + np.exp(-base))
    p_treated = 1 / (1 + np.exp(-(base + 1.6 * x1)))
    y = (rng.uniform(size=n) < np.where(treatment == 1, p_treated, p_control)).astype(int)
    x2_seen = np.where(rng.uniform(size=n) < 0.05, np.nan, x2)
    X = pd.DataFrame(
        {"x1": x1, "x2": x2_seen, "channel": pd.Categorical(channel), "noise": rng.normal(size=n)}
    )
    return X, y, treatment, p_treated - p_control
