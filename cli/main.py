"""`nudge`: one command per stage. Each parses, loads config, calls one plain function, reports.

Heavy libraries are imported inside the commands so `nudge --help` stays instant.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from configs.loader import load_config
from configs.process import exit_cleanly_on_sigterm, hide_library_deprecations, telemetry_off
from configs.runtime import runtime_paths
from configs.schema import ActionsConfig, FeaturesConfig, ServingConfig, SimulationConfig, TrainingConfig

if TYPE_CHECKING:
    from training.policy_evaluation import PolicyEvaluation

app = typer.Typer(help="Nudge: churn, conversion and next-best-action by uplift.", no_args_is_help=True)
features_app = typer.Typer(help="Build features, apply the Feast repository, materialize online.")
import_app = typer.Typer(help="Import real data into the event contract.")
app.add_typer(features_app, name="features")
app.add_typer(import_app, name="import")
console = Console()

ConfigOption = typer.Option(None, "--config", help="YAML file overriding the embedded defaults.")


@app.callback()
def _setup(verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    telemetry_off()
    exit_cleanly_on_sigterm()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        hide_library_deprecations()


@app.command()
def simulate(
    customers: int = typer.Option(None, help="Number of customers."),
    days: int = typer.Option(None, help="Days of behaviour to simulate."),
    seed: int = typer.Option(None, help="Random seed; same seed, same data."),
    config: Path = ConfigOption,
) -> None:
    """Simulate a shop's customers, behaviour and CRM campaigns, with ground truth kept apart."""
    from events.simulator import simulate as run_simulation

    cfg = load_config(
        "simulation", SimulationConfig, config, {"customers": customers, "days": days, "seed": seed}
    )
    paths = runtime_paths()
    summary = run_simulation(cfg, paths.raw, paths.ground_truth)
    console.print(summary.describe())


@import_app.command("transactions")
def import_transactions(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or parquet transaction log."),
    customer_col: str = typer.Option("CustomerID", help="Customer id column."),
    time_col: str = typer.Option("InvoiceDate", help="Transaction time column."),
    amount_col: str = typer.Option(None, help="Line amount column; or give --quantity-col and --price-col."),
    quantity_col: str = typer.Option(None, help="Quantity column (negative = return)."),
    price_col: str = typer.Option(None, help="Unit price column."),
    order_col: str = typer.Option(None, help="Order/invoice id column (lines are grouped into orders)."),
    product_col: str = typer.Option(None, help="Product id column."),
    category_col: str = typer.Option(None, help="Category column (defaults to product)."),
    region_col: str = typer.Option(None, help="Customer region column."),
) -> None:
    """Import any transaction log (cancellations, returns, missing customer ids handled)."""
    from events.importers.transactions import TransactionColumns
    from events.importers.transactions import import_transactions as run_import

    columns = TransactionColumns(
        customer=customer_col,
        time=time_col,
        amount=amount_col,
        quantity=quantity_col,
        price=price_col,
        order=order_col,
        product=product_col,
        category=category_col,
        region=region_col,
    )
    report = run_import(file, runtime_paths().raw, columns)
    console.print(report.describe())


@import_app.command("rct")
def import_rct(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or parquet RCT export."),
    treatment_col: str = typer.Option("segment", help="Arm column."),
    outcome_col: str = typer.Option("visit", help="Binary outcome column."),
    control_value: str = typer.Option("No E-Mail", help="Value of the treatment column meaning holdout."),
    spend_col: str = typer.Option(None, help="Optional spend column (becomes order amounts)."),
    region_col: str = typer.Option(None, help="Customer region column (Hillstrom: zip_code)."),
    channel_col: str = typer.Option(
        None,
        help="Customer channel column, sets acquisition channel and device (Hillstrom: channel).",
    ),
    start: datetime = typer.Option(
        None, formats=["%Y-%m-%d"], help="Test start, UTC (default 2008-03-01, Hillstrom)."
    ),
) -> None:
    """Import a randomized experiment (e.g. Hillstrom) as campaigns, assignments and outcomes."""
    from events.importers.rct import RctColumns
    from events.importers.rct import import_rct as run_import

    columns = RctColumns(
        treatment=treatment_col,
        outcome=outcome_col,
        control_value=control_value,
        spend=spend_col,
        region=region_col,
        channel=channel_col,
    )
    report = run_import(file, runtime_paths().raw, columns, start=start)
    console.print(report.describe())


@features_app.command("build")
def features_build(config: Path = ConfigOption) -> None:
    """Turn contract tables into timestamped customer feature tables."""
    from features.pipeline import build_features

    cfg = load_config("features", FeaturesConfig, config)
    paths = runtime_paths()
    report = build_features(cfg, paths.raw, paths.features)
    console.print(report.describe())


@features_app.command("apply")
def features_apply(config: Path = ConfigOption) -> None:
    """Write the Feast repository for this data folder and `feast apply` it."""
    from features.store import apply_repository

    cfg = load_config("features", FeaturesConfig, config)
    paths = runtime_paths()
    apply_repository(cfg, paths.features, paths.feature_repo)
    console.print(f"applied Feast repository at {paths.feature_repo}")


@features_app.command("materialize")
def features_materialize(config: Path = ConfigOption) -> None:
    """Load the latest feature values into the online store."""
    from features.store import materialize_latest

    cfg = load_config("features", FeaturesConfig, config)
    rows = materialize_latest(cfg, runtime_paths().feature_repo)
    console.print(f"materialized features up to {rows}")


@features_app.command("push")
def features_push(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV/parquet: customer_id, event_type, event_timestamp."
    ),
) -> None:
    """Push fresh behaviour events (visit, cart_add, order) to the online store."""
    from events.importers.behaviour import read_behaviour_events
    from features.realtime import push_events
    from features.store import open_store

    events = read_behaviour_events(file)
    updated = push_events(open_store(runtime_paths().feature_repo), events)
    console.print(f"updated the real-time features of {updated:,} customers")


TaskOption = typer.Option("churn", "--task", help="churn, conversion, vip, uplift (train, rollback) or all.")
UPLIFT = "uplift"


def _tasks(task: str, uplift: bool = False) -> list[str]:
    """The tasks `task` names; the uplift bundle only where the command handles it."""
    from training.tasks import TASKS

    if task == "all":
        return [*TASKS, UPLIFT] if uplift else list(TASKS)
    if task == UPLIFT and not uplift:
        raise typer.BadParameter(
            "uplift models are not promoted by AUC; use train or rollback", param_hint="--task"
        )
    allowed = [*TASKS, *([UPLIFT] if uplift else []), "all"]
    if task not in allowed:
        raise typer.BadParameter(f"unknown task {task!r}; allowed: {', '.join(allowed)}", param_hint="--task")
    return [task]


@app.command()
def train(task: str = TaskOption, config: Path = ConfigOption) -> None:
    """Tune, train, calibrate and evaluate a model; log it to MLflow and register it."""
    from training.trainer import train_task
    from training.uplift.pipeline import train_uplift

    cfg = load_config("training", TrainingConfig, config)
    for name in _tasks(task, uplift=True):
        if name == UPLIFT:
            catalogue = load_config("actions", ActionsConfig)
            console.print(train_uplift(cfg, runtime_paths(), catalogue).describe())
            continue
        result = train_task(name, cfg, load_config("features", FeaturesConfig), runtime_paths())
        console.print(result.describe())


@app.command()
def promote(task: str = TaskOption, config: Path = ConfigOption) -> None:
    """Make the challenger champion if it beats the champion on the same holdout by the margin."""
    from training.promotion import promote as run_promotion

    cfg = load_config("training", TrainingConfig, config)
    for name in _tasks(task):
        console.print(
            run_promotion(name, cfg, load_config("features", FeaturesConfig), runtime_paths()).describe()
        )


@app.command()
def rollback(task: str = TaskOption, config: Path = ConfigOption) -> None:
    """Give the champion alias back to the version it replaced."""
    import mlflow

    from training.registry import rollback as run_rollback
    from training.tasks import task_for

    cfg = load_config("training", TrainingConfig, config)
    mlflow.set_tracking_uri(runtime_paths().tracking_uri)
    for name in _tasks(task, uplift=True):
        model = cfg.uplift.registered_model if name == UPLIFT else task_for(name, cfg).registered_model
        current, previous = run_rollback(model)
        console.print(f"{model}: champion v{current} -> v{previous}")


@app.command("evaluate-policy")
def evaluate_policy(
    cutoffs: int = typer.Option(None, help="Evaluate only the newest N cutoffs after the uplift test start."),
    sample: int = typer.Option(None, help="At most N random customers per cutoff."),
    budget_share: float = typer.Option(0.5, help="Budget: this share of the model's unbudgeted spend."),
    seed: int = typer.Option(7, help="Seed of the random policy and of sampling."),
    config: Path = ConfigOption,
) -> None:
    """Next-best-action policy vs oracle, send-to-all, random and churn-risk targeting (simulated data)."""
    from training.policy_evaluation import evaluate_policies

    cfg = load_config("training", TrainingConfig, config)
    result = evaluate_policies(
        cfg,
        load_config("actions", ActionsConfig),
        runtime_paths(),
        max_cutoffs=cutoffs,
        sample=sample,
        budget_share=budget_share,
        seed=seed,
    )
    _print_policy_tables(result)
    console.print(f"MLflow run {result.run_id} (policy_evaluation)")


def _print_policy_tables(result: PolicyEvaluation) -> None:
    from rich.table import Table

    dates = ", ".join(str(c.date()) for c in result.cutoffs)
    titles = {"unconstrained": "no budget", "budget": f"budget {result.budget_share:.0%} of model spend"}
    for setting, title in titles.items():
        table = Table(title=f"True incremental value, {title} ({result.rows:,} customer-cutoffs: {dates})")
        for column in ("policy", "contacts", "incr. orders", "spend", "profit", "share of oracle"):
            table.add_column(column, justify="left" if column == "policy" else "right")
        for row in (r for r in result.table() if r["setting"] == setting):
            table.add_row(
                str(row["policy"]),
                f"{row['contacts']:,}",
                f"{row['incremental_conversions']:,.1f}",
                f"{row['spend']:,.0f}",
                f"{row['profit']:,.0f}",
                f"{row['share_of_oracle']:.1%}",
            )
        console.print(table)


@app.command()
def scores(
    customer_ids: list[int] = typer.Argument(
        None, help="Ids to score; default: a sample of known customers."
    ),
    url: str = typer.Option(None, help="A running service; default: start one for this call."),
    sample: int = typer.Option(8, help="How many known customers to sample when no ids are given."),
    mix: int = typer.Option(
        1000, min=0, help="Also decide for this many random customers and show the split by action."
    ),
    config: Path = ConfigOption,
) -> None:
    """Ask the live HTTP service for scores and next-best actions and print them as tables."""
    from serving.client import population_sample, sample_customer_ids
    from serving.launcher import ServerProcess

    cfg = load_config("serving", ServingConfig, config)
    paths = runtime_paths()
    ids = customer_ids or sample_customer_ids(paths.raw, sample)
    many = population_sample(paths.raw, min(mix, cfg.max_customers_per_request)) if mix else []
    if url:
        _show_live(url, ids, many, cfg)
        return
    log_file = paths.data_dir / "logs" / "serve.log"
    console.print(f"starting the service on port {cfg.port} (log: {log_file})")
    with ServerProcess(cfg, log_file=log_file) as started_url:
        _show_live(started_url, ids, many, cfg)


def _show_live(url: str, ids: list[int], many: list[int], config: ServingConfig) -> None:
    from serving.client import (
        auth_headers,
        print_decision_mix,
        print_decisions,
        print_scores,
        request_decisions,
        request_scores,
    )

    headers = auth_headers(config)
    print_scores(console, request_scores(url, ids, headers))
    print_decisions(console, request_decisions(url, ids, headers))
    if many:
        print_decision_mix(console, request_decisions(url, many, headers))


@app.command("score-table")
def score_table(config: Path = ConfigOption) -> None:
    """Build the /scores answers of the champion models for the materialized features, so a
    service starting on them reads the table instead of building it (run after materialize, train
    or promote)."""
    from serving.score_table import ScoreTables
    from serving.scorer import open_scorer

    cfg = load_config("serving", ServingConfig, config)
    paths = runtime_paths()
    scorer = open_scorer(cfg, paths, load_config("actions", ActionsConfig))
    tables = ScoreTables.of(scorer, cfg.feature_service, paths.score_tables)
    tables.update()
    assert tables.current is not None  # update raises rather than leave none
    versions = ", ".join(f"{name} v{version}" for name, version in tables.current.models.versions.items())
    console.print(
        f"score table: {len(tables.current.answers):,} customers of the snapshot by {versions} "
        f"in {paths.score_tables}"
    )


@app.command()
def serve(config: Path = ConfigOption) -> None:
    """Serve scores over HTTP with BentoML (blocks)."""
    from serving.launcher import serve_forever

    cfg = load_config("serving", ServingConfig, config)
    code = serve_forever(cfg)
    if code:
        raise typer.Exit(code)


@app.command()
def audience(
    action: str = typer.Option(..., "--action", help="An action of configs/actions.yaml."),
    size: int = typer.Option(None, "--size", min=1, help="Audience size (holdout included)."),
    budget: float = typer.Option(None, "--budget", min=0, help="Spend budget: contacts + coupons."),
    holdout: float = typer.Option(0.1, "--holdout", help="Share of the audience held out, in (0, 1)."),
    campaign_id: str = typer.Option(None, "--campaign-id", help="Default: <action>-<date>-<random>."),
    window_days: int = typer.Option(14, "--window-days", min=1, help="Days the campaign's outcome counts."),
    out: Path = typer.Option(None, "--out", help="Also export the audience to this .csv or .parquet."),
    config: Path = typer.Option(None, "--config", help="YAML file overriding configs/actions.yaml."),
) -> None:
    """Build and launch an audience for one action by predicted uplift, with a randomized holdout."""
    from campaigns.planner import AudienceOrder, launch_audience

    if (size is None) == (budget is None):
        raise typer.BadParameter("give exactly one of --size or --budget", param_hint="--size/--budget")
    order = AudienceOrder(action, size, budget, holdout, campaign_id)
    actions = load_config("actions", ActionsConfig, config)
    built, folder = launch_audience(
        order, actions, load_config("serving", ServingConfig), runtime_paths(), window_days, out
    )
    console.print(built.summary.describe())
    console.print(f"launch recorded in {folder}" + (f"; exported to {out}" if out else ""))


@app.command()
def measure(
    campaign: str = typer.Option(..., "--campaign", help="Campaign id (raw data or launched here)."),
    append: bool = typer.Option(
        True, "--append/--no-append", help="Add a closed launched campaign to the uplift training data."
    ),
) -> None:
    """Measure a campaign's lift, treated vs holdout, with confidence intervals."""
    from rich.table import Table

    from campaigns.review import review_campaign

    result, status = review_campaign(campaign, load_config("serving", ServingConfig), runtime_paths(), append)
    window = f"{result.start[:16]} -> {result.end[:16]}"
    table = Table(
        title=f"{result.campaign_id}: {result.action} by {result.channel} ({window}, {result.source})"
    )
    for column in ("figure", "estimate", "interval"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for row in result.table():
        table.add_row(*row)
    console.print(table)
    console.print(f"Qini: {result.qini_source}")
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    console.print(f"training data: {status}")


def main() -> None:
    """Entry point: expected failures (bad config, data or missing steps) print one clear line."""
    from configs.loader import ConfigError
    from events.store import ContractError

    try:
        app()
    except (ConfigError, ContractError, OSError, ValueError) as err:
        console.print(f"[red]error:[/red] {err}")
        raise SystemExit(2) from None


if __name__ == "__main__":  # python -m cli.main
    main()
