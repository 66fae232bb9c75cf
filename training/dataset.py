"""Point-in-time training sets: label rows joined to features through Feast, by FeatureService."""

from __future__ import annotations

import pandas as pd
from feast import FeatureStore

from features.definitions import CUSTOMER_KEY

KEYS = [CUSTOMER_KEY, "event_timestamp"]


class MissingFeatures(ValueError):
    """Some label row has no feature row at or before its time in a view of the service."""


def training_frame(store: FeatureStore, labels: pd.DataFrame, feature_service: str) -> pd.DataFrame:
    """`labels` (customer_id, event_timestamp, ...) with each row's features as of its time.

    Feast is asked once per distinct (customer, time) and the answer merged back onto every label
    row: its file offline store silently collapses entity rows that share both
    (feast-dev/feast#6787) and drops one for which some view has no row at or before its time. A
    label row left without features is an error, never a silently shorter training set.
    """
    keys = labels[KEYS].drop_duplicates().reset_index(drop=True)
    service = store.get_feature_service(feature_service)
    features = store.get_historical_features(entity_df=keys, features=service).to_df()
    features["event_timestamp"] = _instants(features["event_timestamp"])
    features = features.drop_duplicates(KEYS)
    stamped = labels.assign(event_timestamp=_instants(labels["event_timestamp"]))
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


def _instants(times: pd.Series) -> pd.Series:
    """UTC to the microsecond, as Feast's offline store keeps them: the merge key on both sides."""
    return pd.to_datetime(times, utc=True).dt.floor("us")


def feature_columns(store: FeatureStore, feature_service: str) -> list[str]:
    service = store.get_feature_service(feature_service)
    return [field.name for projection in service.feature_view_projections for field in projection.features]
