"""Train one task: labels -> Feast point-in-time set -> tuned LightGBM -> calibration -> evaluation
against baselines (and the oracle on simulated data) -> MLflow run, report and registry.

Splits are out of time: the newest `test_cutoffs` cutoffs are the test set, the cutoff before them
validates tuning and fits the calibration, and everything earlier trains.

A held-out set is trusted when each class holds at least `min_class_rows` rows. Rare labels on
small data (VIPs in a year of a 4,000-customer shop) miss that at one cutoff, so the test set then
pools earlier cutoffs, newest first, until both classes have enough rows, taking at most half of
the cutoffs and never more rows of a class than the older cutoffs keep; validation does the same
over the cutoffs left, and training keeps the rest. A customer can be in the population at
several pooled cutoffs, so rows are not independent customers: fine for ROC-AUC and lift, which
rank rows, but the distinct customers limit the evidence, and the run logs their number. A test
set still short of the minimum is evaluated anyway, with a warning in the log, the CLI summary
and the report; `test_positives` and `test_negatives` are logged to MLflow for every run.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from configs.runtime import RuntimePaths
from configs.schema import FeaturesConfig, TrainingConfig
from events.store import read_table
from features.catalog import model_frame
from features.store import open_store
from training.calibration import CalibrationMap, fit_isotonic
from training.dataset import feature_columns, training_frame
from training.evaluation import Evaluation, evaluate
from training.labels import task_cutoffs
from training.scoring import baseline_scores, oracle_for
from training.tasks import Task, task_for
from training.tracking import RunArtifacts, log_training_run
from training.tuning import tune

log = logging.getLogger(__name__)

SEGMENT_COLUMN = "acquisition_channel"
TEST_COUNTS = ("test_positives", "test_negatives")


@dataclass(frozen=True)
class Split:
    fit: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    test_from: pd.Timestamp


@dataclass(frozen=True)
class TrainResult:
    task: str
    model_name: str
    version: str
    aliases: list[str]
    run_id: str
    metrics: dict[str, float]
    rows: dict[str, int]
    report: Path
    warnings: tuple[str, ...] = ()

    def describe(self) -> str:
        keys = ("test_roc_auc", "test_pr_auc", "test_brier_loss", "oracle_roc_auc", "roc_auc_share_of_oracle")
        shown = ", ".join(f"{k}={self.metrics[k]:.4f}" for k in keys if k in self.metrics)
        margins = ", ".join(
            f"{k}={v:+.4f}" for k, v in self.metrics.items() if k.startswith("auc_margin_over")
        )
        counts = ", ".join(f"{k}={self.metrics[k]:.0f}" for k in TEST_COUNTS if k in self.metrics)
        warned = "".join(f"; WARNING: {w}" for w in self.warnings)
        return (
            f"{self.task}: registered {self.model_name} v{self.version} ({', '.join(self.aliases)}); "
            f"rows {self.rows}; {counts}; {shown}; {margins}; report {self.report}{warned}"
        )


def train_task(
    name: str, config: TrainingConfig, features: FeaturesConfig, paths: RuntimePaths, progress: bool = True
) -> TrainResult:
    task = task_for(name, config)
    store = open_store(paths.feature_repo)
    frame = training_frame(store, task_labels(task, paths, features), task.feature_service)
    columns = feature_columns(store, task.feature_service)
    split = _split(frame, task)
    model, calibration, best = _fit(task, split, columns, config, progress)
    scores = {"model": calibration.apply(_raw_scores(model, split.test, columns))}
    scores |= baseline_scores(task, split.fit, split.test, columns, task.label)
    oracle = oracle_for(paths.ground_truth, split.test, task)
    if oracle is not None:
        scores["oracle"] = oracle
    y_test = split.test[task.label].to_numpy()
    evaluations = {key: evaluate(y_test, s) for key, s in scores.items()}
    # Per-segment figures for the model: does it hold up for every acquisition channel?
    evaluations["model"] = evaluate(
        y_test, scores["model"], segments=split.test.get(SEGMENT_COLUMN),
        min_class_rows=task.config.min_class_rows,
    )  # fmt: skip
    for warning in evaluations["model"].warnings:
        log.warning("%s: %s", task.name, warning)
    artifacts = RunArtifacts(model, calibration, columns, best, split.test_from, _rows(split))
    run = log_training_run(task, config, features, paths, evaluations, scores, split.test, artifacts)
    return TrainResult(task.name, task.registered_model, run.version, run.aliases, run.run_id,
                       run.metrics, _rows(split), run.report, evaluations["model"].warnings)  # fmt: skip


def task_labels(task: Task, paths: RuntimePaths, features: FeaturesConfig) -> pd.DataFrame:
    orders = read_table(paths.raw, "orders")
    customers = read_table(paths.raw, "customers")
    cutoffs = task_cutoffs(customers, orders, task.config, features.snapshot_every_days)
    labels = task.build_labels(customers, orders, cutoffs)
    if labels.empty:
        raise ValueError(f"{task.name}: no labelled rows; simulate more customers or days")
    return labels


def _split(frame: pd.DataFrame, task: Task) -> Split:
    cutoffs = sorted(frame["event_timestamp"].unique())
    fewest = task.config.test_cutoffs
    if len(cutoffs) < fewest + 2:
        raise ValueError(f"{task.name}: {len(cutoffs)} cutoffs; need test + validation + training ones")
    counts = frame.groupby("event_timestamp")[task.label].agg(["sum", "size"]).reindex(cutoffs)
    tested = _pooled(counts, task, fewest, most=max(fewest, min(len(cutoffs) // 2, len(cutoffs) - 2)))
    validated = _pooled(counts.iloc[:-tested], task, 1, most=max(1, (len(cutoffs) - tested) // 2))
    test_from, valid_from = cutoffs[-tested], cutoffs[-tested - validated]
    stamps = frame["event_timestamp"]
    split = Split(
        frame[stamps < valid_from],
        frame[(stamps >= valid_from) & (stamps < test_from)],
        frame[stamps >= test_from],
        test_from,
    )
    for part, rows in (("train", split.fit), ("validation", split.valid), ("test", split.test)):
        if rows[task.label].nunique() < 2:
            raise ValueError(f"{task.name}: {part} labels are single-class; need more data")
    positives = split.test.loc[split.test[task.label] == 1, "customer_id"]
    log.info(
        "%s: test = %d cutoffs from %s (%d rows; %d positive rows from %d customers), validation = %d",
        task.name, tested, test_from, len(split.test), len(positives), positives.nunique(), validated,
    )  # fmt: skip
    return split


def _pooled(counts: pd.DataFrame, task: Task, fewest: int, most: int) -> int:
    """How many of the newest cutoffs in `counts` (per cutoff: positives `sum`, rows `size`) a
    held-out set pools: `fewest`, and more while either class holds fewer than `min_class_rows`
    rows, up to `most` cutoffs and never more rows of a class than the older cutoffs keep."""
    # [k - 1] = rows of a class in the k newest cutoffs; [-1] = in all of them
    positives = counts["sum"].to_numpy()[::-1].cumsum()
    negatives = (counts["size"] - counts["sum"]).to_numpy()[::-1].cumsum()
    pooled = fewest
    while pooled < most and min(positives[pooled - 1], negatives[pooled - 1]) < task.config.min_class_rows:
        if max(2 * positives[pooled] - positives[-1], 2 * negatives[pooled] - negatives[-1]) > 0:
            break  # one more cutoff would leave training (or validation) the smaller share of a class
        pooled += 1
    return pooled


def _fit(
    task: Task, split: Split, columns: list[str], config: TrainingConfig, progress: bool
) -> tuple[lgb.LGBMClassifier, CalibrationMap, dict[str, Any]]:
    fit_x, valid_x = model_frame(split.fit, columns), model_frame(split.valid, columns)
    fit_y, valid_y = split.fit[task.label], split.valid[task.label]
    params: dict[str, Any] = config.lightgbm.model_dump()
    if config.tuning.trials:
        params, _ = tune(
            (fit_x, fit_y), (valid_x, valid_y), config.lightgbm, config.tuning, config.seed, progress
        )
    params["n_jobs"] = params["n_jobs"] or len(os.sched_getaffinity(0))
    model = lgb.LGBMClassifier(**params, random_state=config.seed, verbose=-1).fit(fit_x, fit_y)
    calibration = fit_isotonic(_raw_scores(model, split.valid, columns), valid_y.to_numpy())
    return model, calibration, params


def _raw_scores(model: lgb.LGBMClassifier, frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    return np.asarray(model.predict_proba(model_frame(frame, columns)))[:, 1]


def _rows(split: Split) -> dict[str, int]:
    return {"train": len(split.fit), "validation": len(split.valid), "test": len(split.test)}


__all__ = ["Evaluation", "TrainResult", "train_task"]
