"""`nudge evaluate-policy` on the simulated pipeline: policies scored with the true uplift."""

from __future__ import annotations

import math

import pytest
from mlflow import MlflowClient

from tests.pipeline import Pipeline
from training.policies import POLICIES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def evaluation(trained_pipeline: Pipeline) -> tuple[str, dict[str, float]]:
    result = trained_pipeline.run("evaluate-policy")
    client = MlflowClient(tracking_uri=trained_pipeline.paths.tracking_uri)
    runs = client.search_runs(
        [client.get_experiment_by_name("nudge").experiment_id],
        "attributes.run_name = 'policy_evaluation'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    assert runs, result.stdout
    return result.stdout, runs[0].data.metrics


def test_the_cli_prints_every_policy(evaluation: tuple[str, dict[str, float]]) -> None:
    stdout, _ = evaluation
    assert "share of oracle" in stdout
    assert all(policy in stdout for policy in POLICIES)


def test_figures_are_finite_and_the_oracle_earns_the_most(evaluation: tuple[str, dict[str, float]]) -> None:
    _, metrics = evaluation
    assert metrics["rows"] > 0
    for prefix in ("", "budget."):
        for policy in POLICIES:
            for key in ("contacts", "profit", "incremental_conversions", "spend"):
                assert math.isfinite(metrics[f"{prefix}{policy}.{key}"])
    # Per row the oracle takes the truly best eligible action or none; every other policy picks
    # among the same eligible actions, so none can earn more in truth.
    assert metrics["oracle.profit"] > 0
    assert all(metrics["oracle.profit"] >= metrics[f"{p}.profit"] - 1e-6 for p in POLICIES)
    assert metrics["oracle.share_of_oracle"] == pytest.approx(1.0)


def test_the_model_policy_beats_random_targeting(evaluation: tuple[str, dict[str, float]]) -> None:
    _, metrics = evaluation
    assert metrics["random.contacts"] == metrics["model.contacts"]
    assert metrics["model.profit"] > metrics["random.profit"]
