"""The per-run report: PNGs written and referenced, tables present, user strings escaped, SHAP
importance read from LightGBM's contribution layout."""

from __future__ import annotations

import re
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from training.evaluation import Evaluation, evaluate
from training.report import shap_importance, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CURVE_PNGS = ("roc.png", "calibration.png", "gain.png")


@pytest.fixture(scope="module")
def run() -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Evaluation]]:
    rng = np.random.default_rng(3)
    truth = rng.beta(1.0, 3.0, 2_000)
    y = (rng.random(truth.size) < truth).astype(int)
    scores = {
        "model": np.clip(truth + rng.normal(0, 0.05, truth.size), 0, 1),
        "rfm_rule": np.round(truth, 1),  # coarse, tie-heavy like a rule
        "oracle": truth,
    }
    segments = pd.Series(np.where(rng.random(truth.size) < 0.5, "new", "returning"))
    evaluations = {name: evaluate(y, s, segments if name == "model" else None) for name, s in scores.items()}
    return y, scores, evaluations


def _importance() -> pd.Series:
    return pd.Series({f"feature_{i}": 1.0 / (i + 1) for i in range(25)})


def test_report_writes_every_png_and_an_html_page_referencing_them(tmp_path: Path, run: tuple) -> None:
    y, scores, evaluations = run
    page = write_report(tmp_path / "report", "Nudge churn model", evaluations, y, scores, _importance())
    assert page == tmp_path / "report" / "report.html"
    text = page.read_text(encoding="utf-8")
    for name in (*CURVE_PNGS, "importance.png"):
        png = page.parent / name
        assert png.read_bytes()[:8] == PNG_MAGIC
        assert f'src="{name}"' in text  # relative, so the folder can move into MLflow as is
    # Metrics table: one column per model, metrics as rows.
    header = re.search(r"<thead>.*?</thead>", text, re.S)
    assert header is not None
    assert all(f"<th>{name}</th>" in header.group(0) for name in scores)
    assert "calibration_error_loss" in text
    assert "lift_at_10pct_score" in text
    assert "cumulative_gain_share" in text  # the decile table of the first model
    assert "returning" in text  # its segment table


def test_report_escapes_user_strings(tmp_path: Path, run: tuple) -> None:
    y, scores, evaluations = run
    notes = {"git sha": "<script>alert(1)</script>", "<b>feature service</b>": "churn_v2 & co"}
    page = write_report(tmp_path, "<script>title</script>", evaluations, y, scores, None, notes)
    text = page.read_text(encoding="utf-8")
    assert "<script>" not in text
    assert "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "churn_v2 &amp; co" in text


def test_report_states_warnings_of_the_first_model_first(tmp_path: Path, run: tuple) -> None:
    y, scores, evaluations = run
    assert "Warning" not in write_report(tmp_path, "t", evaluations, y, scores, None).read_text()
    flagged = evaluations | {"model": evaluate(y, scores["model"], min_class_rows=len(y))}
    text = write_report(tmp_path, "t", flagged, y, scores, None).read_text(encoding="utf-8")
    assert text.index('class="warning"') < text.index("<h2>Metrics</h2>")
    assert "Warning: test set too small to trust" in text


def test_report_without_importance_skips_its_chart(tmp_path: Path, run: tuple) -> None:
    y, scores, evaluations = run
    page = write_report(tmp_path, "t", evaluations, y, scores, importance=None)
    assert all((tmp_path / name).is_file() for name in CURVE_PNGS)
    assert not (tmp_path / "importance.png").exists()
    assert "importance.png" not in page.read_text(encoding="utf-8")


def test_report_rejects_scores_of_another_length(tmp_path: Path, run: tuple) -> None:
    y, scores, evaluations = run
    with pytest.raises(ValueError, match="scores"):
        write_report(tmp_path, "t", evaluations, y, {"model": scores["model"][:-1]}, None)
    with pytest.raises(ValueError, match="evaluations"):
        write_report(tmp_path, "t", {}, y, scores, None)


def test_shap_importance_drops_the_bias_column_and_sorts() -> None:
    contributions = np.array([[0.1, -2.0, 0.5, 100.0], [-0.3, 1.0, -0.5, 100.0]])
    importance = shap_importance(contributions, ["a", "b", "c"])
    assert importance.index.tolist() == ["b", "c", "a"]
    assert importance.tolist() == pytest.approx([1.5, 0.5, 0.2])
    with pytest.raises(ValueError, match="contributions"):
        shap_importance(contributions[:, :-1], ["a", "b", "c"])


def test_shap_importance_reads_lightgbm_pred_contrib() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"signal": rng.normal(size=400), "noise": rng.normal(size=400)})
    y = (X["signal"] + 0.3 * rng.normal(size=400) > 0).astype(int)
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1, n_jobs=1).fit(X, y)
    contributions = np.asarray(model.predict(X, pred_contrib=True))
    # LightGBM's layout: per-feature contributions then the bias, summing to the raw margin.
    assert np.allclose(contributions.sum(axis=1), model.predict(X, raw_score=True))
    importance = shap_importance(contributions, list(X.columns))
    assert importance.index.tolist() == ["signal", "noise"]
