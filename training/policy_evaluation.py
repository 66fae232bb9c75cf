"""`nudge evaluate-policy`: the next-best-action policy against the oracle and the baselines, scored
with the simulator's true uplift (so it needs simulated data: data/ground_truth/cutoffs.parquet).

At every ground-truth cutoff after the uplift models' training data (the newest action's out-of-time
test start), each customer's features as of the cutoff come through Feast, the uplift champion
estimates uplift and P(order | not treated) per action and the churn champion the churn risk; the
policies of training/policies.py then choose, and each choice is valued with the true uplift.
Each cutoff is one decision round; figures are sums over the rounds. One MLflow run,
"policy_evaluation", holds them.

Customers inside a running campaign's window (either arm, from the logged assignments) are not
decided for by any policy: contacting them would contaminate that campaign's holdout, the shop's
own scheduler skips them, and the ground truth defines no effect there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from feast import FeatureStore
from mlflow.exceptions import MlflowException
from rich.progress import Progress

from configs.runtime import RuntimePaths
from configs.schema import ActionsConfig, TrainingConfig
from decisions.policy import Estimates
from events.store import read_table
from features.store import open_store
from training.dataset import training_frame
from training.policies import POLICIES, Round, Value, plan_value, plan_values, round_plans, true_estimates
from training.registry import CHAMPION, LoadedModel, alias_version, load_version, use_tracking
from training.tracking import data_version, git_sha
from training.uplift.bundle import UpliftBundle, load_bundle
from training.uplift.trainer import split_action

log = logging.getLogger(__name__)

TRUTH_FILE = "cutoffs.parquet"


@dataclass
class PolicyEvaluation:
    cutoffs: list[pd.Timestamp]
    rows: int
    actions: list[str]
    budget_share: float
    unconstrained: dict[str, Value] = field(default_factory=dict)
    budgeted: dict[str, Value] = field(default_factory=dict)
    by_action: dict[str, dict[str, Value]] = field(default_factory=dict)  # policy -> action, no budget
    models: dict[str, str] = field(default_factory=dict)  # registered model -> version
    busy_rows: int = 0  # customer-cutoffs inside a running campaign, decided for by no policy
    run_id: str = ""

    def shares_of_oracle(self, values: dict[str, Value]) -> dict[str, float]:
        """Each policy's profit as a share of the oracle's, to the 4 places every report shows."""
        oracle = values["oracle"].profit
        return {p: round(v.profit / oracle, 4) if oracle > 0 else float("nan") for p, v in values.items()}

    def table(self) -> list[dict[str, object]]:
        """One row per (setting, policy) for the CLI, the benchmark and the MLflow artifact."""
        rows = []
        for setting, values in (("unconstrained", self.unconstrained), ("budget", self.budgeted)):
            shares = self.shares_of_oracle(values)
            for policy, v in values.items():
                rows.append(
                    {"setting": setting, "policy": policy, **_figures(v), "share_of_oracle": shares[policy]}
                )
        return rows

    def action_table(self) -> list[dict[str, object]]:
        """Without a budget: one row per (policy, action) it chose."""
        return [
            {"policy": policy, "action": action, **_figures(v)}
            for policy, actions in self.by_action.items()
            for action, v in actions.items()
        ]

    def metrics(self) -> dict[str, float]:
        out = {
            "rows": float(self.rows),
            "busy_rows": float(self.busy_rows),
            "cutoffs": float(len(self.cutoffs)),
        }
        for row in self.table():
            prefix = f"{'' if row['setting'] == 'unconstrained' else 'budget.'}{row['policy']}"
            for key in ("contacts", "incremental_conversions", "spend", "profit", "share_of_oracle"):
                out[f"{prefix}.{key}"] = float(row[key])  # type: ignore[arg-type]
        return {k: v for k, v in out.items() if np.isfinite(v)}


def _figures(v: Value) -> dict[str, object]:
    return {
        "contacts": v.contacts,
        "incremental_conversions": round(v.incremental_conversions, 2),
        "spend": round(v.spend, 2),
        "profit": round(v.profit, 2),
        "outside_population": v.outside_population,
    }


def evaluate_policies(
    training: TrainingConfig,
    config: ActionsConfig,
    paths: RuntimePaths,
    *,
    max_cutoffs: int | None = None,
    sample: int | None = None,
    budget_share: float = 0.5,
    seed: int = 7,
    progress: bool = True,
) -> PolicyEvaluation:
    """Every policy's true value over the evaluation cutoffs (the newest `max_cutoffs`; at most
    `sample` random customers per cutoff), unconstrained and under a budget."""
    if not 0 < budget_share <= 1:
        raise ValueError(f"budget_share must be in (0, 1], got {budget_share}")
    truth = read_cutoff_truth(paths.ground_truth)
    use_tracking(paths, training.experiment)
    bundle, churn, models = _champions(training)
    actions = [a for a in config.actions if a in bundle.actions]
    assignments = logged_assignments(paths.raw)
    start = evaluation_start(assignments, training.uplift.test_share, actions)
    cutoffs = evaluation_cutoffs(truth, start, max_cutoffs)
    store = open_store(paths.feature_repo)
    rng = np.random.default_rng(seed)
    result = PolicyEvaluation(cutoffs, 0, actions, budget_share, models=models)
    result.unconstrained = {p: Value() for p in POLICIES}
    result.budgeted = {p: Value() for p in POLICIES}
    with Progress(disable=not progress) as bar:
        task = bar.add_task("policy evaluation (cutoffs)", total=len(cutoffs))
        for cutoff in cutoffs:
            rows, busy = decided_rows(truth, cutoff, assignments, sample, seed)
            result.busy_rows += busy
            frame = _features(store, rows, training.uplift.feature_service)
            round_ = _round(frame, bundle, churn, actions)
            plans, budgeted = round_plans(round_, config, actions, rng, budget_share)
            for policy in POLICIES:
                for action, value in plan_values(plans[policy], frame, round_, config).items():
                    result.by_action.setdefault(policy, {})
                    result.by_action[policy][action] = result.by_action[policy].get(action, Value()) + value
                    result.unconstrained[policy] += value
                result.budgeted[policy] += plan_value(budgeted[policy], frame, round_, config)
            result.rows += len(frame)
            bar.advance(task)
    result.run_id = _log_run(result, training, paths, sample, seed)
    return result


def read_cutoff_truth(ground_truth: Path) -> pd.DataFrame:
    path = ground_truth / TRUTH_FILE
    if not path.exists():
        raise ValueError(
            f"{path} is missing: policy evaluation scores decisions with the simulator's true uplift, "
            "so it needs simulated data (nudge simulate)"
        )
    return pd.read_parquet(path)


def logged_assignments(raw: Path) -> pd.DataFrame:
    """Every campaign assignment (either arm) with its action and the end of its window."""
    campaigns = read_table(raw, "campaigns")[["campaign_id", "action", "end_ts"]]
    return read_table(raw, "campaign_assignments").merge(campaigns, on="campaign_id")


def evaluation_start(assignments: pd.DataFrame, test_share: float, actions: list[str]) -> pd.Timestamp:
    """The newest out-of-time test start over `actions`: no uplift model trained on rows from then on."""
    assignments = assignments[assignments["action"].isin(actions)]
    if assignments.empty:
        raise ValueError(f"no campaign assignments of {actions}")
    rows = assignments.rename(columns={"assigned_ts": "event_timestamp"})
    return max(split_action(part, test_share).test_from for _, part in rows.groupby("action"))


def decided_rows(
    truth: pd.DataFrame, cutoff: pd.Timestamp, assignments: pd.DataFrame, sample: int | None, seed: int
) -> tuple[pd.DataFrame, int]:
    """The truth rows a policy decides on at `cutoff` (at most `sample` random customers), without
    those inside a running campaign; and how many of those were left out."""
    rows = truth[truth["cutoff_ts"] == cutoff]
    if sample is not None and len(rows) > sample:
        rows = rows.sample(sample, random_state=seed)
    busy = in_campaign(rows["customer_id"], cutoff, assignments)
    return rows[~busy], int(busy.sum())


def in_campaign(customer_ids: pd.Series, cutoff: pd.Timestamp, assignments: pd.DataFrame) -> np.ndarray:
    """Whether each customer is inside a campaign window (assigned before `cutoff`, ending after)."""
    running = assignments[(assignments["assigned_ts"] < cutoff) & (assignments["end_ts"] > cutoff)]
    return customer_ids.isin(running["customer_id"]).to_numpy()


def evaluation_cutoffs(
    truth: pd.DataFrame, start: pd.Timestamp, max_cutoffs: int | None
) -> list[pd.Timestamp]:
    stamps = sorted(pd.Timestamp(t) for t in truth["cutoff_ts"].unique() if pd.Timestamp(t) >= start)
    if not stamps:
        raise ValueError(f"no ground-truth cutoff on or after the uplift test start {start.date()}")
    return stamps if max_cutoffs is None else stamps[-max_cutoffs:]


def _champions(training: TrainingConfig) -> tuple[UpliftBundle, LoadedModel, dict[str, str]]:
    uplift_name, churn_name = training.uplift.registered_model, training.churn.registered_model
    try:
        bundle = load_bundle(f"models:/{uplift_name}@{CHAMPION}")
        churn = load_version(churn_name, CHAMPION)
    except MlflowException as err:
        raise ValueError(f"no champion to evaluate ({err}); run nudge train --task all first") from None
    models = {uplift_name: alias_version(uplift_name, CHAMPION) or "", churn_name: churn.version}
    return bundle, churn, models


def _features(store: FeatureStore, rows: pd.DataFrame, service: str) -> pd.DataFrame:
    """Features as of the cutoff, with the truth columns carried through Feast as true_<column>."""
    truth_columns = [c for c in rows.columns if c.startswith(("uplift_", "p_control_"))]
    entity = rows[["customer_id", "cutoff_ts", *truth_columns]].rename(
        columns={"cutoff_ts": "event_timestamp", **{c: f"true_{c}" for c in truth_columns}}
    )
    return training_frame(store, entity.reset_index(drop=True), service)


def _round(frame: pd.DataFrame, bundle: UpliftBundle, churn: LoadedModel, actions: list[str]) -> Round:
    missing = sorted(set(churn.feature_names) - set(frame.columns))
    if missing:
        raise ValueError(f"the churn champion reads features the uplift service lacks: {missing[:5]}")
    predicted = bundle.predict(frame)
    truth = frame[[c for c in frame.columns if c.startswith("true_")]].rename(columns=lambda c: c[5:])
    return Round(
        frame,
        Estimates({a: predicted[a][0] for a in actions}, {a: predicted[a][1] for a in actions}),
        true_estimates(truth, actions),
        np.asarray(churn.predict_proba(frame)),
        {a: truth[f"p_control_{a}"].isna().to_numpy() for a in actions},
    )


def _log_run(
    result: PolicyEvaluation, training: TrainingConfig, paths: RuntimePaths, sample: int | None, seed: int
) -> str:
    with mlflow.start_run(run_name="policy_evaluation") as run:
        mlflow.log_params(
            {
                "cutoffs": ",".join(str(c.date()) for c in result.cutoffs),
                "actions": ",".join(result.actions),
                "budget_share": result.budget_share,
                "sample_per_cutoff": sample,
                "seed": seed,
                **{f"model.{k}": v for k, v in result.models.items()},
            }
        )
        mlflow.set_tags(
            {"task": "policy_evaluation", "data_version": data_version(paths.raw), "git_sha": git_sha()}
        )
        mlflow.log_metrics(result.metrics())
        mlflow.log_dict(
            {"rows": result.rows, "table": result.table(), "by_action": result.action_table()},
            "policy_evaluation.json",
        )
    return str(run.info.run_id)
