"""Shared fixtures. Telemetry is off for every test: the machine has no route out."""

from __future__ import annotations

import os

import pytest

from tests.pipeline import Pipeline, make_pipeline, run_skeleton

os.environ.setdefault("FEAST_USAGE", "False")
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
os.environ.setdefault("MLFLOW_ENABLE_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def trained_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """Simulated data -> features -> Feast apply + materialize -> churn champion in MLflow."""
    pipeline = make_pipeline(tmp_path_factory.mktemp("pipeline"))
    run_skeleton(pipeline)
    return pipeline
