"""`nudge train --task uplift`: every action's uplift model, trained, tested, logged, registered."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from configs.runtime import RuntimePaths
from configs.schema import ActionsConfig, TrainingConfig, UpliftConfig
from features.store import open_store
from training.dataset import feature_columns, training_frame
from training.uplift.bundle import ActionModel, UpliftBundle
from training.uplift.metrics import bootstrap_interval, targeted_gain
from training.uplift.outcomes import campaign_rows
from training.uplift.tracking import log_uplift_run
from training.uplift.trainer import (
    ActionResult,
    ActionSplit,
    fit_action,
    problem_with,
    read_truth,
    split_action,
)

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


def train_uplift(config: TrainingConfig, paths: RuntimePaths, catalogue: ActionsConfig) -> UpliftTrainResult:
    """Every action's model. An action of the `catalogue` whose campaigns went out on several
    channels also gets a model of the campaigns on its own channel alone (see `own_channel_split`)."""
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
        channel = spec.channel if (spec := catalogue.actions.get(str(action))) else None
        if channel and (own := own_channel_split(split, channel, uplift)):
            mine = fit_action(str(action), own, columns, uplift, config.seed, truth)
            on_channel = (split.test["channel"] == channel).to_numpy()
            result, model = better_on_channel(
                (result, model), mine, on_channel, channel, uplift.bootstrap, config.seed
            )
        results.append(result)
        bundle.actions[str(action)] = model
    if not bundle.actions:
        raise ValueError(f"no action has enough campaign data for an uplift model: {skipped}")
    run = log_uplift_run(config, paths, bundle, results, skipped, _sample(frame, columns))
    return UpliftTrainResult(
        uplift.registered_model, run.version, run.aliases, run.run_id, results, skipped, run.report
    )


def own_channel_split(split: ActionSplit, channel: str, config: UpliftConfig) -> ActionSplit | None:
    """`split` cut down to the assignments sent on `channel`, the one decisions contact by, when the
    action's campaigns also went out on others and that channel alone can be trained and tested.

    A message's effect depends on its channel: a push puts off customers a KakaoTalk message of the
    same campaign does not, and pooled with the KakaoTalk weeks their harm is diluted past what the
    learners find. Pooling, though, has twice the rows where the channels act alike. The test days
    are the pooled split's, so the two models are tested on the same rows."""
    on_channel = [frame[frame["channel"] == channel] for frame in (split.train, split.test)]
    if sum(map(len, on_channel)) in (0, len(split.train) + len(split.test)):
        return None
    own = ActionSplit(on_channel[0], on_channel[1], split.test_from)
    problem = problem_with(own, config)
    if problem:
        log.info("uplift on %s alone not tried: %s", channel, problem)
        return None
    return own


def better_on_channel(
    pooled: tuple[ActionResult, ActionModel],
    own: tuple[ActionResult, ActionModel],
    on_channel: np.ndarray,
    channel: str,
    n_boot: int,
    seed: int,
) -> tuple[ActionResult, ActionModel]:
    """The model learned from `channel` alone where, on the test rows sent on `channel`
    (`on_channel` of the pooled test rows, all of the other's), its estimates gain more incremental
    orders than the pooled model's by contacting where they are positive (metrics.targeted_gain),
    and the bootstrap interval of that difference lies above 0; otherwise the pooled one, which
    learned from more rows.

    Out-of-time test rows already decide whether a ranking is acted on at all (the evidence gate);
    here they decide which campaigns it learns from, on the same standard of evidence. The gain,
    not the Qini, because the harm is in the sign: a pooled model that ranks put-off customers low
    but above zero still contacts them, and Qini barely tells the two rankings apart."""
    every, alone = pooled[0], own[0]
    y, t = every.test_y[on_channel], every.test_treatment[on_channel]
    mine, theirs = alone.test_scores[alone.learner], every.test_scores[every.learner][on_channel]

    def difference(y_rows: np.ndarray, rows: np.ndarray, t_rows: np.ndarray) -> float:
        # The bootstrap resamples row positions (passed as the scores) so both models see the same rows.
        at = rows.astype(np.int64)
        return targeted_gain(y_rows, mine[at], t_rows) - targeted_gain(y_rows, theirs[at], t_rows)

    positions = np.arange(len(y), dtype=np.float64)
    _, low, high = bootstrap_interval(difference, y, positions, t, n_boot, seed=seed)
    alone.channel = channel
    chosen = own if low > 0 else pooled
    chosen[0].channel_gain = {
        "every_channel": targeted_gain(y, theirs, t),
        "own_channel": targeted_gain(y, mine, t),
        "difference_low": low,
        "difference_high": high,
    }
    return chosen


def _sample(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame[columns].head(50)
