"""Feature vectors as two matrices, and the float matrix a LightGBM booster reads from them.

The online read hands serving `FeatureRows`: float features in one float64 matrix, the others
(strings, None for null) in one object matrix. A DataFrame of one row costs about as much as the
store lookup itself, so serving codes model input straight from the matrices; a frame is built only
for the callers that want one. Offline code passes DataFrames to the same functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import pandas as pd

from features.catalog import STRING_FEATURES


@dataclass(frozen=True)
class FeatureRows:
    numbers: np.ndarray  # rows x float features, NaN for null
    number_names: pd.Index
    objects: np.ndarray  # rows x other features, object dtype
    object_names: pd.Index
    _lookups: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.numbers)

    def take(self, rows: np.ndarray) -> FeatureRows:
        return FeatureRows(
            self.numbers[rows], self.number_names, self.objects[rows], self.object_names, self._lookups
        )

    def floats(self, names: list[str]) -> np.ndarray:
        """The named features as one float matrix (an object feature is converted; None -> NaN)."""
        key = tuple(names)
        where = self._lookups.get(key)
        if where is None:  # models and rules ask for the same columns on every request
            where = self._lookups.setdefault(key, self.number_names.get_indexer(names))
        if (where >= 0).all():
            return self.numbers[:, where]
        return np.column_stack([np.asarray(self.column(name), dtype=np.float64) for name in names])

    def column(self, name: str) -> np.ndarray:
        if name in self.number_names:
            return self.numbers[:, self.number_names.get_loc(name)]
        if name in self.object_names:
            return self.objects[:, self.object_names.get_loc(name)]
        raise KeyError(f"no feature named {name!r} in these rows")

    def frame(self, leading: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
        """A DataFrame of `leading` columns (e.g. the ids), the float features, then the others."""
        # One block per dtype joined once: far cheaper than a DataFrame built column by column.
        index = pd.RangeIndex(len(self))
        parts = []
        if leading:
            block = np.column_stack(list(leading.values()))
            parts.append(pd.DataFrame(block, index=index, columns=list(leading), copy=False))
        parts.append(pd.DataFrame(self.numbers, index=index, columns=self.number_names, copy=False))
        if len(self.object_names):
            parts.append(pd.DataFrame(self.objects, index=index, columns=self.object_names, copy=False))
        return pd.concat(parts, axis=1, copy=False) if len(parts) > 1 else parts[0]


Rows: TypeAlias = pd.DataFrame | FeatureRows

# Up to this many values, strings are coded one by one rather than through pandas' get_indexer.
_FEW_ROWS = 16


def float_columns(rows: Rows, names: list[str]) -> np.ndarray:
    """The named features of `rows` as one float64 matrix, NaN for null."""
    if isinstance(rows, FeatureRows):
        return rows.floats(names)
    return rows[names].to_numpy(dtype=np.float64, na_value=np.nan)


def model_matrix(rows: Rows, columns: list[str], categories: Mapping[str, pd.Index]) -> np.ndarray:
    """catalog.model_frame as the float matrix a LightGBM booster reads, for models whose training
    `categories` per string column are known: a string becomes its position there, NaN when
    missing or unseen, exactly as LightGBM's own pandas conversion codes it."""
    matrix = np.empty((len(rows), len(columns)), dtype=np.float64)
    numeric = [j for j, name in enumerate(columns) if name not in STRING_FEATURES]
    matrix[:, numeric] = float_columns(rows, [columns[j] for j in numeric])
    for j, name in enumerate(columns):
        if name in STRING_FEATURES:
            values = rows.column(name) if isinstance(rows, FeatureRows) else rows[name].to_numpy(dtype=object)
            matrix[:, j] = category_codes(categories[name], values)
    return matrix


def category_codes(categories: pd.Index, values: np.ndarray) -> np.ndarray:
    """Each value's position among `categories`, NaN when missing or unseen."""
    if len(values) <= _FEW_ROWS:  # get_indexer first builds an Index of the values: ~80 µs per call
        return np.array([categories.get_loc(v) if v in categories else np.nan for v in values], np.float64)
    codes = categories.get_indexer(values)
    return np.where(codes < 0, np.nan, codes)
