"""Hot reload: a moved alias swaps the served models; a version that fails to load does not."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from tests.pipeline import Pipeline, in_process_scorer

pytestmark = pytest.mark.integration


def test_alias_moves_are_picked_up_and_broken_versions_are_not(
    trained_pipeline: Pipeline, tmp_path: Path
) -> None:
    scorer = in_process_scorer(trained_pipeline)
    holder = scorer.models
    before = dict(holder.current.versions)
    client = MlflowClient()  # in_process_scorer pointed MLflow at the pipeline's registry
    assert mlflow.get_tracking_uri().endswith("mlflow.db")
    champion = client.get_model_version_by_alias("nudge-churn", "champion")
    assert holder.refresh() is False  # nothing moved

    broken = client.create_model_version("nudge-churn", source=str(tmp_path / "no-model-here"))
    good = client.create_model_version("nudge-churn", source=champion.source, run_id=champion.run_id)
    try:
        client.set_registered_model_alias("nudge-churn", "champion", broken.version)
        assert holder.refresh() is False
        assert holder.current.versions == before and holder.last_error
        assert scorer.score([1]).models == before  # still answering with the old set

        client.set_registered_model_alias("nudge-churn", "champion", good.version)
        assert holder.refresh() is True
        assert holder.current.versions == {**before, "nudge-churn": str(good.version)}
        assert holder.last_error is None
    finally:
        client.set_registered_model_alias("nudge-churn", "champion", champion.version)
