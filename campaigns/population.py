"""Every current customer's features as of now: the batch scoring path of audiences.

"Now" is the newest feature snapshot (`data_now`), and the population is every customer in it.
Features come through Feast's offline point-in-time join on the uplift FeatureService, exactly as
the uplift models were trained, in chunks so a large population shows progress and bounded memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd
import pyarrow.parquet as pq
from feast import FeatureStore, FileSource
from rich.progress import Progress

from features.catalog import VIEWS
from features.definitions import CUSTOMER_KEY
from features.store import data_now
from training.dataset import training_frame

log = logging.getLogger(__name__)

CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class Population:
    features: pd.DataFrame  # one row per customer, customer_id and event_timestamp included
    as_of: pd.Timestamp
    feature_service: str

    def __len__(self) -> int:
        return len(self.features)


def current_customers(store: FeatureStore, at: pd.Timestamp) -> pd.Series:
    """Ids of the customers in the feature snapshot at `at` (every known customer has a row)."""
    source = store.get_feature_view(VIEWS[0].name).batch_source
    if not isinstance(source, FileSource):
        raise TypeError(f"{VIEWS[0].name} reads {type(source).__name__}, expected a FileSource")
    table = pq.read_table(
        source.path, columns=[CUSTOMER_KEY], filters=[("event_timestamp", "=", at.to_pydatetime())]
    )
    ids = table.column(CUSTOMER_KEY).to_pandas().astype("int64")
    return ids.drop_duplicates().sort_values(ignore_index=True)


def population_features(
    store: FeatureStore, feature_service: str, progress: bool = True, chunk_rows: int = CHUNK_ROWS
) -> Population:
    """Features of every current customer as of the newest snapshot, via Feast's offline store."""
    now = data_now(store)
    ids = current_customers(store, now)
    if ids.empty:
        raise ValueError(f"no customers in the feature snapshot at {now}; run `nudge features build`")
    parts = []
    with Progress(disable=not progress) as bar:
        task = bar.add_task("population features", total=len(ids))
        for start in range(0, len(ids), chunk_rows):
            chunk = ids.iloc[start : start + chunk_rows]
            entities = pd.DataFrame({CUSTOMER_KEY: chunk.to_numpy(), "event_timestamp": now})
            parts.append(training_frame(store, entities, feature_service))
            bar.advance(task, len(chunk))
    features = pd.concat(parts, ignore_index=True).sort_values(CUSTOMER_KEY, ignore_index=True)
    log.info("population of %d customers as of %s", len(features), now)
    return Population(features, now, feature_service)
