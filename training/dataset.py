"""Point-in-time training sets: label rows joined to features through Feast, by FeatureService."""

from __future__ import annotations

import pandas as pd
from feast import FeatureStore


def training_frame(store: FeatureStore, labels: pd.DataFrame, feature_service: str) -> pd.DataFrame:
    """`labels` (customer_id, event_timestamp, ...) with each row's features as of its time."""
    service = store.get_feature_service(feature_service)
    joined = store.get_historical_features(entity_df=labels, features=service).to_df()
    return joined.sort_values(["event_timestamp", "customer_id"]).reset_index(drop=True)


def feature_columns(store: FeatureStore, feature_service: str) -> list[str]:
    service = store.get_feature_service(feature_service)
    return [field.name for projection in service.feature_view_projections for field in projection.features]
