"""One self-contained evaluation page per training run: PNG curves next to a `report.html`.

The folder is logged to MLflow as is, so images are referenced by relative path. Matplotlib is
imported and its Agg canvas chosen only when a report is drawn: importing this module (as the
trainer does) touches no plotting state, and drawing never switches the process-wide pyplot backend
of whoever called us (a notebook, say).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score, roc_curve

from training.evaluation import CALIBRATION_BINS, Evaluation, calibration_bins, check_inputs

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger(__name__)

HTML_NAME = "report.html"
TOP_FEATURES = 20
CURVES = {"roc": "roc.png", "calibration": "calibration.png", "gain": "gain.png"}
IMPORTANCE_PNG = "importance.png"
_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}img{max-width:49%}"
    ".warning{background:#fff3cd;border:2px solid #d9822b;padding:0.5em 1em;font-weight:bold}"
)


def shap_importance(contributions: np.ndarray, feature_names: list[str]) -> pd.Series:
    """Mean |SHAP value| per feature, largest first, from LightGBM `predict(..., pred_contrib=True)`.

    LightGBM appends the expected value (bias) as the last column; it is no feature, so dropped."""
    values = np.asarray(contributions, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(feature_names) + 1:
        raise ValueError(
            f"contributions must be (rows, len(feature_names) + 1 = {len(feature_names) + 1}) as "
            f"LightGBM's binary pred_contrib; got shape {values.shape}"
        )
    mean_abs = np.abs(values[:, :-1]).mean(axis=0)
    return pd.Series(mean_abs, index=feature_names, name="mean_abs_shap").sort_values(ascending=False)


def write_report(
    out_dir: Path,
    title: str,
    evaluations: dict[str, Evaluation],
    y_true: ArrayLike,
    scores_by_model: dict[str, np.ndarray],
    importance: pd.Series | None,
    notes: dict[str, str] | None = None,
) -> Path:
    """Write the curves, the importance chart (when given) and `report.html`; return the HTML path.

    Tables of gains and segments, and the warnings shown at the top of the page (a test set too
    small to trust), are those of the first model in `evaluations`."""
    if not evaluations:
        raise ValueError("evaluations must hold at least one model")
    if not scores_by_model:
        raise ValueError("scores_by_model must hold at least one model")
    checked = {name: check_inputs(y_true, s) for name, s in scores_by_model.items()}
    y = next(iter(checked.values()))[0]
    scores = {name: s for name, (_, s) in checked.items()}
    out_dir.mkdir(parents=True, exist_ok=True)
    images = _write_plots(out_dir, y, scores, importance)
    page = out_dir / HTML_NAME
    page.write_text(_html(title, evaluations, images, notes or {}), encoding="utf-8")
    log.info("evaluation report written to %s", page)
    return page


def _write_plots(
    out_dir: Path, y: np.ndarray, scores: dict[str, np.ndarray], importance: pd.Series | None
) -> dict[str, str]:
    drawers: dict[str, Callable[[Axes], None]] = {
        CURVES["roc"]: lambda ax: _roc(ax, y, scores),
        CURVES["calibration"]: lambda ax: _calibration(ax, y, scores),
        CURVES["gain"]: lambda ax: _gain(ax, y, scores),
    }
    if importance is not None and len(importance):
        drawers[IMPORTANCE_PNG] = lambda ax: _importance(ax, importance)
    for name, draw in drawers.items():
        _save(out_dir / name, draw)
    return {name.removesuffix(".png"): name for name in drawers}


def _save(path: Path, draw: Callable[[Axes], None]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.8))
    FigureCanvasAgg(figure)  # a figure-local Agg canvas; pyplot's global backend stays untouched
    draw(figure.add_subplot())
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _roc(ax: Axes, y: np.ndarray, scores: dict[str, np.ndarray]) -> None:
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(y, s):.3f})")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    ax.set(title="ROC curve", xlabel="false positive rate", ylabel="true positive rate")
    ax.legend(loc="lower right")


def _calibration(ax: Axes, y: np.ndarray, scores: dict[str, np.ndarray]) -> None:
    for name, s in scores.items():
        # The bins of the calibration_error_loss metric, so the plot and the number agree.
        table = calibration_bins(y, s, min(CALIBRATION_BINS, len(y)))
        ax.plot(table["mean_score"], table["rate"], marker="o", label=name)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    ax.set(
        title=f"Reliability ({CALIBRATION_BINS} equal-frequency bins)",
        xlabel="mean predicted",
        ylabel="observed rate",
    )
    ax.legend(loc="upper left")


def _gain(ax: Axes, y: np.ndarray, scores: dict[str, np.ndarray]) -> None:
    reached = np.arange(len(y) + 1) / len(y)
    for name, s in scores.items():
        captured = np.concatenate([[0.0], np.cumsum(y[np.argsort(-s, kind="stable")]) / y.sum()])
        ax.plot(reached, captured, label=name)
    ax.plot(reached, np.minimum(reached / y.mean(), 1.0), linestyle="--", color="black", label="perfect")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    ax.set(title="Cumulative gain", xlabel="share of customers targeted", ylabel="share of positives")
    ax.legend(loc="lower right")


def _importance(ax: Axes, importance: pd.Series) -> None:
    top = importance.sort_values(ascending=False).head(TOP_FEATURES)[::-1]  # largest drawn on top
    ax.barh([str(name) for name in top.index], top.to_numpy())
    ax.set(title=f"Feature importance (top {len(top)}, mean |SHAP|)", xlabel="mean |SHAP value|")
    ax.tick_params(axis="y", labelsize=7)


def _html(
    title: str, evaluations: dict[str, Evaluation], images: dict[str, str], notes: dict[str, str]
) -> str:
    first, evaluation = next(iter(evaluations.items()))
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        *(f'<p class="warning">Warning: {html.escape(w)}</p>' for w in evaluation.warnings),
        _notes(notes),
        "<h2>Metrics</h2>",
        _table(_metrics(evaluations)),
    ]
    parts.append("<h2>Curves</h2>")
    parts += [f'<img src="{images[key]}" alt="{key} curve">' for key in CURVES if key in images]
    parts += [f"<h2>Gains by score decile: {html.escape(first)}</h2>", _table(evaluation.gains, index=False)]
    if evaluation.segments is not None:
        parts += [f"<h2>Segments: {html.escape(first)}</h2>", _table(evaluation.segments, index=False)]
    if "importance" in images:
        parts += ["<h2>Feature importance</h2>", f'<img src="{images["importance"]}" alt="importance">']
    head = f'<meta charset="utf-8"><title>{html.escape(title)}</title><style>{_STYLE}</style>'
    return (
        f'<!doctype html>\n<html lang="en"><head>{head}</head><body>\n'
        + "\n".join(parts)
        + "\n</body></html>\n"
    )


def _metrics(evaluations: dict[str, Evaluation]) -> pd.DataFrame:
    """Metrics as rows, models as columns, in the order the metrics were computed."""
    names = list(dict.fromkeys(k for e in evaluations.values() for k in e.metrics))
    return pd.DataFrame({model: e.metrics for model, e in evaluations.items()}, index=names)


def _notes(notes: dict[str, str]) -> str:
    if not notes:
        return ""
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in notes.items()
    )
    return f"<h2>Notes</h2><table>{rows}</table>"


def _table(frame: pd.DataFrame, index: bool = True) -> str:
    return frame.to_html(index=index, escape=True, border=0, float_format=lambda v: f"{v:.4f}", na_rep="n/a")
