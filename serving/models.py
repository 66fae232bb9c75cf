"""The models the service answers with: each score's champion and the uplift bundle, fetched from
the MLflow registry by alias, and swapped whole when an alias moves.

A new version that fails to load (or lacks features the online read provides) is logged and the
current set keeps serving: a bad registration never takes the service down.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import lightgbm as lgb
import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from configs.schema import ServingConfig
from training.registry import LoadedModel, load_version
from training.uplift.bundle import UpliftBundle, load_bundle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSet:
    predictors: dict[str, LoadedModel]  # score name -> champion
    uplift: UpliftBundle
    versions: dict[str, str]  # registered model -> version

    def feature_names(self) -> list[str]:
        names = [n for model in self.predictors.values() for n in model.feature_names]
        return list(dict.fromkeys([*names, *self.uplift.feature_names]))


def alias_versions(config: ServingConfig) -> dict[str, str]:
    """Registered model -> the version its alias points at now."""
    client = MlflowClient()
    names = [*config.models.values(), config.uplift_model]
    try:
        return {name: str(client.get_model_version_by_alias(name, config.alias).version) for name in names}
    except MlflowException as err:
        raise LookupError(f"no {config.alias!r} alias for one of {names}: {err.message}") from None


def load_models(config: ServingConfig) -> ModelSet:
    versions = alias_versions(config)
    predictors = {score: load_version(name, versions[name]) for score, name in config.models.items()}
    uplift = load_bundle(f"models:/{config.uplift_model}/{versions[config.uplift_model]}")
    # /next-best-action scores one customer through every action's models: one thread each. The
    # score models keep every core: /scores explains batches of up to hundreds (SHAP 2x faster). Even
    # with a worker per core: one worker may hold every connection, and the other core would idle.
    single_threaded(uplift)
    log.info("loaded models %s", versions)
    return ModelSet(predictors, uplift, versions)


def single_threaded(obj: object, seen: set[int] | None = None) -> None:
    """Make every LightGBM model inside `obj` predict on one thread.

    On a row or a few, LightGBM's thread pool costs more than it saves (3x slower on one row under
    load), and the server's own workers already keep the cores busy.
    """
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, lgb.LGBMModel):
        obj.set_params(n_jobs=1)
    elif isinstance(obj, dict):
        for value in obj.values():
            single_threaded(value, seen)
    elif isinstance(obj, list | tuple):
        for value in obj:
            single_threaded(value, seen)
    elif hasattr(obj, "__dict__"):
        for value in vars(obj).values():
            single_threaded(value, seen)


class ModelHolder:
    """The current ModelSet; `refresh` re-checks the registry (the service calls it every
    `reload_interval_s`)."""

    def __init__(self, config: ServingConfig, tracking_uri: str, available: list[str]) -> None:
        mlflow.set_tracking_uri(tracking_uri)
        self.config = config
        self.available = set(available)
        self.current = self._checked(load_models(config))
        self.last_error: str | None = None

    def refresh(self) -> bool:
        """Swap in the alias targets if they moved; True when a new set now serves."""
        try:
            if alias_versions(self.config) == self.current.versions:
                return False
            candidate = self._checked(load_models(self.config))
        except Exception as err:  # any failure keeps the models that work
            self.last_error = f"{type(err).__name__}: {err}"
            log.exception("model reload failed; still serving %s", self.current.versions)
            return False
        log.info("models reloaded: %s -> %s", self.current.versions, candidate.versions)
        self.current, self.last_error = candidate, None
        return True

    def _checked(self, models: ModelSet) -> ModelSet:
        missing = [n for n in models.feature_names() if n not in self.available]
        if missing:
            raise ValueError(
                f"models read features the {self.config.feature_service!r} service lacks: {missing[:10]}"
            )
        return models
