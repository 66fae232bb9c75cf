"""One MLflow run per uplift training: config, per-action metrics, Qini report, the bundle model."""

from __future__ import annotations

import html
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import mlflow
import pandas as pd

from configs.runtime import RuntimePaths
from configs.schema import TrainingConfig
from training.registry import register_version, use_tracking
from training.tracking import data_version, git_sha
from training.uplift.bundle import UpliftBundle, UpliftPyfunc
from training.uplift.metrics import qini_curve
from training.uplift.trainer import ActionResult

_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}img{max-width:49%}"
)


@dataclass(frozen=True)
class LoggedUpliftRun:
    run_id: str
    version: str
    aliases: list[str]
    report: Path


def log_uplift_run(
    config: TrainingConfig,
    paths: RuntimePaths,
    bundle: UpliftBundle,
    results: list[ActionResult],
    skipped: dict[str, str],
    sample: pd.DataFrame,
) -> LoggedUpliftRun:
    uplift = config.uplift
    use_tracking(paths, config.experiment)
    with mlflow.start_run(run_name="uplift") as run:
        mlflow.log_params({f"uplift.{k}": str(v) for k, v in uplift.model_dump().items()})
        mlflow.log_dict(config.model_dump(mode="json"), "config/training.json")
        mlflow.set_tags(
            {
                "task": "uplift",
                "feature_service": uplift.feature_service,
                "actions": ",".join(bundle.actions),
                **{f"learner.{r.action}": r.learner for r in results},
                **{f"skipped.{a}": why for a, why in skipped.items()},
                "data_version": data_version(paths.raw),
                "git_sha": git_sha(),
            }
        )
        for result in results:
            mlflow.log_metrics(result.metrics())
        report = write_uplift_report(paths.mlruns_dir / "reports" / f"uplift-{run.info.run_id}", results)
        mlflow.log_artifacts(str(report.parent), "report")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=UpliftPyfunc(bundle),
            registered_model_name=uplift.registered_model,
            pip_requirements=[f"{n}=={version(n)}" for n in ("lightgbm", "pandas", "numpy", "scikit-learn")],
        )
    version_, aliases = register_version(uplift.registered_model, str(info.registered_model_version))
    return LoggedUpliftRun(run.info.run_id, version_, aliases, report)


def write_uplift_report(out_dir: Path, results: list[ActionResult]) -> Path:
    """Qini curves of every learner per action next to a table of the test figures."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    out_dir.mkdir(parents=True, exist_ok=True)
    sections = []
    for result in results:
        figure = Figure(figsize=(6, 4.5))
        axes = figure.add_subplot()
        for name, scores in result.test_scores.items():
            x, gain = qini_curve(result.test_y, scores, result.test_treatment)
            axes.plot(x, gain, label=f"{name} ({result.test[name]['qini']:.3f})")
        axes.plot([0, 1], [0, gain[-1]], "k--", label="random")
        axes.set(
            title=f"Qini curve, {result.action} (test)", xlabel="share targeted", ylabel="incr. responders"
        )
        axes.legend()
        figure.savefig(out_dir / f"qini_{result.action}.png", dpi=90, bbox_inches="tight")
        sections.append(_section(result))
    page = out_dir / "report.html"
    page.write_text(
        f"<html><head><meta charset='utf-8'><title>Nudge uplift</title><style>{_STYLE}</style></head>"
        f"<body><h1>Nudge uplift models</h1>{''.join(sections)}</body></html>"
    )
    return page


def _section(result: ActionResult) -> str:
    header = (
        "<tr><th>learner</th><th>cv qini</th><th>test qini [95% CI]</th><th>AUUC</th><th>uplift@30%</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{html.escape(name)}{' (chosen)' if name == result.learner else ''}</td>"
        f"<td>{result.cv_qini.get(name, float('nan')):.3f}</td>"
        f"<td>{m['qini']:.3f} [{m['qini_low']:.3f}, {m['qini_high']:.3f}]</td>"
        f"<td>{m['auuc']:.3f}</td><td>{m['uplift_at_30']:.4f}</td></tr>"
        for name, m in result.test.items()
    )
    truth = "".join(f"<li>{html.escape(k)}: {v:.3f}</li>" for k, v in result.truth.items())
    return (
        f"<h2>{html.escape(result.action)}</h2><p>rows {result.rows}</p><table>{header}{rows}</table>"
        f"{'<ul>' + truth + '</ul>' if truth else ''}<img src='qini_{result.action}.png'>"
    )
