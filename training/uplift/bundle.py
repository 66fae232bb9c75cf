"""The registered uplift model: one fitted learner per action plus a control-outcome model, logged
to MLflow as a single pyfunc so serving loads every action's model by one alias.

Serving imports this module to unpickle the bundle, so it imports nothing heavier than the
learners themselves (no Optuna, no Feast).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import lightgbm as lgb
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from features.rows import Rows, model_matrix
from training.uplift.boosting import predicted, training_categories
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

    def predict(self, features: Rows) -> tuple[np.ndarray, np.ndarray]:
        """(calibrated uplift, P(order | not treated)) per row of `features` (it may hold more columns)."""
        return self.predict_matrix(self.matrix(features))

    def matrix(self, features: Rows) -> np.ndarray:
        return model_matrix(features, self.feature_names, self.categories)

    def predict_matrix(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As `predict`, on the rows `matrix` coded."""
        outcomes = getattr(self.learner, "predict_outcomes", None)
        if outcomes is not None and self.calibration.slope:
            # A learner of both outcomes gives its own P(order | not treated), consistent with its uplift.
            p_control, p_treated = outcomes(matrix)
            return self.calibration(p_treated - p_control, p_control), p_control
        # A slope of 0 (no ranking the calibration trusts) leaves the calibration's fallback alone.
        estimate = self.learner.predict_uplift(matrix) if self.calibration.slope else np.zeros(len(matrix))
        p_control = predicted(self.control, matrix)
        return self.calibration(estimate, p_control), p_control

    @cached_property
    def categories(self) -> dict[str, pd.Index]:
        # The learner and the control model are fitted on one frame, so they share its categories.
        return training_categories(self.control, self.feature_names)

    @cached_property
    def coding(self) -> Hashable:
        """Equal for actions whose matrices are the same, so a batch is coded once for them all."""
        return tuple(self.feature_names), tuple((k, tuple(v)) for k, v in self.categories.items())


@dataclass
class UpliftBundle:
    actions: dict[str, ActionModel] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        names = [n for model in self.actions.values() for n in model.feature_names]
        return list(dict.fromkeys(names))

    def predict(
        self, features: Rows, actions: list[str] | None = None
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """action -> (uplift, p_control) for every row, of `actions` (default: all)."""
        matrices: dict[Hashable, np.ndarray] = {}
        out = {}
        for name in self.actions if actions is None else actions:
            model = self.actions[name]
            if model.coding not in matrices:
                matrices[model.coding] = model.matrix(features)
            out[name] = model.predict_matrix(matrices[model.coding])
        return out


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
