"""The production online store: a real redis-server (started by scripts/redis.sh) behind Feast."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from feast import FeatureStore

from configs.schema import FeaturesConfig
from features.online import OnlineReader
from features.realtime import push_events
from features.store import (
    apply_repository,
    data_now,
    materialize_latest,
    open_store,
)
from tests.pipeline import Pipeline, make_pipeline
from tests.redis_server import drop_project, start_redis

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def redis_address() -> str:
    return start_redis()


def test_redis_store_serves_the_same_vectors_as_sqlite(
    trained_pipeline: Pipeline, redis_address: str, tmp_path: Path
) -> None:
    project = f"nudge_test_{uuid.uuid4().hex[:8]}"
    config = FeaturesConfig(online_store="redis", project=project)
    features_dir = trained_pipeline.data_dir / "features"
    redis_store = apply_repository(config, features_dir, tmp_path / "repo")
    assert redis_store.config.online_store.type == "redis"
    try:
        _check_redis_against_sqlite(trained_pipeline, redis_store, config, tmp_path / "repo")
    finally:
        drop_project(redis_store)


def _check_redis_against_sqlite(
    trained_pipeline: Pipeline, redis_store: FeatureStore, config: FeaturesConfig, repo: Path
) -> None:
    features_dir = trained_pipeline.data_dir / "features"
    materialize_latest(config, repo)
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


@pytest.fixture(scope="module")
def redis_features(redis_address: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeatureStore]:
    """Simulated features (no models needed) in Redis under a project of their own, removed after;
    one customer has pushed events only, so some rows have some views and not others."""
    pipeline = make_pipeline(tmp_path_factory.mktemp("redis_reader"))
    pipeline.run("simulate", "--customers", "400", "--days", "60", "--seed", "5")
    pipeline.run("features", "build")
    project = f"nudge_test_{uuid.uuid4().hex[:8]}"
    config = FeaturesConfig(online_store="redis", project=project)
    store = apply_repository(config, pipeline.data_dir / "features", pipeline.root / "repo")
    materialize_latest(config, pipeline.root / "repo", progress=False)
    event = {"customer_id": [-7], "event_type": ["visit"], "event_timestamp": [data_now(store)]}
    push_events(store, pd.DataFrame(event))
    yield store
    drop_project(store)


@pytest.mark.parametrize("service", ["uplift_v1", "realtime_v1"])
def test_online_reader_on_redis_returns_what_feast_returns(
    redis_features: FeatureStore, service: str
) -> None:
    """The serving reader reads Redis in bulk; its values must be Feast's, None being NaN in floats."""
    store = redis_features
    now = data_now(store).timestamp()
    ids = [*range(1, 31), -7, 10**12, 7, 7]
    vectors = OnlineReader(store, service, lambda: now).read(ids)
    rows = [{"customer_id": i, "request_epoch_s": now} for i in ids]
    feast = store.get_online_features(features=store.get_feature_service(service), entity_rows=rows).to_dict(
        include_event_timestamps=True
    )

    returned = [name for name in feast if not name.endswith("__ts")]
    assert sorted(vectors.features.columns) == sorted(returned)
    for name in returned:
        for theirs, ours in zip(feast[name], vectors.features[name].tolist(), strict=True):
            if theirs is None:
                assert ours is None or (isinstance(ours, float) and math.isnan(ours)), name
            else:
                assert type(theirs) is type(ours) and theirs == ours, name
    stamps = [n for n in feast if n.endswith("__ts") and n != "customer_id__ts"]
    assert vectors.as_of_epoch_s.tolist() == [max(s) for s in zip(*(feast[n] for n in stamps), strict=True)]
    assert vectors.fresh[:30].all() and not vectors.fresh[31]
    assert vectors.fresh[30] == (service == "realtime_v1")  # pushed events only
