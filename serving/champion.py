"""The champion model of a task, fetched from the MLflow registry by alias."""

from __future__ import annotations

import logging

import mlflow

from training.registry import LoadedModel, load_version

log = logging.getLogger(__name__)


def load_champion(tracking_uri: str, name: str, alias: str) -> LoadedModel:
    mlflow.set_tracking_uri(tracking_uri)
    loaded = load_version(name, alias)
    log.info("loaded %s v%s (%s)", name, loaded.version, alias)
    return loaded
