"""Feast declarations: the customer entity, feature views and the versioned FeatureServices.

Built by functions (not module globals) because source paths depend on where the data lives, and
Feast objects must not be created at import time.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.types import Float64

from configs.schema import FeaturesConfig
from features.catalog import ACTIVITY_FEATURES, SNAPSHOT_FILE

CUSTOMER_KEY = "customer_id"


def customer_entity() -> Entity:
    return Entity(
        name="customer",
        join_keys=[CUSTOMER_KEY],
        value_type=ValueType.INT64,
        description="A shop customer (member).",
    )


def customer_activity_view(config: FeaturesConfig, features_dir: Path) -> FeatureView:
    source = FileSource(
        name="customer_activity_source",
        path=str((features_dir / SNAPSHOT_FILE).resolve()),
        timestamp_field="event_timestamp",
    )
    return FeatureView(
        name="customer_activity",
        entities=[customer_entity()],
        ttl=timedelta(days=config.ttl_days),
        schema=[
            Field(name=name, dtype=Float64, description=text)
            for name, text in ACTIVITY_FEATURES.items()
        ],
        source=source,
        online=True,
        description="Tenure, RFM and windowed activity per event family, snapshotted.",
    )


def feature_services(view: FeatureView) -> list[FeatureService]:
    # A new model version that needs other features gets a new service name (churn_v2), so the
    # models already registered keep reading exactly what they were trained on.
    return [
        FeatureService(name="churn_v1", features=[view], description="Churn risk model inputs."),
    ]


def repository_objects(
    config: FeaturesConfig, features_dir: Path
) -> list[Entity | FeatureView | FeatureService]:
    view = customer_activity_view(config, features_dir)
    return [customer_entity(), view, *feature_services(view)]
