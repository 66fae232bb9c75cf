"""Shared fixtures. Telemetry is off for every test: the machine has no route out. A stopped run
(SIGTERM: a CI time limit) still runs its fixtures' teardown, so the servers they started stop."""

from __future__ import annotations

import os

import pytest

from configs.process import exit_cleanly_on_sigterm, telemetry_off
from tests.pipeline import Pipeline, make_pipeline, run_skeleton

telemetry_off()
exit_cleanly_on_sigterm(interrupt=True)
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def trained_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """Simulated data -> features -> Feast apply + materialize -> churn champion in MLflow."""
    pipeline = make_pipeline(tmp_path_factory.mktemp("pipeline"))
    run_skeleton(pipeline)
    return pipeline
