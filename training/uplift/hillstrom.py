"""The Hillstrom e-mail experiment (MineThatData, 2008) as uplift tasks: a real randomized benchmark.

64,000 customers were split at random into three equal arms: a men's e-mail, a women's e-mail, no
e-mail. A task pairs one e-mail arm with the no-e-mail arm, so the known propensity is 1/2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

FILENAME = "Kevin_Hillstrom_MineThatData_E-MailAnalytics_DataMiningChallenge_2008.03.20.csv"
CONTROL_SEGMENT = "No E-Mail"
TREATED_SEGMENTS = {"womens": "Womens E-Mail", "mens": "Mens E-Mail"}
TARGETS = ("visit", "conversion")
CATEGORICAL = ("zip_code", "channel")
# history_segment is a binned copy of history, which trees already split on.
NUMERIC = ("recency", "history", "mens", "womens", "newbie")
PROPENSITY = 0.5


@dataclass(frozen=True)
class UpliftData:
    X: pd.DataFrame
    y: np.ndarray
    treatment: np.ndarray

    def subset(self, rows: np.ndarray) -> UpliftData:
        return UpliftData(self.X.iloc[rows], self.y[rows], self.treatment[rows])


def read_hillstrom(path: Path) -> pd.DataFrame:
    """The raw file, with its columns checked."""
    raw = pd.read_csv(path)
    expected = {*CATEGORICAL, *NUMERIC, "segment", *TARGETS}
    missing = expected - set(raw.columns)
    if missing:
        raise ValueError(f"{path} lacks the Hillstrom columns {sorted(missing)}")
    return raw


def uplift_task(raw: pd.DataFrame, arm: str, target: str = "visit") -> UpliftData:
    """One e-mail arm against no e-mail: features, the binary target and the treatment indicator."""
    if arm not in TREATED_SEGMENTS:
        raise ValueError(f"arm must be one of {', '.join(TREATED_SEGMENTS)}, got {arm!r}")
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")
    rows = raw[raw["segment"].isin([TREATED_SEGMENTS[arm], CONTROL_SEGMENT])]
    treatment = (rows["segment"] == TREATED_SEGMENTS[arm]).to_numpy(dtype=np.int64)
    return UpliftData(features(rows), rows[target].to_numpy(dtype=np.int64), treatment)


def features(rows: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns as they are, categorical ones as pandas categories LightGBM splits natively."""
    X = rows[list(NUMERIC)].astype(np.float64).reset_index(drop=True)
    for column in CATEGORICAL:
        X[column] = pd.Categorical(rows[column].to_numpy())
    return X


def split_half(data: UpliftData, seed: int = 42) -> tuple[UpliftData, UpliftData]:
    """A 50/50 train/test split stratified by treatment x outcome."""
    rows = np.arange(len(data.y))
    train, test = train_test_split(
        rows, test_size=0.5, random_state=seed, stratify=2 * data.treatment + data.y
    )
    return data.subset(np.sort(train)), data.subset(np.sort(test))
