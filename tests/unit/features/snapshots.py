"""Small feature snapshots written as the views' parquet files, for real Feast stores in tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.catalog import REALTIME, STRING_FEATURES, VIEWS, ViewSpec
from features.definitions import CUSTOMER_KEY


def snapshot(
    spec: ViewSpec, customers: np.ndarray, at: pd.Timestamp, rng: np.random.Generator
) -> pd.DataFrame:
    """One snapshot of `spec` at `at`: random values with some nulls, strings where the view has them."""
    frame = pd.DataFrame({CUSTOMER_KEY: customers, "event_timestamp": at})
    for name in spec.features:
        if name in STRING_FEATURES:
            frame[name] = pd.Series(rng.choice(["north", "south", "web"], len(customers)), dtype=object)
            frame.loc[2, name] = None
        else:
            frame[name] = rng.normal(size=len(customers)) * 1000
            frame.loc[rng.random(len(customers)) < 0.2, name] = np.nan
    return frame


def write_snapshots(
    root: Path, customers: np.ndarray, times: list[pd.Timestamp], rng: np.random.Generator
) -> None:
    """Every view's file in `root`, with one snapshot per time."""
    for spec in (*VIEWS, REALTIME):
        frames = [snapshot(spec, customers, at, rng) for at in times]
        pd.concat(frames, ignore_index=True).to_parquet(root / spec.file)
