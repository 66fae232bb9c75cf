"""The bundle's coded-matrix predictions are LightGBM's own DataFrame predictions, for every learner."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from features.catalog import model_frame
from features.rows import FeatureRows
from tests.unit.training.uplift.planted import planted_experiment
from training.uplift.boosting import classifier, predicted
from training.uplift.bundle import ActionModel, UpliftBundle
from training.uplift.calibration import UpliftCalibration
from training.uplift.learners import LEARNERS, make_learner

FAST = {"n_jobs": 1, "n_estimators": 40}
COLUMNS = ["x1", "x2", "region", "noise"]


def online_rows(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Rows as the online read returns them: strings as objects, nulls as None, extra columns."""
    X, y, t, _ = planted_experiment(n, seed)
    frame = X.rename(columns={"channel": "region"}).astype({"region": object})
    frame.insert(0, "customer_id", np.arange(n))
    return frame, y, t


@pytest.fixture(scope="module")
def models() -> dict[str, ActionModel]:
    frame, y, t = online_rows(3000, seed=0)
    x = model_frame(frame, COLUMNS)
    control = classifier(FAST, seed=0).fit(x[t == 0], y[t == 0])
    calibration = UpliftCalibration(0.01, 0.6)
    learners = {name: make_learner(name, FAST).fit(x, y, treatment=t) for name in LEARNERS}
    return {name: ActionModel(name, fit, control, COLUMNS, calibration) for name, fit in learners.items()}


@pytest.fixture(scope="module")
def requests() -> pd.DataFrame:
    frame, _, _ = online_rows(400, seed=1)
    frame.loc[:9, "region"] = "moon"  # never seen at fit: LightGBM treats it as missing
    frame.loc[10:19, "region"] = None
    frame.loc[20:29, "x2"] = None
    return frame.astype({"x2": object})


@pytest.mark.parametrize("name", list(LEARNERS))
def test_matrix_predictions_equal_lightgbms_dataframe_predictions(
    name: str, models: dict[str, ActionModel], requests: pd.DataFrame
) -> None:
    model = models[name]
    frame = model_frame(requests, COLUMNS)
    expected_uplift = model.calibration(model.learner.predict_uplift(frame))
    if hasattr(model.learner, "predict_outcomes"):  # its own P(order | not treated), matching its uplift
        expected_p_control = model.learner.predict_outcomes(frame)[0]
    else:
        expected_p_control = model.control.predict_proba(frame)[:, 1]

    uplift, p_control = model.predict(requests)

    np.testing.assert_allclose(uplift, expected_uplift, rtol=0, atol=1e-12)
    np.testing.assert_allclose(p_control, expected_p_control, rtol=0, atol=1e-12)
    # The unseen and missing regions really differ from a seen one, so the check above has teeth.
    seen = requests.assign(region="web")
    assert not np.allclose(model.predict(seen)[1][:20], p_control[:20])


def test_bundle_answers_each_action_as_its_model_does(
    models: dict[str, ActionModel], requests: pd.DataFrame
) -> None:
    bundle = pickle.loads(pickle.dumps(UpliftBundle(dict(models))))
    predicted = bundle.predict(requests)
    for name, model in models.items():
        np.testing.assert_array_equal(predicted[name][0], model.predict(requests)[0])


def test_a_zero_calibration_slope_answers_the_average_effect(
    models: dict[str, ActionModel], requests: pd.DataFrame
) -> None:
    model = models["t"]
    flat = ActionModel("t", model.learner, model.control, COLUMNS, UpliftCalibration(0.02, 0.0))
    uplift, p_control = flat.predict(requests)
    np.testing.assert_array_equal(uplift, np.full(len(requests), 0.02))
    np.testing.assert_array_equal(p_control, model.predict(requests)[1])


def test_online_feature_rows_predict_as_the_frame_does(
    models: dict[str, ActionModel], requests: pd.DataFrame
) -> None:
    numbers = ["customer_id", "x1", "noise"]  # x2 arrives as objects with None, as a mistyped read would
    rows = FeatureRows(
        requests[numbers].to_numpy(dtype=np.float64),
        pd.Index(numbers),
        requests[["region", "x2"]].to_numpy(dtype=object),
        pd.Index(["region", "x2"]),
    )
    bundle = UpliftBundle(dict(models))
    from_rows, from_frame = bundle.predict(rows), bundle.predict(requests)
    for name in models:
        np.testing.assert_array_equal(from_rows[name][0], from_frame[name][0])
        np.testing.assert_array_equal(from_rows[name][1], from_frame[name][1])
    subset = rows.take(np.array([3, 1]))
    np.testing.assert_array_equal(bundle.predict(subset)["t"][1], from_frame["t"][1][[3, 1]])


@pytest.mark.parametrize("name", list(LEARNERS))
def test_one_row_requests_predict_as_the_batch_does(
    name: str, models: dict[str, ActionModel], requests: pd.DataFrame
) -> None:
    # Serving's one-customer requests take LightGBM's single-row path and code strings one by one.
    model = models[name]
    batch_uplift, batch_p_control = model.predict(requests)
    numbers = ["customer_id", "x1", "noise"]
    rows = FeatureRows(
        requests[numbers].to_numpy(dtype=np.float64),
        pd.Index(numbers),
        requests[["region", "x2"]].to_numpy(dtype=object),
        pd.Index(["region", "x2"]),
    )
    for i in [*range(0, 40, 3), 100, 399]:  # unseen and missing regions, missing x2, ordinary rows
        uplift, p_control = model.predict(rows.take(np.array([i])))
        assert uplift.tolist() == [batch_uplift[i]] and p_control.tolist() == [batch_p_control[i]], i
        assert model.predict(requests.iloc[[i]])[1].tolist() == [batch_p_control[i]]


def test_a_one_row_matrix_of_the_wrong_width_is_refused(models: dict[str, ActionModel]) -> None:
    with pytest.raises(ValueError, match="reads 4 features; the row has 3"):
        predicted(models["t"].control, np.zeros((1, 3)))


def test_one_row_predictions_refuse_multiclass_models() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    model = classifier(FAST, seed=0).fit(x, rng.integers(0, 3, 300))
    with pytest.raises(ValueError, match="binary and regression models only"):
        predicted(model, x[:1])
