"""Point-in-time training sets: label rows joined to features through Feast, by FeatureService."""

from __future__ import annotations

import pandas as pd
from feast import FeatureService, FeatureStore

from features.definitions import CUSTOMER_KEY

KEYS = [CUSTOMER_KEY, "event_timestamp"]


class MissingFeatures(ValueError):
    """Some label row has no feature row at or before its time in a view of the service."""


def training_frame(store: FeatureStore, labels: pd.DataFrame, feature_service: str) -> pd.DataFrame:
    """`labels` (customer_id, event_timestamp, ...) with each row's features as of its time.

    Feast is asked once per distinct (customer, time) and the answer merged back onto every label
    row: its file offline store silently collapses entity rows that share both
    (feast-dev/feast#6787) and drops one for which some view has no row at or before its time,
    where the DuckDB store returns that view's features as nulls. A label row left without
    features is an error, never a silently shorter training set or a row of made-up nulls.
    """
    # Feast keeps microseconds (the DuckDB store refuses finer times): no feature row lies between
    # a label time and its microsecond floor, so asking at the floor is the same join.
    stamped = labels.assign(event_timestamp=_instants(labels["event_timestamp"]))
    keys = stamped[KEYS].drop_duplicates().reset_index(drop=True)
    service = store.get_feature_service(feature_service)
    features = store.get_historical_features(entity_df=keys, features=service).to_df()
    features["event_timestamp"] = _instants(features["event_timestamp"])
    features = features.drop_duplicates(KEYS)
    features = features[~_without_view_row(store, service, features)]
    joined = stamped.merge(features, on=KEYS, how="left", validate="many_to_one", indicator=True)
    joined["event_timestamp"] = labels["event_timestamp"].array  # the caller's own dtype
    lost = joined[joined.pop("_merge") == "left_only"]
    if len(lost):
        first = lost.iloc[0]
        raise MissingFeatures(
            f"{len(lost)} of {len(labels)} label rows got no features from {feature_service!r}, e.g. "
            f"customer {first[CUSTOMER_KEY]} at {first['event_timestamp']}: some view has no row at or "
            "before that time (a time before sign-up, or data newer than the features: rebuild them)"
        )
    return joined.sort_values(["event_timestamp", CUSTOMER_KEY], kind="stable").reset_index(drop=True)


def _without_view_row(store: FeatureStore, service: FeatureService, features: pd.DataFrame) -> pd.Series:
    """Rows for which some batch view had no row: all its features null. A row a view does have is
    never all null: each view counts something (events, tenure) from sign-up on."""
    views = {view.name for view in store.list_feature_views()}
    missing = pd.Series(False, index=features.index)
    for projection in service.feature_view_projections:
        if projection.name in views:
            columns = [field.name for field in projection.features]
            missing |= features[columns].isna().all(axis=1)
    return missing


def _instants(times: pd.Series) -> pd.Series:
    """UTC to the microsecond, as Feast's offline store keeps them: the merge key on both sides."""
    return pd.to_datetime(times, utc=True).dt.floor("us")


def feature_columns(store: FeatureStore, feature_service: str) -> list[str]:
    service = store.get_feature_service(feature_service)
    return [field.name for projection in service.feature_view_projections for field in projection.features]
