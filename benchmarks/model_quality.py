"""Model quality on a simulated shop: each task's test AUC against its oracle and its baselines.

Goal (issue: models): on a 100k-customer simulation every model's test ROC-AUC is at least 95% of
the oracle's (the AUC of the true probabilities on the same rows) and beats every baseline.
Writes benchmarks/results/model_quality.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from configs.process import hide_library_deprecations, telemetry_off

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--out", type=Path, default=RESULTS / "model_quality.json")
    args = parser.parse_args()
    telemetry_off()
    hide_library_deprecations()
    with tempfile.TemporaryDirectory() as scratch:
        figures = run(Path(scratch), args.customers, args.days, args.trials)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures["tasks"], indent=2))


def run(root: Path, customers: int, days: int, trials: int) -> dict[str, object]:
    from configs.runtime import RuntimePaths
    from configs.schema import FeaturesConfig, SimulationConfig, TrainingConfig, TuningConfig
    from events.simulator import simulate
    from features.pipeline import build_features
    from features.store import apply_repository
    from training.tasks import TASKS
    from training.trainer import train_task

    paths = RuntimePaths(root / "data", root / "mlruns", f"sqlite:///{root / 'mlruns' / 'mlflow.db'}")
    started = time.perf_counter()
    simulate(
        SimulationConfig(customers=customers, days=days, seed=7),
        paths.raw,
        paths.ground_truth,
        progress=False,
    )
    features = FeaturesConfig()
    build_features(features, paths.raw, paths.features, progress=False)
    apply_repository(features, paths.features, paths.feature_repo)
    config = TrainingConfig(tuning=TuningConfig(trials=trials, timeout_s=600))
    tasks = {}
    for name in TASKS:
        task_started = time.perf_counter()
        result = train_task(name, config, features, paths, progress=False)
        tasks[name] = _task_figures(result.metrics, time.perf_counter() - task_started)
    return {
        "measured_at": datetime.now(UTC).isoformat(),
        "customers": customers,
        "days": days,
        "optuna_trials": trials,
        "cpus": os.cpu_count(),
        "seconds": round(time.perf_counter() - started, 1),
        "tasks": tasks,
    }


def _task_figures(metrics: dict[str, float], seconds: float) -> dict[str, object]:
    margins = {
        k.removeprefix("auc_margin_over_"): round(v, 4)
        for k, v in metrics.items()
        if k.startswith("auc_margin_over_")
    }
    share = metrics.get("roc_auc_share_of_oracle")
    return {
        "test_roc_auc": round(metrics["test_roc_auc"], 4),
        "oracle_roc_auc": round(metrics["oracle_roc_auc"], 4) if "oracle_roc_auc" in metrics else None,
        "share_of_oracle": round(share, 4) if share is not None else None,
        "meets_95pct_of_oracle": None if share is None else share >= 0.95,
        "auc_margin_over_baselines": margins,
        "beats_every_baseline": all(v > 0 for v in margins.values()),
        "test_brier_loss": round(metrics["test_brier_loss"], 4),
        "test_calibration_error_loss": round(metrics["test_calibration_error_loss"], 4),
        "lift_at_10pct": round(metrics["test_lift_at_10pct_score"], 3),
        "train_seconds": round(seconds, 1),
    }


if __name__ == "__main__":
    main()
