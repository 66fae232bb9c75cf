"""Stable int64 identifiers for source ids of any spelling.

The contract wants int64 ids. A source id that is an integer (``17850``, ``"00042"``, or ``17850.0``
as parquet stores nullable ints) keeps its value, so imported ids can be looked up at the source.
Any other id (``"85123A"``, ``"C536379"``) gets the first 63 bits of its BLAKE2b digest: the same
text always maps to the same id, in every file and every run, which a running counter would not do.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from events.store import ContractError

# Up to 18 digits always fits int64; an optional ".0" tail is how floats spell integers.
_INTEGER = r"[+-]?\d{1,18}(?:\.0*)?"


def stable_ids(keys: pd.Series, what: str) -> pd.Series:
    """int64 ids for the non-missing text `keys`; distinct keys always get distinct ids."""
    codes, uniques = pd.factorize(keys.astype("string"))
    if (codes < 0).any():
        raise ValueError(f"stable_ids: {what} has missing keys; drop them first")
    ids = _integer_ids(pd.Series(uniques, dtype="string"))
    if ids is None:
        ids = _hashed_ids(uniques)
    if len(np.unique(ids)) != len(ids):
        raise ContractError(f"{what}: two distinct ids hash to the same int64 id; rename one")
    return pd.Series(ids[codes], index=keys.index, dtype="int64")


def _integer_ids(uniques: pd.Series) -> np.ndarray | None:
    """Integers keep their value, others are hashed; None if that would merge two keys.

    "7" and "007" (or "7" and "7.0") are distinct source ids with the same value: keeping values
    would merge two customers, so such a column is hashed whole instead.
    """
    integral = uniques.str.fullmatch(_INTEGER).fillna(False).to_numpy(dtype=bool)
    ids = np.empty(len(uniques), dtype="int64")
    whole = uniques[integral].str.replace(r"\.0*$", "", regex=True)
    ids[integral] = pd.to_numeric(whole).to_numpy(dtype="int64")
    ids[~integral] = _hashed_ids(uniques[~integral].to_numpy(dtype=object))
    if len(np.unique(ids[integral])) != integral.sum():
        return None
    return ids


def _hashed_ids(texts: np.ndarray | pd.Index) -> np.ndarray:
    # Python's hash() is salted per process, pandas' hash_array is an implementation detail;
    # BLAKE2b is fixed by its RFC, so ids survive upgrades.
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(str(t).encode(), digest_size=8).digest(), "big") >> 1 for t in texts),
        dtype="int64",
        count=len(texts),
    )
