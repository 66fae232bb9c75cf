"""The Feast store on this data folder: write its feature_store.yaml, apply, materialize."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from feast import FeatureStore, FileSource

from configs.schema import FeaturesConfig
from features.catalog import SNAPSHOT_FILE
from features.definitions import repository_objects

log = logging.getLogger(__name__)


def repo_config(config: FeaturesConfig, repo_dir: Path) -> dict[str, object]:
    """The embedded default: local provider, file offline store, SQLite online store."""
    return {
        "project": config.project,
        "provider": "local",
        "registry": str(repo_dir / "registry.db"),
        "online_store": {"type": "sqlite", "path": str(repo_dir / "online_store.db")},
        "offline_store": {"type": "file"},
        "entity_key_serialization_version": 3,
    }


def open_store(repo_dir: Path) -> FeatureStore:
    if not (repo_dir / "feature_store.yaml").exists():
        raise FileNotFoundError(
            f"{repo_dir}: no Feast repository here; run `nudge features apply` first"
        )
    return FeatureStore(repo_path=str(repo_dir))


def apply_repository(config: FeaturesConfig, features_dir: Path, repo_dir: Path) -> FeatureStore:
    """Write feature_store.yaml into `repo_dir` and register every declaration in it."""
    if not (features_dir / SNAPSHOT_FILE).exists():
        raise FileNotFoundError(
            f"{features_dir / SNAPSHOT_FILE}: build features first (`nudge features build`)"
        )
    repo_dir.mkdir(parents=True, exist_ok=True)
    (repo_dir / "feature_store.yaml").write_text(
        yaml.safe_dump(repo_config(config, repo_dir.resolve()))
    )
    store = open_store(repo_dir)
    # Feast types apply() with an invariant list of its own union; ours is a subset of it.
    objects: list[Any] = repository_objects(config, features_dir)
    store.apply(objects)
    log.info("applied Feast repository %s", repo_dir)
    return store


def materialize_latest(config: FeaturesConfig, repo_dir: Path) -> datetime:
    """Load every feature value up to the newest snapshot into the online store."""
    store = open_store(repo_dir)
    end = _newest_snapshot(store) + pd.Timedelta(seconds=1)
    start = end - pd.Timedelta(days=config.ttl_days)
    store.materialize(start_date=start.to_pydatetime(), end_date=end.to_pydatetime())
    return end.to_pydatetime()


def _newest_snapshot(store: FeatureStore) -> pd.Timestamp:
    source = store.get_feature_view("customer_activity").batch_source
    if not isinstance(source, FileSource):
        raise TypeError(f"customer_activity reads {type(source).__name__}, expected a FileSource")
    path = source.path
    stamps = pd.read_parquet(path, columns=["event_timestamp"])["event_timestamp"]
    if stamps.empty:
        return pd.Timestamp(datetime.now(UTC))
    return pd.Timestamp(stamps.max())
