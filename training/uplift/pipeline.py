"""`nudge train --task uplift`: every action's uplift model, trained, tested, logged, registered."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from configs.runtime import RuntimePaths
from configs.schema import TrainingConfig
from features.store import open_store
from training.dataset import feature_columns, training_frame
from training.uplift.bundle import UpliftBundle
from training.uplift.outcomes import campaign_rows
from training.uplift.tracking import log_uplift_run
from training.uplift.trainer import ActionResult, fit_action, problem_with, read_truth, split_action

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpliftTrainResult:
    model_name: str
    version: str
    aliases: list[str]
    run_id: str
    actions: list[ActionResult]
    skipped: dict[str, str]
    report: Path

    def describe(self) -> str:
        lines = [f"uplift: registered {self.model_name} v{self.version} ({', '.join(self.aliases)})"]
        lines += [f"  {result.describe()}" for result in self.actions]
        lines += [f"  {action}: skipped, {why}" for action, why in self.skipped.items()]
        return "\n".join([*lines, f"  report {self.report}"])


def train_uplift(config: TrainingConfig, paths: RuntimePaths) -> UpliftTrainResult:
    uplift = config.uplift
    store = open_store(paths.feature_repo)
    rows = campaign_rows(paths.raw)
    if rows.empty:
        raise ValueError(f"{paths.raw}: no campaign assignments to learn uplift from")
    frame = training_frame(store, rows, uplift.feature_service)
    columns = feature_columns(store, uplift.feature_service)
    truth = read_truth(paths.ground_truth)
    bundle, results, skipped = UpliftBundle(), [], {}
    for action, part in frame.groupby("action", sort=True):
        split = split_action(part, uplift.test_share)
        problem = problem_with(split, uplift)
        if problem:
            log.warning("uplift %s skipped: %s", action, problem)
            skipped[str(action)] = problem
            continue
        result, model = fit_action(str(action), split, columns, uplift, config.seed, truth)
        results.append(result)
        bundle.actions[str(action)] = model
    if not bundle.actions:
        raise ValueError(f"no action has enough campaign data for an uplift model: {skipped}")
    run = log_uplift_run(config, paths, bundle, results, skipped, _sample(frame, columns))
    return UpliftTrainResult(
        uplift.registered_model, run.version, run.aliases, run.run_id, results, skipped, run.report
    )


def _sample(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame[columns].head(50)
