"""The registered uplift model: one fitted learner per action plus a control-outcome model, logged
to MLflow as a single pyfunc so serving loads every action's model by one alias.

Serving imports this module to unpickle the bundle, so it imports nothing heavier than the
learners themselves (no Optuna, no Feast).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from features.catalog import model_frame
from training.uplift.calibration import IDENTITY, UpliftCalibration


@dataclass
class ActionModel:
    """The chosen learner for one action, the calibration of its estimates and P(order | not
    treated) from the control arm."""

    learner_name: str
    learner: Any  # training.uplift.learners estimator: predict_uplift(X)
    control: lgb.LGBMClassifier
    feature_names: list[str]
    calibration: UpliftCalibration = IDENTITY  # bundles saved before calibration: identity

    def predict(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(calibrated uplift, P(order | not treated)) per row of `features`."""
        return self.predict_model_frame(model_frame(features, self.feature_names))

    def predict_model_frame(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """As `predict`, on a frame model_frame already made (it may hold more columns)."""
        if list(frame.columns) != self.feature_names:
            frame = frame[self.feature_names]
        uplift = self.calibration(self.learner.predict_uplift(frame))
        p_control = np.asarray(self.control.predict_proba(frame))[:, 1]
        return uplift, p_control


@dataclass
class UpliftBundle:
    actions: dict[str, ActionModel] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        names = [n for model in self.actions.values() for n in model.feature_names]
        return list(dict.fromkeys(names))

    def predict(self, features: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """action -> (uplift, p_control) for every row."""
        frame = model_frame(features, self.feature_names)  # once for every action
        return {name: model.predict_model_frame(frame) for name, model in self.actions.items()}


class UpliftPyfunc(PythonModel):
    """MLflow wrapper; `predict` returns one uplift_<action> and p_control_<action> column each."""

    def __init__(self, bundle: UpliftBundle) -> None:
        self.bundle = bundle

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        out = {}
        for name, (uplift, p_control) in self.bundle.predict(model_input).items():
            out[f"uplift_{name}"], out[f"p_control_{name}"] = uplift, p_control
        return pd.DataFrame(out, index=model_input.index)


def load_bundle(uri: str) -> UpliftBundle:
    model = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    if not isinstance(model, UpliftPyfunc):
        raise ValueError(f"{uri} is not a nudge uplift model (got {type(model).__name__})")
    return model.bundle
