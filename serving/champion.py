"""The champion model of a task, fetched from the MLflow registry by alias."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient

from features.catalog import model_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChampionModel:
    name: str
    version: str
    model: lgb.LGBMClassifier
    feature_names: list[str]

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.model.predict_proba(model_frame(features, self.feature_names)))[:, 1]


def load_champion(tracking_uri: str, name: str, alias: str) -> ChampionModel:
    client = MlflowClient(tracking_uri=tracking_uri)
    version = client.get_model_version_by_alias(name, alias)
    mlflow.set_tracking_uri(tracking_uri)
    model = mlflow.lightgbm.load_model(f"models:/{name}@{alias}")
    log.info("loaded %s v%s (%s)", name, version.version, alias)
    return ChampionModel(name, str(version.version), model, list(model.feature_name_))
