"""Train the churn-risk model: labels -> Feast point-in-time set -> LightGBM -> MLflow registry."""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from importlib.metadata import version

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from configs.runtime import RuntimePaths
from configs.schema import FeaturesConfig, TrainingConfig
from events.store import read_table
from features.catalog import model_frame
from features.store import open_store
from training.dataset import feature_columns, training_frame
from training.labels import LABEL, churn_labels, label_cutoffs
from training.registry import set_champion, use_tracking

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    model_name: str
    version: str
    run_id: str
    metrics: dict[str, float]
    train_rows: int
    test_rows: int

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v:.4f}" for k, v in sorted(self.metrics.items()))
        return (
            f"registered {self.model_name} v{self.version} as champion (run {self.run_id}); "
            f"train {self.train_rows:,} rows, test {self.test_rows:,} rows; {shown}"
        )


def train_churn(config: TrainingConfig, features: FeaturesConfig, paths: RuntimePaths) -> TrainResult:
    task = config.churn
    orders = read_table(paths.raw, "orders")
    customers = read_table(paths.raw, "customers")
    cutoffs = label_cutoffs(
        customers["signup_ts"].min(), orders["order_ts"].max(), task, features.snapshot_every_days
    )
    labels = churn_labels(orders, cutoffs, task)
    store = open_store(paths.feature_repo)
    frame = training_frame(store, labels, task.feature_service)
    columns = feature_columns(store, task.feature_service)
    test_from = sorted(frame["event_timestamp"].unique())[-task.test_cutoffs]
    train, test = (
        frame[frame["event_timestamp"] < test_from],
        frame[frame["event_timestamp"] >= test_from],
    )
    if train[LABEL].nunique() < 2 or test[LABEL].nunique() < 2:
        raise ValueError("churn labels are single-class in train or test: need more data or cutoffs")

    params = config.lightgbm.model_dump()
    params["n_jobs"] = params["n_jobs"] or len(os.sched_getaffinity(0))
    model = lgb.LGBMClassifier(**params, random_state=config.seed, verbose=-1)
    train_x, test_x = model_frame(train, columns), model_frame(test, columns)
    model.fit(train_x, train[LABEL])
    metrics = _evaluate(model, test_x, test[LABEL])
    metrics["recency_baseline_roc_auc"] = float(
        roc_auc_score(test[LABEL], test["days_since_last_orders"].fillna(1e6))
    )

    use_tracking(paths, config.experiment)
    with mlflow.start_run(run_name="churn") as run:
        mlflow.log_params({f"lgbm.{k}": v for k, v in config.lightgbm.model_dump().items()})
        mlflow.log_params({f"churn.{k}": v for k, v in task.model_dump().items()})
        mlflow.log_dict(config.model_dump(mode="json"), "config/training.json")
        mlflow.log_dict(features.model_dump(mode="json"), "config/features.json")
        mlflow.set_tags({"task": "churn", "feature_service": task.feature_service, "git_sha": _git_sha()})
        mlflow.log_metrics(metrics)
        info = mlflow.lightgbm.log_model(
            model,
            name="model",
            registered_model_name=task.registered_model,
            # No input example: MLflow round-trips it through JSON, which drops the categorical
            # dtypes LightGBM needs, and then reports a spurious validation failure.
            signature=infer_signature(test_x.head(50), _positive_scores(model, test_x.head(50))),
            # Stated, not inferred: inference re-loads the model in a subprocess (~10 s).
            pip_requirements=_model_requirements(),
        )
    version = str(info.registered_model_version)
    set_champion(task.registered_model, version)
    return TrainResult(task.registered_model, version, run.info.run_id, metrics, len(train), len(test))


def _evaluate(model: lgb.LGBMClassifier, features: pd.DataFrame, labels: pd.Series) -> dict[str, float]:
    scores = _positive_scores(model, features)
    return {
        "test_roc_auc": float(roc_auc_score(labels, scores)),
        "test_pr_auc": float(average_precision_score(labels, scores)),
        "test_log_loss": float(log_loss(labels, scores)),
        "test_brier": float(brier_score_loss(labels, scores)),
        "test_churn_rate": float(labels.mean()),
    }


def _model_requirements() -> list[str]:
    return [f"{name}=={version(name)}" for name in ("lightgbm", "pandas", "numpy", "scikit-learn")]


def _positive_scores(model: lgb.LGBMClassifier, features: pd.DataFrame) -> np.ndarray:
    return np.asarray(model.predict_proba(features))[:, 1]


def _git_sha() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
