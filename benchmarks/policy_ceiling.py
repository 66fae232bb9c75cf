"""How much of the oracle policy's profit the features can reach at all, on a simulated shop.

The oracle policy decides on each customer's true uplift, which comes from latent traits (discount
sensitivity, being put off by push, category breadth) that the features only partly reveal. This
benchmark fits LightGBM regressors on every action's *true* uplift and P(order | not treated) (no
outcome noise, no campaign needed) at the ground-truth cutoffs before the uplift test start, and
decides on their predictions at the policy-evaluation cutoffs with the shared decision rule: the
"feature ceiling". Expected profit is linear in both, so their conditional means given the
features are what the best policy on these features decides on; a learner that sees only noisy
campaign outcomes can hardly beat it. (Regressing the log-odds baseline and shift instead, and
composing them, under-estimates it: averaging a put-off customer's -2.2 with others' positive
shifts in log-odds is not averaging their uplifts.) The ceiling is also fitted on half its rows:
if doubling the rows still raises it, it is not yet at its limit.

What the features miss is then measured trait by trait: the ceiling is fitted again with one latent
trait of ground truth added to the features (`ceiling + put_off`), and with every trait the effects
are made of. The oracle's lead that a trait closes is the part of the gap that comes from not
seeing it; what is left with every trait known is the baseline (intent, recency) the features
estimate. No model may read these traits: the rows say what better traces would be worth.

Run it on the data `benchmarks/policy_value.py --root` kept (simulated data, features and the
champion uplift models, which it scores on the same rows for comparison):

    python benchmarks/policy_ceiling.py --root /tmp/pv

Writes benchmarks/results/policy_ceiling.json and policy_ceiling.md.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from configs.process import exit_cleanly_on_sigterm, hide_library_deprecations, telemetry_off

if TYPE_CHECKING:
    from feast import FeatureStore

    from decisions.policy import Estimates

RESULTS = Path(__file__).resolve().parent / "results"
# The latent traits the simulator's treatment effects are made of (events/simulator/effects.py).
EFFECT_TRAITS = ("discount_sensitivity", "put_off", "category_breadth", "spend_z")
TRAIN_ROWS = 60_000  # per action: about twice the campaign rows its uplift model learns from
# Plain regressors: the targets are smooth probabilities, not noisy outcomes.
REGRESSOR: dict[str, Any] = {
    "n_estimators": 400,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 20,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, required=True, help="A policy_value.py --root folder.")
    parser.add_argument("--sample", type=int, default=None, help="At most this many customers per cutoff.")
    parser.add_argument("--train-rows", type=int, default=TRAIN_ROWS, help="Per action, at most.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS / "policy_ceiling.json")
    args = parser.parse_args()
    telemetry_off()
    exit_cleanly_on_sigterm()
    hide_library_deprecations()
    figures = run(args.root, args.sample, args.train_rows, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))
    args.out.with_suffix(".md").write_text(markdown(figures))
    print(markdown(figures))


def run(root: Path, sample: int | None, train_rows: int, seed: int) -> dict[str, object]:
    from configs.loader import load_config
    from configs.runtime import RuntimePaths
    from configs.schema import ActionsConfig, TrainingConfig
    from decisions.policy import Estimates, decide
    from events.simulator.ground_truth import read_simulation_config
    from features.catalog import model_frame
    from features.store import open_store
    from training import policy_evaluation as pe
    from training.dataset import feature_columns
    from training.policies import Round, Value, plan_values, true_estimates
    from training.registry import use_tracking
    from training.uplift.bundle import load_bundle

    paths = RuntimePaths(root / "data", root / "mlruns", f"sqlite:///{root / 'mlruns' / 'mlflow.db'}")
    world = read_simulation_config(paths.ground_truth)  # fail before the work, not after it
    training = load_config("training", TrainingConfig)
    config = load_config("actions", ActionsConfig)
    service = training.uplift.feature_service
    use_tracking(paths, training.experiment)
    bundle = load_bundle(f"models:/{training.uplift.registered_model}@champion")
    actions = [a for a in config.actions if a in bundle.actions]
    store = open_store(paths.feature_repo)

    # The rows `evaluate_policies` decides on: every customer at every cutoff after the uplift test
    # start, minus those inside a running campaign. The ceiling learns from the cutoffs before it.
    truth = pe.read_cutoff_truth(paths.ground_truth)
    assignments = pe.logged_assignments(paths.raw)
    start = pe.evaluation_start(assignments, training.uplift.test_share, actions)
    cutoffs = pe.evaluation_cutoffs(truth, start, None)
    # Feast reads one cutoff at a time: a year of 100k customers at once does not fit in memory.
    decided = [pe.decided_rows(truth, c, assignments, sample, seed)[0] for c in cutoffs]
    frame = pd.concat([pe._features(store, rows, service) for rows in decided], ignore_index=True)
    earlier = truth[truth["cutoff_ts"] < start]
    before = sorted(earlier["cutoff_ts"].unique())
    earlier = pd.concat([pe.decided_rows(earlier, c, assignments, None, seed)[0] for c in before])
    train = _features_by_cutoff(store, _population_sample(earlier, actions, train_rows, seed), service)

    known = frame[[c for c in frame.columns if c.startswith("true_")]].rename(columns=lambda c: c[5:])
    true = true_estimates(known, actions)
    outside = {a: known[f"p_control_{a}"].isna().to_numpy() for a in actions}
    x = model_frame(frame, feature_columns(store, service))
    predicted = bundle.predict(frame, actions)
    policies = {
        "oracle": true,
        "model": Estimates({a: predicted[a][0] for a in actions}, {a: predicted[a][1] for a in actions}),
        "ceiling_half_rows": ceiling(train, x, actions, train_rows // 2, seed),
        "ceiling": ceiling(train, x, actions, train_rows, seed),
    }
    traits = pd.read_parquet(paths.ground_truth / "traits.parquet").set_index("customer_id")
    for known in [*([t] for t in EFFECT_TRAITS), list(EFFECT_TRAITS)]:
        name = "ceiling + " + ("every effect trait" if len(known) > 1 else known[0])
        x_known = pd.concat([x, trait_columns(frame, traits, known)], axis=1)  # x keeps frame's index
        train_known = pd.concat([train, trait_columns(train, traits, known)], axis=1)
        policies[name] = ceiling(train_known, x_known, actions, train_rows, seed)
    values: dict[str, dict[str, Value]] = {}
    for name, estimates in policies.items():
        round_ = Round(frame, estimates, true, np.zeros(len(frame)), outside)
        values[name] = plan_values(decide(frame, estimates, config, actions).action, frame, round_, config)
    oracle = sum(v.profit for v in values["oracle"].values())
    return {
        "measured_at": datetime.now(UTC).isoformat(),
        "root": str(root),
        "world": world.model_dump(mode="json"),
        "customer_cutoffs": len(frame),
        "cutoffs": sorted(str(pd.Timestamp(c).date()) for c in frame["event_timestamp"].unique()),
        "train_rows_per_action": train_rows,
        "train_cutoffs_before": str(start.date()),
        "regressor": REGRESSOR,
        "policies": [
            {
                "policy": name,
                "profit": round(sum(v.profit for v in by_action.values()), 2),
                "share_of_oracle": round(sum(v.profit for v in by_action.values()) / oracle, 4),
                "by_action": {a: round(by_action[a].profit, 2) for a in actions if a in by_action},
            }
            for name, by_action in values.items()
        ],
    }


def ceiling(train: pd.DataFrame, x: pd.DataFrame, actions: list[str], rows: int, seed: int) -> Estimates:
    """Per action, regressions of the true uplift and P(order | not treated) on the features,
    fitted on up to `rows` of the action's population at the training cutoffs and predicted on `x`
    (coded by features.catalog.model_frame)."""
    import lightgbm as lgb

    from decisions.policy import Estimates
    from features.catalog import model_frame

    columns = list(x.columns)
    uplift, p_control = {}, {}
    for a in actions:
        population = train[train[f"true_p_control_{a}"].notna()]
        population = population.sample(min(rows, len(population)), random_state=seed)
        fitted = {}
        for name in ("p_control", "uplift"):
            target = population[f"true_{name}_{a}"].to_numpy(dtype=np.float64)
            model = lgb.LGBMRegressor(**REGRESSOR, random_state=seed, verbose=-1)
            fitted[name] = model.fit(model_frame(population, columns), target).predict(x)
        p_control[a] = np.clip(fitted["p_control"], 0.0, 1.0)
        uplift[a] = np.asarray(fitted["uplift"], dtype=np.float64)
    return Estimates(uplift, p_control)


def trait_columns(rows: pd.DataFrame, traits: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Columns trait_<name> on `rows`' index: each row's customer's latent traits from the ground
    truth (`traits` indexed by customer_id)."""
    ids = rows["customer_id"].to_numpy(dtype=np.int64)
    known = {f"trait_{t}": traits[t].reindex(ids).to_numpy(dtype=np.float64) for t in names}
    return pd.DataFrame(known, index=rows.index)


def _features_by_cutoff(store: FeatureStore, rows: pd.DataFrame, service: str) -> pd.DataFrame:
    from training.policy_evaluation import _features

    parts = [_features(store, part, service) for _, part in rows.groupby("cutoff_ts", sort=True)]
    return pd.concat(parts, ignore_index=True)


def _population_sample(truth: pd.DataFrame, actions: list[str], rows: int, seed: int) -> pd.DataFrame:
    """Up to `rows` random rows of each action's population (where its truth is defined), united."""
    picked = [
        truth[truth[f"p_control_{a}"].notna()].sample(frac=1.0, random_state=seed).head(rows).index
        for a in actions
    ]
    return truth.loc[pd.Index(np.concatenate(picked)).unique()].reset_index(drop=True)


def _world(world: Any) -> str:
    return f"{world['customers']:,} customers x {world['days']} days, seed {world['seed']}"


def markdown(figures: dict[str, object]) -> str:
    policies: list[dict] = figures["policies"]  # type: ignore[assignment]
    actions = list(policies[0]["by_action"])
    lines = [
        "# Policy ceiling: how much of the oracle the features can reach",
        "",
        f"{figures['customer_cutoffs']:,} customer-cutoffs at {', '.join(figures['cutoffs'])}; "  # type: ignore[arg-type]
        f"data {figures['root']} ({_world(figures['world'])}). `ceiling`: per action, LightGBM "
        "regressions of the true uplift and P(order | not treated) on the features of up to "
        f"{figures['train_rows_per_action']:,} population rows at the cutoffs before "
        f"{figures['train_cutoffs_before']}; `ceiling_half_rows` fits on half as many; `ceiling + "
        "<trait>` adds that latent trait of ground truth to the features (no model may read it). "
        "True incremental profit, no budget:",
        "",
        "| policy | profit | share of oracle | " + " | ".join(actions) + " |",
        "|---|---:|---:|" + "---:|" * len(actions),
    ]
    for p in policies:
        lines.append(
            f"| {p['policy']} | {p['profit']:,.0f} | {p['share_of_oracle']:.1%} | "
            + " | ".join(f"{p['by_action'].get(a, 0.0):,.0f}" for a in actions)
            + " |"
        )
    return "\n".join([*lines, ""])


if __name__ == "__main__":
    main()
