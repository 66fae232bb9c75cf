"""The MLflow tracking store and model registry (embedded SQLite under mlruns/ by default).

Each task has one registered model. A new version becomes `challenger` (and `champion` if there is
none yet); `promote` moves `champion` to the challenger only when it wins on the same holdout, and
remembers the previous champion so `rollback` can restore it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from scipy.special import expit

from configs.runtime import RuntimePaths
from features.catalog import model_frame
from training.calibration import ARTIFACT, CalibrationMap

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
_HISTORY_TAG = "champion_history"


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


def alias_version(model_name: str, alias: str) -> str | None:
    try:
        return str(MlflowClient().get_model_version_by_alias(model_name, alias).version)
    except MlflowException:
        return None


def register_version(model_name: str, version: str) -> tuple[str, list[str]]:
    """Make a new version the challenger, and the champion too when there is none."""
    client = MlflowClient()
    client.set_registered_model_alias(model_name, CHALLENGER, version)
    if alias_version(model_name, CHAMPION) is None:
        set_champion(model_name, version)
        return version, [CHAMPION, CHALLENGER]
    return version, [CHALLENGER]


def set_champion(model_name: str, version: str) -> None:
    client = MlflowClient()
    previous = alias_version(model_name, CHAMPION)
    if previous is not None and previous != version:
        history = [*_history(model_name), previous]
        client.set_registered_model_tag(model_name, _HISTORY_TAG, ",".join(history))
    client.set_registered_model_alias(model_name, CHAMPION, version)
    log.info("%s version %s is now %s", model_name, version, CHAMPION)


def rollback(model_name: str) -> tuple[str, str]:
    """Give `champion` back to the version it replaced; return (from, to)."""
    history = _history(model_name)
    current = alias_version(model_name, CHAMPION)
    if not history or current is None:
        raise ValueError(f"{model_name}: no earlier champion to roll back to")
    previous = history.pop()
    client = MlflowClient()
    client.set_registered_model_alias(model_name, CHAMPION, previous)
    client.set_registered_model_tag(model_name, _HISTORY_TAG, ",".join(history))
    return current, previous


def _history(model_name: str) -> list[str]:
    tags = MlflowClient().get_registered_model(model_name).tags
    return [v for v in tags.get(_HISTORY_TAG, "").split(",") if v]


@dataclass(frozen=True)
class LoadedModel:
    """A registered version ready to score: model, its calibration map, the features it reads."""

    name: str
    version: str
    model: lgb.LGBMClassifier
    calibration: CalibrationMap
    feature_service: str
    feature_names: list[str]

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return self._calibrated(model_frame(features, self.feature_names))

    def explain(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """`predict_proba` and the per-feature SHAP contributions (log-odds, before calibration; the
        last column is the bias), converting the features once."""
        frame = model_frame(features, self.feature_names)
        contributions = np.asarray(self.model.predict(frame, pred_contrib=True))
        # A binary model's log-odds are the sum of its contributions, bias included: the probability
        # needs no second pass over the trees.
        return self.calibration.apply(expit(contributions.sum(axis=1))), contributions

    def _calibrated(self, frame: pd.DataFrame) -> np.ndarray:
        return self.calibration.apply(np.asarray(self.model.predict_proba(frame))[:, 1])


def load_version(model_name: str, ref: str) -> LoadedModel:
    """`ref` is an alias (champion, challenger) or a version number."""
    client = MlflowClient()
    version = (
        client.get_model_version(model_name, ref)
        if ref.isdigit()
        else client.get_model_version_by_alias(model_name, ref)
    )
    model = mlflow.lightgbm.load_model(f"models:/{model_name}/{version.version}")
    if version.run_id is None:
        raise ValueError(
            f"{model_name} v{version.version} has no training run; it was not made by nudge train"
        )
    run = client.get_run(version.run_id)
    calibration = CalibrationMap.from_dict(mlflow.artifacts.load_dict(f"runs:/{version.run_id}/{ARTIFACT}"))
    return LoadedModel(
        model_name, str(version.version), model, calibration,
        run.data.tags["feature_service"], list(model.feature_name_),
    )  # fmt: skip
