"""Feast point-in-time joins: each label row gets the newest snapshot at or before its time, never later."""

from __future__ import annotations

import pandas as pd
import pytest

from features.store import open_store
from tests.pipeline import Pipeline
from training.dataset import training_frame

pytestmark = pytest.mark.integration


def test_historical_features_never_come_from_after_the_label_time(trained_pipeline: Pipeline) -> None:
    store = open_store(trained_pipeline.data_dir / "feature_repo")
    features = trained_pipeline.data_dir / "features"
    activity = pd.read_parquet(features / "customer_activity.parquet").merge(
        pd.read_parquet(features / "customer_profile.parquet"), on=["customer_id", "event_timestamp"]
    )
    times = sorted(activity["event_timestamp"].unique())
    snapshot, following = times[-4], times[-3]
    # Label times between two snapshots: the earlier snapshot must be used, not the later one.
    label_time = snapshot + (following - snapshot) / 2
    ids = activity[activity["event_timestamp"] == snapshot]["customer_id"].sample(40, random_state=0)
    labels = pd.DataFrame({"customer_id": ids.to_numpy(), "event_timestamp": label_time, "label": 0})
    joined = training_frame(store, labels, "churn_v1").set_index("customer_id")

    expected = activity[activity["event_timestamp"] == snapshot].set_index("customer_id").loc[ids]
    later = activity[activity["event_timestamp"] == following].set_index("customer_id").loc[ids]
    pd.testing.assert_series_equal(
        joined.loc[ids, "sessions_total"], expected["sessions_total"], check_names=False
    )
    pd.testing.assert_series_equal(
        joined.loc[ids, "days_since_last_sessions"],
        expected["days_since_last_sessions"],
        check_names=False,
    )
    # The later snapshot differs for someone, so the equality above is not vacuous.
    assert (later["tenure_days"] != expected["tenure_days"]).all()
    assert (joined.loc[ids, "tenure_days"] == expected["tenure_days"]).all()
