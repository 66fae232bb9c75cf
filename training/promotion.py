"""Champion/challenger promotion: both versions scored on the same holdout, the challenger wins
only by the configured margin."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import mlflow
import pandas as pd
from sklearn.metrics import roc_auc_score

from configs.runtime import RuntimePaths
from configs.schema import FeaturesConfig, TrainingConfig
from features.store import open_store
from training.dataset import training_frame
from training.registry import (
    CHALLENGER,
    CHAMPION,
    LoadedModel,
    alias_version,
    load_version,
    set_champion,
    use_tracking,
)
from training.tasks import task_for
from training.trainer import task_labels

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PromotionResult:
    model_name: str
    champion: str | None
    challenger: str
    champion_auc: float | None
    challenger_auc: float
    promoted: bool

    def describe(self) -> str:
        verdict = "promoted" if self.promoted else "kept the champion"
        champion = "none" if self.champion is None else f"v{self.champion} AUC {self.champion_auc:.4f}"
        challenger = f"v{self.challenger} AUC {self.challenger_auc:.4f}"
        return f"{self.model_name}: challenger {challenger} vs champion {champion}: {verdict}"


def promote(
    name: str, config: TrainingConfig, features: FeaturesConfig, paths: RuntimePaths
) -> PromotionResult:
    task = task_for(name, config)
    use_tracking(paths, config.experiment)
    challenger_version = alias_version(task.registered_model, CHALLENGER)
    if challenger_version is None:
        raise ValueError(f"{task.registered_model}: no challenger; train first (`nudge train --task {name}`)")
    champion_version = alias_version(task.registered_model, CHAMPION)
    challenger = load_version(task.registered_model, challenger_version)
    holdout = _holdout(task.registered_model, challenger_version, task_labels(task, paths, features))
    challenger_auc = _auc(challenger, holdout, paths, task.label)
    if champion_version is None or champion_version == challenger_version:
        set_champion(task.registered_model, challenger_version)
        return PromotionResult(task.registered_model, None, challenger_version, None, challenger_auc, True)
    champion_auc = _auc(load_version(task.registered_model, champion_version), holdout, paths, task.label)
    promoted = challenger_auc >= champion_auc + config.promotion.min_auc_gain
    if promoted:
        set_champion(task.registered_model, challenger_version)
    return PromotionResult(
        task.registered_model, champion_version, challenger_version, champion_auc, challenger_auc, promoted
    )


def _holdout(model_name: str, version: str, labels: pd.DataFrame) -> pd.DataFrame:
    """The challenger's own test cutoffs: rows it never trained or calibrated on."""
    run_id = mlflow.MlflowClient().get_model_version(model_name, version).run_id
    if run_id is None:
        raise ValueError(f"{model_name} v{version} has no training run to read its test cutoffs from")
    test_from = pd.Timestamp(mlflow.get_run(run_id).data.tags["test_from"])
    holdout = labels[labels["event_timestamp"] >= test_from]
    if holdout.empty:
        raise ValueError(f"no labelled rows at or after {test_from} to compare the models on")
    return holdout


def _auc(model: LoadedModel, holdout: pd.DataFrame, paths: RuntimePaths, label: str) -> float:
    # Each version reads its own FeatureService, so a champion on older features is judged fairly.
    frame = training_frame(open_store(paths.feature_repo), holdout, model.feature_service)
    return float(roc_auc_score(frame[label], model.predict_proba(frame)))
