"""The production online store: a real redis-server (started by scripts/redis.sh) behind Feast."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pandas as pd
import pytest
import redis

from configs.schema import FeaturesConfig
from features.store import DEFAULT_REDIS, apply_repository, materialize_latest, open_store, push_events
from tests.pipeline import Pipeline

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def redis_address() -> str:
    address = os.environ.get("NUDGE_REDIS_CONNECTION", DEFAULT_REDIS)
    host, port = address.split(",")[0].split(":")
    # Idempotent: installs (as root on Debian) and starts the server if nothing answers there.
    subprocess.run(
        [str(ROOT / "scripts" / "redis.sh"), "start"],
        check=True,
        env={**os.environ, "NUDGE_REDIS_PORT": port},
    )
    assert redis.Redis(host=host, port=int(port)).ping()
    return address


def test_redis_store_serves_the_same_vectors_as_sqlite(
    trained_pipeline: Pipeline, redis_address: str, tmp_path: Path
) -> None:
    project = f"nudge_test_{uuid.uuid4().hex[:8]}"
    config = FeaturesConfig(online_store="redis", project=project)
    features_dir = trained_pipeline.data_dir / "features"
    redis_store = apply_repository(config, features_dir, tmp_path / "repo")
    assert redis_store.config.online_store.type == "redis"
    materialize_latest(config, tmp_path / "repo")
    sqlite_store = open_store(trained_pipeline.data_dir / "feature_repo")

    profile = pd.read_parquet(features_dir / "customer_profile.parquet")
    ids = profile[profile["event_timestamp"] == profile["event_timestamp"].max()]["customer_id"].head(25)
    rows = [{"customer_id": int(i)} for i in ids] + [{"customer_id": -5}]
    service = "uplift_v1"
    from_redis = redis_store.get_online_features(
        features=redis_store.get_feature_service(service), entity_rows=rows
    ).to_df()
    from_sqlite = sqlite_store.get_online_features(
        features=sqlite_store.get_feature_service(service), entity_rows=rows
    ).to_df()
    pd.testing.assert_frame_equal(from_redis.sort_index(axis=1), from_sqlite.sort_index(axis=1))
    assert from_redis["tenure_days"].iloc[:-1].notna().all() and pd.isna(from_redis["tenure_days"].iloc[-1])

    event = pd.DataFrame(
        {
            "customer_id": [-5],
            "event_type": ["order"],
            "event_timestamp": [pd.Timestamp("2030-01-01", tz="UTC")],
        }
    )
    assert push_events(redis_store, event) == 1
    pushed = redis_store.get_online_features(
        features=["customer_realtime:last_order_epoch_s"], entity_rows=[{"customer_id": -5}]
    ).to_dict()
    assert pushed["last_order_epoch_s"] == [pd.Timestamp("2030-01-01", tz="UTC").timestamp()]
