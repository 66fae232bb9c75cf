"""Measured campaigns become uplift training data: a launched campaign's rows join the raw tables.

The whole dataset is rewritten through `update_dataset` (under the dataset's lock, every table
validated, the folder swapped in one move), so the raw data either has the campaign completely or
not at all, and two campaigns added at once both land. A campaign id already in the raw data is
never added twice, and assignments of customers the raw data does not know are refused, naming
the file they came from.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from events.store import ContractError, read_table, update_dataset

log = logging.getLogger(__name__)


def campaign_in_raw(raw: Path, campaign_id: str) -> bool:
    return campaign_id in set(read_table(raw, "campaigns")["campaign_id"].astype(str))


def append_campaign(raw: Path, campaign: pd.DataFrame, assignments: pd.DataFrame, source: Path) -> int:
    """Add one campaign and its assignments to the dataset at `raw`; the number of rows added."""
    ids = set(campaign["campaign_id"].astype(str)) | set(assignments["campaign_id"].astype(str))
    if len(ids) != 1 or len(campaign) != 1:
        raise ContractError(f"{source}: expected one campaign row and its assignments, got ids {sorted(ids)}")
    campaign_id = ids.pop()
    duplicated = assignments["customer_id"].duplicated()
    if duplicated.any():
        first = assignments.loc[duplicated, "customer_id"].head(5).tolist()
        raise ContractError(f"{source}/campaign_assignments.parquet: customers assigned twice, first {first}")

    def with_campaign(dataset: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        for name in ("campaigns", "campaign_assignments"):
            if campaign_id in set(dataset[name]["campaign_id"].astype(str)):
                raise ValueError(f"campaign {campaign_id!r} is already in {raw / name}.parquet; not added")
        known = set(dataset["customers"]["customer_id"].astype("int64"))
        unknown = sorted(set(assignments["customer_id"].astype("int64")) - known)
        if unknown:
            raise ContractError(
                f"{source}/campaign_assignments.parquet: {len(unknown)} customer id(s) not in "
                f"{raw}/customers.parquet, first {unknown[:5]}; nothing was added"
            )
        tables = {"campaigns": campaign, "campaign_assignments": assignments}
        return {
            name: pd.concat([frame, tables[name]], ignore_index=True) if name in tables else frame
            for name, frame in dataset.items()
        }

    update_dataset(raw, with_campaign)
    log.info("appended campaign %s (%d assignments) to %s", campaign_id, len(assignments), raw)
    return len(assignments)
