"""The MLflow tracking store and model registry (embedded SQLite under mlruns/ by default)."""

from __future__ import annotations

import logging

import mlflow
from mlflow import MlflowClient

from configs.runtime import RuntimePaths

log = logging.getLogger(__name__)

CHAMPION = "champion"


def use_tracking(paths: RuntimePaths, experiment: str) -> str:
    """Point MLflow at the tracking store and make sure `experiment` exists; return its id."""
    paths.mlruns_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(paths.tracking_uri)
    found = mlflow.get_experiment_by_name(experiment)
    if found is not None:
        mlflow.set_experiment(experiment_id=found.experiment_id)
        return found.experiment_id
    # Artifacts go next to the SQLite store, not into the current directory.
    artifacts = (paths.mlruns_dir / "artifacts").resolve().as_uri()
    experiment_id = mlflow.create_experiment(experiment, artifact_location=artifacts)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def set_champion(model_name: str, version: str) -> None:
    MlflowClient().set_registered_model_alias(model_name, CHAMPION, version)
    log.info("%s version %s is now %s", model_name, version, CHAMPION)
