"""Feast declarations: the customer entity, one feature view per domain, the pushed real-time view,
request-time (on-demand) recency features and the versioned FeatureServices.

Built by functions, not module globals, because source paths depend on where the data lives and
Feast objects must not be created at import time.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from feast import (
    Entity,
    FeatureService,
    FeatureView,
    Field,
    FileSource,
    PushSource,
    RequestSource,
    ValueType,
)
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float64, String

from configs.schema import FeaturesConfig
from features.catalog import REALTIME, SERVICES, STRING_FEATURES, VIEWS, ViewSpec

CUSTOMER_KEY = "customer_id"
PUSH_SOURCE = "customer_events_push"
REQUEST_TIME = "request_epoch_s"
RECENCY_NOW = "customer_recency_now"


def customer_entity() -> Entity:
    return Entity(
        name="customer",
        join_keys=[CUSTOMER_KEY],
        value_type=ValueType.INT64,
        description="A shop customer (member).",
    )


def _fields(spec: ViewSpec) -> list[Field]:
    return [
        Field(name=name, dtype=String if name in STRING_FEATURES else Float64, description=text)
        for name, text in spec.features.items()
    ]


def _source(spec: ViewSpec, features_dir: Path) -> FileSource:
    return FileSource(
        name=f"{spec.name}_source",
        path=str((features_dir / spec.file).resolve()),
        timestamp_field="event_timestamp",
    )


def batch_view(spec: ViewSpec, config: FeaturesConfig, features_dir: Path) -> FeatureView:
    # A snapshot older than the TTL is not served: past it, Feast returns nulls (cold start)
    # rather than stale values dressed as fresh.
    return FeatureView(
        name=spec.name,
        entities=[customer_entity()],
        ttl=timedelta(days=config.ttl_days),
        schema=_fields(spec),
        source=_source(spec, features_dir),
        online=True,
        description=spec.description,
    )


def realtime_view(config: FeaturesConfig, features_dir: Path) -> FeatureView:
    """Last-event times, backfilled from snapshots and updated online by pushed events."""
    push = PushSource(name=PUSH_SOURCE, batch_source=_source(REALTIME, features_dir))
    return FeatureView(
        name=REALTIME.name,
        entities=[customer_entity()],
        ttl=timedelta(days=config.ttl_days),
        schema=_fields(REALTIME),
        source=push,
        online=True,
        description=REALTIME.description,
    )


def recency_now_view(realtime: FeatureView) -> Any:
    request = RequestSource(
        name="request_time",
        schema=[Field(name=REQUEST_TIME, dtype=Float64, description="Request time, Unix seconds.")],
    )

    @on_demand_feature_view(
        name=RECENCY_NOW,
        sources=[realtime, request],
        schema=[
            Field(name="hours_since_last_visit", dtype=Float64),
            Field(name="hours_since_last_cart_add", dtype=Float64),
            Field(name="hours_since_last_order", dtype=Float64),
        ],
        # Python, not pandas: a served request is one customer, and building DataFrames for one row
        # cost more than the whole store lookup.
        mode="python",
        description="Hours from each last event to the request time (null if never).",
    )
    def customer_recency_now(inputs: dict[str, list[Any]]) -> dict[str, list[float | None]]:
        # Self-contained: Feast stores this function in its registry and runs it in other processes.
        def hours(last: Any, now: Any) -> float | None:
            missing = last is None or now is None or last != last or now != now  # None or NaN
            return None if missing else (float(now) - float(last)) / 3600.0

        now = inputs["request_epoch_s"]
        return {
            f"hours_since_last_{event}": [
                hours(last, at) for last, at in zip(inputs[f"last_{event}_epoch_s"], now, strict=True)
            ]
            for event in ("visit", "cart_add", "order")
        }

    return customer_recency_now


def feature_services(views: dict[str, FeatureView], recency_now: Any) -> list[FeatureService]:
    services = [
        FeatureService(
            name=name,
            features=[views[spec.name] for spec in specs],
            description=f"Inputs of the {name.rsplit('_v', 1)[0]} model, version {name.rsplit('_v', 1)[1]}.",
        )
        for name, specs in SERVICES.items()
    ]
    services.append(
        FeatureService(
            name="realtime_v1",
            features=[views[REALTIME.name], recency_now],
            description="Last-event times and request-time recency, for triggered messages.",
        )
    )
    return services


def repository_objects(config: FeaturesConfig, features_dir: Path) -> list[Any]:
    views = {spec.name: batch_view(spec, config, features_dir) for spec in VIEWS}
    views[REALTIME.name] = realtime_view(config, features_dir)
    recency_now = recency_now_view(views[REALTIME.name])
    return [customer_entity(), *views.values(), recency_now, *feature_services(views, recency_now)]
