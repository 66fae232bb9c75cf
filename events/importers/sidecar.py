"""The covariates file an RCT import keeps next to the dataset, outside the event contract.

It is keyed by the dataset's customer ids, so it must never outlive the dataset it belongs to:
every import replaces or removes it together with the dataset.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from configs.atomic import replacing
from events.store import write_dataset

log = logging.getLogger(__name__)

COVARIATES_FILE = "rct_covariates.parquet"


def covariates_path(dest: Path) -> Path:
    """`<dest>/../rct_covariates.parquet`: beside the dataset, as the contract folder is swapped
    in whole by the store and holds contract tables only."""
    return dest.parent / COVARIATES_FILE


def write_with_covariates(
    tables: Mapping[str, pd.DataFrame], dest: Path, covariates: pd.DataFrame | None
) -> dict[str, int]:
    """Write the dataset, then move its covariates in (or remove stale ones when None).

    The covariates are staged before the dataset is written, so a failure writing them cannot
    leave a new dataset beside old covariates; a failed dataset write leaves both untouched.
    """
    target = covariates_path(dest)
    if covariates is None:
        counts = write_dataset(tables, dest)
        if target.exists():
            target.unlink()
            log.info("removed %s: it described the dataset just replaced", target)
        return counts
    with replacing(target) as staged:
        covariates.to_parquet(staged, index=False)
        counts = write_dataset(tables, dest)
    log.info("wrote covariates of %d customers to %s", len(covariates), target)
    return counts
