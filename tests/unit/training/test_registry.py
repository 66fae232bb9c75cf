"""Champion/challenger aliases and rollback on a real MLflow registry in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
import pytest

from configs.runtime import RuntimePaths
from features.catalog import model_frame
from training.calibration import CalibrationMap
from training.registry import (
    CHALLENGER,
    CHAMPION,
    LoadedModel,
    alias_version,
    register_version,
    rollback,
    set_champion,
    use_tracking,
)


@pytest.fixture
def registry(tmp_path: Path) -> str:
    paths = RuntimePaths(
        tmp_path / "data", tmp_path / "mlruns", f"sqlite:///{tmp_path / 'mlruns' / 'db.sqlite'}"
    )
    use_tracking(paths, "test")
    client = mlflow.MlflowClient()
    client.create_registered_model("m")
    for _ in range(3):
        with mlflow.start_run() as run:
            mlflow.log_dict({"x": 1}, "x.json")
        client.create_model_version("m", f"runs:/{run.info.run_id}/x.json", run.info.run_id)
    return "m"


def test_first_version_is_champion_later_ones_only_challengers(registry: str) -> None:
    assert register_version(registry, "1") == ("1", [CHAMPION, CHALLENGER])
    assert register_version(registry, "2") == ("2", [CHALLENGER])
    assert alias_version(registry, CHAMPION) == "1"
    assert alias_version(registry, CHALLENGER) == "2"


def test_rollback_walks_back_through_champions(registry: str) -> None:
    register_version(registry, "1")
    set_champion(registry, "2")
    set_champion(registry, "3")
    assert rollback(registry) == ("3", "2")
    assert rollback(registry) == ("2", "1")
    assert alias_version(registry, CHAMPION) == "1"
    with pytest.raises(ValueError, match="no earlier champion"):
        rollback(registry)


def test_explain_scores_as_predict_proba_and_contributions_sum_to_the_log_odds() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=600), "region": rng.choice(["north", "south"], 600)})
    frame.loc[:40, "a"] = np.nan
    y = (frame["a"].fillna(0) + (frame["region"] == "north") + rng.normal(size=600) > 0.5).astype(int)
    x = model_frame(frame, ["a", "region"])
    model = lgb.LGBMClassifier(n_estimators=30, verbose=-1).fit(x, y)
    loaded = LoadedModel("m", "1", model, CalibrationMap([0.0, 1.0], [0.1, 0.9]), "s", ["a", "region"])

    probabilities, contributions = loaded.explain(frame)

    np.testing.assert_allclose(probabilities, loaded.predict_proba(frame), rtol=0, atol=1e-12)
    assert contributions.shape == (600, 3)  # two features and the bias
    np.testing.assert_allclose(contributions.sum(axis=1), model.predict(x, raw_score=True), atol=1e-12)
