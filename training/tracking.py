"""One MLflow run per training: params, resolved config, versions, metrics, report, model, registry."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature

from configs.runtime import RuntimePaths
from configs.schema import FeaturesConfig, TrainingConfig
from features.catalog import model_frame
from training.calibration import ARTIFACT, CalibrationMap
from training.evaluation import Evaluation, margin_over, oracle_gap
from training.registry import register_version, use_tracking
from training.report import shap_importance, write_report
from training.tasks import Task


@dataclass(frozen=True)
class RunArtifacts:
    model: lgb.LGBMClassifier
    calibration: CalibrationMap
    columns: list[str]
    params: dict[str, object]
    test_from: pd.Timestamp
    rows: dict[str, int]


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    version: str
    aliases: list[str]
    metrics: dict[str, float]
    report: Path


def run_metrics(evaluations: dict[str, Evaluation]) -> dict[str, float]:
    model = evaluations["model"].metrics
    metrics = {f"test_{k}": v for k, v in model.items()}
    for name, evaluation in evaluations.items():
        if name != "model":
            metrics |= {f"{name}_{k}": v for k, v in evaluation.metrics.items()}
    baselines = {k: e.metrics for k, e in evaluations.items() if k not in ("model", "oracle")}
    metrics |= {f"auc_margin_over_{k}": v for k, v in margin_over(model, baselines).items()}
    if "oracle" in evaluations:
        metrics |= oracle_gap(model, evaluations["oracle"].metrics)
    return {k: float(v) for k, v in metrics.items() if np.isfinite(v)}


def log_training_run(
    task: Task,
    config: TrainingConfig,
    features: FeaturesConfig,
    paths: RuntimePaths,
    evaluations: dict[str, Evaluation],
    scores: dict[str, np.ndarray],
    test: pd.DataFrame,
    artifacts: RunArtifacts,
) -> LoggedRun:
    use_tracking(paths, config.experiment)
    metrics = run_metrics(evaluations)
    with mlflow.start_run(run_name=task.name) as run:
        mlflow.log_params({f"lgbm.{k}": v for k, v in artifacts.params.items()})
        mlflow.log_params({f"{task.name}.{k}": v for k, v in task.config.model_dump().items()})
        mlflow.log_dict(config.model_dump(mode="json"), "config/training.json")
        mlflow.log_dict(features.model_dump(mode="json"), "config/features.json")
        mlflow.set_tags(_tags(task, paths, artifacts))
        mlflow.log_metrics(metrics | {f"rows_{k}": float(v) for k, v in artifacts.rows.items()})
        mlflow.log_dict(artifacts.calibration.to_dict(), ARTIFACT)
        report_dir = paths.mlruns_dir / "reports" / f"{task.name}-{run.info.run_id}"
        report = _report(report_dir, task, evaluations, scores, test, artifacts)
        mlflow.log_artifacts(str(report.parent), "report")
        info = _log_model(task, artifacts, test)
    version_, aliases = register_version(task.registered_model, str(info.registered_model_version))
    return LoggedRun(run.info.run_id, version_, aliases, metrics, report)


def _log_model(task: Task, artifacts: RunArtifacts, test: pd.DataFrame) -> mlflow.models.model.ModelInfo:
    sample = model_frame(test.head(50), artifacts.columns)
    return mlflow.lightgbm.log_model(
        artifacts.model,
        name="model",
        registered_model_name=task.registered_model,
        # No input example: MLflow round-trips it through JSON, which drops the categorical dtypes.
        signature=infer_signature(sample, np.asarray(artifacts.model.predict_proba(sample))[:, 1]),
        # Stated, not inferred: inference re-loads the model in a subprocess (~10 s).
        pip_requirements=[f"{n}=={version(n)}" for n in ("lightgbm", "pandas", "numpy", "scikit-learn")],
    )


def _report(
    out_dir: Path,
    task: Task,
    evaluations: dict[str, Evaluation],
    scores: dict[str, np.ndarray],
    test: pd.DataFrame,
    artifacts: RunArtifacts,
) -> Path:
    sample = model_frame(test.head(5000), artifacts.columns)
    contributions = np.asarray(artifacts.model.predict(sample, pred_contrib=True))
    importance = shap_importance(contributions, artifacts.columns)
    notes = {"feature service": task.feature_service, "test cutoffs from": str(artifacts.test_from)}
    return write_report(
        out_dir, f"Nudge {task.name} model", evaluations, test[task.label].to_numpy(),
        scores, importance, notes,
    )  # fmt: skip


def _tags(task: Task, paths: RuntimePaths, artifacts: RunArtifacts) -> dict[str, str]:
    return {
        "task": task.name,
        "label": task.label,
        "feature_service": task.feature_service,
        "test_from": artifacts.test_from.isoformat(),
        "data_version": data_version(paths.raw),
        "git_sha": git_sha(),
    }


def data_version(raw: Path) -> str:
    """A content hash of the raw tables the labels came from (names, sizes and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(raw.glob("*.parquet")):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def git_sha() -> str:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"
