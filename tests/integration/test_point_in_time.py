"""Feast point-in-time joins: each label row gets the newest feature row at or before its time, never
later, and no label row is lost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from configs.schema import FeaturesConfig
from features.store import apply_repository, open_store
from tests.pipeline import Pipeline
from training.dataset import training_frame
from training.uplift.outcomes import campaign_rows

pytestmark = pytest.mark.integration


def test_historical_features_never_come_from_after_the_label_time(trained_pipeline: Pipeline) -> None:
    store = open_store(trained_pipeline.data_dir / "feature_repo")
    features = trained_pipeline.data_dir / "features"
    activity = pd.read_parquet(features / "customer_activity.parquet").merge(
        pd.read_parquet(features / "customer_profile.parquet"), on=["customer_id", "event_timestamp"]
    )
    # Snapshots hold (nearly) everyone; sign-up and campaign-assignment rows few customers each.
    sizes = activity.groupby("event_timestamp").size()
    times = sorted(sizes[sizes >= sizes.max() / 2].index)
    snapshot, following = times[-4], times[-3]
    # Label times between two snapshots: the earlier snapshot must be used, not the later one.
    label_time = snapshot + (following - snapshot) / 2
    between = activity[(activity["event_timestamp"] > snapshot) & (activity["event_timestamp"] <= label_time)]
    candidates = activity[activity["event_timestamp"] == snapshot]["customer_id"]
    ids = candidates[~candidates.isin(between["customer_id"])].sample(40, random_state=0)
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


def test_every_campaign_assignment_gets_the_features_of_its_own_moment(trained_pipeline: Pipeline) -> None:
    store = open_store(trained_pipeline.data_dir / "feature_repo")
    rows = campaign_rows(trained_pipeline.data_dir / "raw")
    joined = training_frame(store, rows, "uplift_v1")
    # None lost or left without features: an entity row whose every feature row is newer than it
    # (welcome offers sent between sign-up and the next snapshot) finds none, and Feast's file store
    # collapses rows sharing a customer and time.
    assert len(joined) == len(rows)
    assert joined.groupby("action").size().to_dict() == rows.groupby("action").size().to_dict()
    signups = pd.read_parquet(trained_pipeline.data_dir / "raw" / "customers.parquet")
    signup = joined["customer_id"].map(signups.set_index("customer_id")["signup_ts"])
    tenure_then = (joined["event_timestamp"] - signup.dt.floor("s")) / pd.Timedelta(days=1)
    np.testing.assert_allclose(joined["tenure_days"], tenure_then, atol=1e-9)


def test_label_rows_sharing_a_customer_and_time_all_come_back(trained_pipeline: Pipeline) -> None:
    store = open_store(trained_pipeline.data_dir / "feature_repo")
    rows = campaign_rows(trained_pipeline.data_dir / "raw").head(20)
    labels = pd.concat([rows.assign(copy=0), rows.assign(copy=1)], ignore_index=True)
    joined = training_frame(store, labels, "uplift_v1")
    assert len(joined) == 40
    assert joined.groupby(["campaign_id", "customer_id"])["copy"].nunique().eq(2).all()
    # Times finer than Feast keeps (nanoseconds) still find their rows.
    stamps = rows["event_timestamp"].astype("datetime64[ns, UTC]") + pd.Timedelta(1)
    fine = rows.assign(event_timestamp=stamps)
    assert training_frame(store, fine, "uplift_v1")["tenure_days"].notna().all()


def test_a_label_before_sign_up_is_an_error_naming_it(trained_pipeline: Pipeline) -> None:
    store = open_store(trained_pipeline.data_dir / "feature_repo")
    first = pd.read_parquet(trained_pipeline.data_dir / "raw" / "customers.parquet").iloc[0]
    before = first["signup_ts"] - pd.Timedelta(days=2)
    labels = pd.DataFrame({"customer_id": [first["customer_id"]], "event_timestamp": [before]})
    with pytest.raises(ValueError, match=f"customer {first['customer_id']} at"):
        training_frame(store, labels, "churn_v1")


def test_the_duckdb_and_file_offline_stores_join_the_same_rows(
    trained_pipeline: Pipeline, tmp_path: Path
) -> None:
    features = trained_pipeline.data_dir / "features"
    rows = campaign_rows(trained_pipeline.data_dir / "raw")
    joined = {
        kind: training_frame(
            apply_repository(FeaturesConfig(offline_store=kind), features, tmp_path / kind), rows, "uplift_v2"
        )
        for kind in ("duckdb", "file")
    }
    assert len(joined["duckdb"]) == len(rows)
    pd.testing.assert_frame_equal(joined["duckdb"], joined["file"], check_exact=True)
