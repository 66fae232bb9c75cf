"""The Feast store on this data folder: write its feature_store.yaml, apply, materialize, push.

Online store: SQLite by default (embedded); Redis when `online_store: redis`, at the address in
NUDGE_REDIS_CONNECTION (default 127.0.0.1:6390, the port scripts/redis.sh starts).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import yaml
from feast import FeatureStore, FileSource, PushSource
from rich.progress import Progress

from configs.schema import FeaturesConfig
from features.catalog import REALTIME, VIEWS
from features.definitions import CUSTOMER_KEY, repository_objects
from features.realtime import raise_stored

log = logging.getLogger(__name__)

DEFAULT_REDIS = "127.0.0.1:6390"


def online_store_config(config: FeaturesConfig, repo_dir: Path) -> dict[str, object]:
    if config.online_store == "redis":
        address = os.environ.get("NUDGE_REDIS_CONNECTION", DEFAULT_REDIS)
        # Pushed rows are merged field by field under a lock (features.realtime); Feast's own check
        # would drop a merged row whose timestamp did not move, and with it a late event.
        return {"type": "redis", "connection_string": address, "skip_dedup": True}
    return {"type": "sqlite", "path": str(repo_dir / "online_store.db")}


def repo_config(config: FeaturesConfig, repo_dir: Path) -> dict[str, object]:
    return {
        "project": config.project,
        "provider": "local",
        "registry": str(repo_dir / "registry.db"),
        "online_store": online_store_config(config, repo_dir),
        "offline_store": {"type": config.offline_store},
        "entity_key_serialization_version": 3,
    }


def open_store(repo_dir: Path) -> FeatureStore:
    if not (repo_dir / "feature_store.yaml").exists():
        raise FileNotFoundError(f"{repo_dir}: no Feast repository here; run `nudge features apply` first")
    return FeatureStore(repo_path=str(repo_dir))


def apply_repository(config: FeaturesConfig, features_dir: Path, repo_dir: Path) -> FeatureStore:
    """Write feature_store.yaml into `repo_dir` and register every declaration in it."""
    missing = [v.file for v in (*VIEWS, REALTIME) if not (features_dir / v.file).exists()]
    if missing:
        raise FileNotFoundError(f"{features_dir}: missing {missing}; run `nudge features build` first")
    repo_dir.mkdir(parents=True, exist_ok=True)
    (repo_dir / "feature_store.yaml").write_text(yaml.safe_dump(repo_config(config, repo_dir.resolve())))
    store = open_store(repo_dir)
    with warnings.catch_warnings():
        # customer_recency_now is computed per request online, where on-demand views are cheap;
        # Feast's notice that they "do not scale well for offline retrieval" is not for us.
        warnings.filterwarnings("ignore", "On demand feature view is an experimental", RuntimeWarning)
        store.apply(repository_objects(config, features_dir))
    log.info("applied Feast repository %s", repo_dir)
    return store


def materialize_latest(config: FeaturesConfig, repo_dir: Path, progress: bool = True) -> datetime:
    """Load the newest snapshot of every view into the online store, in bounded chunks.

    Every customer has a row in the newest snapshot, so that is all the online store needs.
    `FeatureStore.materialize` would build a whole view's values in memory before writing
    (about 65 GB at a million customers); writing chunks keeps memory flat and shows progress.
    The real-time view is merged rather than overwritten: events pushed after the snapshot stay.
    """
    store = open_store(repo_dir)
    newest = data_now(store)
    views = [store.get_feature_view(spec.name) for spec in (*VIEWS, REALTIME)]
    with Progress(disable=not progress) as bar:
        for view in views:
            frame = _snapshot_rows(view.batch_source, newest)
            task = bar.add_task(f"materialize {view.name}", total=len(frame))
            for start in range(0, len(frame), config.materialize_chunk_rows):
                chunk = frame.iloc[start : start + config.materialize_chunk_rows]
                if view.name == REALTIME.name:
                    times = chunk.set_index(CUSTOMER_KEY)[list(REALTIME.features)]
                    raise_stored(store, times, pd.Series(newest.timestamp(), index=times.index))
                else:
                    store.write_to_online_store(view.name, chunk)
                bar.advance(task, len(chunk))
            # As FeatureStore.materialize does: the registry records what the online store holds,
            # and servers watching it (serving.score_table) learn that the values changed.
            store.registry.apply_materialization(view, store.project, newest, newest)
    return newest.to_pydatetime()


def materialized_version(store: FeatureStore, service: str) -> tuple[str, ...]:
    """Which online store holds `service`'s stored views and when each last changed in the registry
    (a materialization or an apply), read afresh from the registry: equal tuples mean the online
    values are the same. The store is part of it because moving a repo to another online store
    (features apply) records no change of the views themselves."""
    names = {p.name for p in store.get_feature_service(service, allow_cache=False).feature_view_projections}
    views = store.registry.list_feature_views(store.project, allow_cache=False)
    online = json.dumps(store.config.online_store.model_dump(mode="json"), sort_keys=True)
    # Hashed: a Redis connection string may hold a password.
    where = "online@" + hashlib.sha256(online.encode()).hexdigest()[:16]
    return (where, *sorted(f"{v.name}@{v.last_updated_timestamp}" for v in views if v.name in names))


def live_features(store: FeatureStore) -> set[str]:
    """Features whose online values change without a materialization: pushed and on-demand views."""
    pushed = {f.name for v in store.list_feature_views() if v.stream_source is not None for f in v.features}
    return pushed | {f.name for v in store.list_on_demand_feature_views() for f in v.features}


def snapshot_customers(store: FeatureStore) -> list[int]:
    """The customer ids of the newest snapshot: every customer materialize_latest puts online."""
    source = store.get_feature_view(VIEWS[0].name).batch_source
    ids: list[int] = _snapshot_rows(source, data_now(store), [CUSTOMER_KEY])[CUSTOMER_KEY].tolist()
    return ids


def _snapshot_rows(source: object, at: pd.Timestamp, columns: list[str] | None = None) -> pd.DataFrame:
    if not isinstance(source, (FileSource, PushSource)):
        raise TypeError(f"expected a file or push source, got {type(source).__name__}")
    batch = source.batch_source if isinstance(source, PushSource) else source
    assert isinstance(batch, FileSource)
    table = pq.read_table(batch.path, columns=columns, filters=[("event_timestamp", "=", at.to_pydatetime())])
    return table.to_pandas()


def data_now(store: FeatureStore) -> pd.Timestamp:
    """The newest snapshot time: "now" for data that stops in the past (a simulation, an import)."""
    source = store.get_feature_view(VIEWS[0].name).batch_source
    if not isinstance(source, FileSource):
        raise TypeError(f"{VIEWS[0].name} reads {type(source).__name__}, expected a FileSource")
    # The parquet footer keeps each row group's max; no need to read 20M timestamps.
    metadata = pq.ParquetFile(source.path).metadata
    column = metadata.schema.names.index("event_timestamp")
    maxima = [metadata.row_group(i).column(column).statistics.max for i in range(metadata.num_row_groups)]
    if not maxima:
        raise ValueError(f"{source.path}: no feature snapshots")
    newest = pd.Timestamp(max(maxima))
    return newest.tz_convert("UTC") if newest.tzinfo else newest.tz_localize("UTC")
