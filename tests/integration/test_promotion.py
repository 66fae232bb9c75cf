"""Champion/challenger on the real registry: a second model is compared on the same holdout."""

from __future__ import annotations

import re

import pytest
from mlflow import MlflowClient

from tests.pipeline import Pipeline

pytestmark = pytest.mark.integration


def test_challenger_is_promoted_only_by_margin_and_can_be_rolled_back(trained_pipeline: Pipeline) -> None:
    client = MlflowClient(tracking_uri=trained_pipeline.paths.tracking_uri)
    champion_before = client.get_model_version_by_alias("nudge-churn", "champion").version
    trained = trained_pipeline.run("train", "--task", "churn")
    challenger = client.get_model_version_by_alias("nudge-churn", "challenger").version
    assert challenger != champion_before and "(challenger)" in trained.stdout.replace("\n", "")

    # An impossible margin: the challenger cannot win, the champion stays.
    env = {**trained_pipeline.env, "NUDGE_TRAINING__PROMOTION__MIN_AUC_GAIN": "0.5"}
    kept = _flat(trained_pipeline.run("promote", "--task", "churn", env=env).stdout)
    aucs = [float(a) for a in re.findall(r"AUC (0\.\d+)", kept)]
    assert len(aucs) == 2 and "kept the champion" in kept
    assert client.get_model_version_by_alias("nudge-churn", "champion").version == champion_before

    # No margin required and a better-or-equal challenger: promoted; then rolled back.
    env = {**trained_pipeline.env, "NUDGE_TRAINING__PROMOTION__MIN_AUC_GAIN": "0"}
    promoted = "promoted" in _flat(trained_pipeline.run("promote", "--task", "churn", env=env).stdout)
    assert promoted == (aucs[0] >= aucs[1])
    if promoted:
        assert client.get_model_version_by_alias("nudge-churn", "champion").version == challenger
        trained_pipeline.run("rollback", "--task", "churn")
    assert client.get_model_version_by_alias("nudge-churn", "champion").version == champion_before


def _flat(output: str) -> str:
    """The CLI's rich output wrapped at the terminal width, joined back into one line."""
    return " ".join(output.split())
