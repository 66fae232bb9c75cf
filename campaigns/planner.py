"""Audiences end to end, for the CLI and the service alike: population features (cached per feature
snapshot), uplift predictions (cached per snapshot and model version), the audience, its launch.

The uplift model comes from the caller: the service passes the bundle it already serves, the CLI the
registry's champion (`champion_bundle`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from feast import FeatureStore
from rich.progress import Progress

from campaigns.audience import Audience, AudienceSpec, build_audience, check_spec
from campaigns.feedback import campaign_in_raw
from campaigns.launch import (
    DEFAULT_WINDOW_DAYS,
    campaign_folder,
    campaigns_root,
    check_campaign_id,
    check_export_path,
    exporting,
    new_campaign_id,
)
from campaigns.launch import register_launch as write_launch
from campaigns.measurement import UpliftScorer
from campaigns.population import Population, population_features
from configs.runtime import RuntimePaths
from configs.schema import ActionsConfig, ServingConfig
from features.store import data_now, open_store
from training.dataset import MissingFeatures, training_frame
from training.uplift.bundle import UpliftBundle, load_bundle

log = logging.getLogger(__name__)

SCORE_CHUNK = 50_000
Predictions = Mapping[str, tuple[np.ndarray, np.ndarray]]
BundleSource = Callable[[], tuple[UpliftBundle, str]]  # -> (bundle, its registry version)


@dataclass(frozen=True)
class AudienceOrder:
    """What a marketer asks for; the campaign id defaults to <action>-<date>-<random>."""

    action: str
    size: int | None = None
    budget: float | None = None
    holdout_share: float = 0.1
    campaign_id: str | None = None


class AudiencePlanner:
    def __init__(
        self,
        store: FeatureStore,
        feature_service: str,
        actions: ActionsConfig,
        bundles: BundleSource,
        raw: Path,
        campaigns_root: Path,
        progress: bool = False,
    ) -> None:
        self.store = store
        self.feature_service = feature_service
        self.actions = actions
        self.bundles = bundles
        self.raw = raw
        self.campaigns_root = campaigns_root
        self.progress = progress
        self._lock = threading.Lock()
        self._population: Population | None = None
        self._scored: tuple[tuple[pd.Timestamp, str], Predictions] | None = None

    def population(self) -> Population:
        """Every current customer's features, read again only when a newer snapshot lands."""
        with self._lock:
            now = data_now(self.store)
            if self._population is None or self._population.as_of != now:
                self._population = population_features(self.store, self.feature_service, self.progress)
            return self._population

    def predictions(self) -> tuple[Population, Predictions]:
        population = self.population()
        bundle, version = self.bundles()
        key = (population.as_of, version)
        with self._lock:
            if self._scored is None or self._scored[0] != key:
                self._scored = (key, score_in_chunks(bundle, population.features, self.progress))
            return population, self._scored[1]

    def plan(self, request: AudienceOrder) -> Audience:
        """The audience and its summary, without recording anything."""
        bundle, _ = self.bundles()
        # Fail on a bad request before the slow part.
        check_spec(self._spec(request, request.campaign_id or "pending"), self.actions, list(bundle.actions))
        population, predictions = self.predictions()
        campaign_id = request.campaign_id or new_campaign_id(request.action, population.as_of)
        spec = self._spec(request, campaign_id)
        return build_audience(population.features, predictions, self.actions, spec, population.as_of)

    def launch(
        self, request: AudienceOrder, window_days: int = DEFAULT_WINDOW_DAYS, out: Path | None = None
    ) -> tuple[Audience, Path]:
        """Plan, then record the launch (campaign + assignments) and optionally export a copy."""
        if request.campaign_id is not None:
            self._check_unused(request.campaign_id)
        if out is not None:
            check_export_path(out)
        audience = self.plan(request)
        self._check_unused(audience.summary.campaign_id)
        # The export is written first and moved into place last: a bad --out fails before the
        # launch is recorded, and a failed launch leaves no export of a campaign that never was.
        with nullcontext() if out is None else exporting(audience.rows, out):
            folder = write_launch(audience, self.campaigns_root, window_days)
        return audience, folder

    def _spec(self, request: AudienceOrder, campaign_id: str) -> AudienceSpec:
        return AudienceSpec(
            action=request.action,
            campaign_id=check_campaign_id(campaign_id),
            size=request.size,
            budget=request.budget,
            holdout_share=request.holdout_share,
        )

    def _check_unused(self, campaign_id: str) -> None:
        if campaign_folder(self.campaigns_root, campaign_id).exists() or campaign_in_raw(
            self.raw, campaign_id
        ):
            raise ValueError(f"campaign id {campaign_id!r} is already used; choose another")


def score_in_chunks(bundle: UpliftBundle, features: pd.DataFrame, progress: bool = False) -> Predictions:
    """bundle.predict over the population in chunks, with progress."""
    parts: list[Predictions] = []
    with Progress(disable=not progress) as bar:
        task = bar.add_task("uplift scoring", total=len(features))
        for start in range(0, len(features), SCORE_CHUNK):
            chunk = features.iloc[start : start + SCORE_CHUNK]
            parts.append(bundle.predict(chunk))
            bar.advance(task, len(chunk))
    return {
        action: (
            np.concatenate([p[action][0] for p in parts]),
            np.concatenate([p[action][1] for p in parts]),
        )
        for action in bundle.actions
    }


def champion_bundle(model: str, alias: str) -> tuple[UpliftBundle, str]:
    """The registry's `alias` version of the uplift model (the tracking URI must be set)."""
    from mlflow import MlflowClient

    version = str(MlflowClient().get_model_version_by_alias(model, alias).version)
    return load_bundle(f"models:/{model}/{version}"), version


def champion_scorer(
    store: FeatureStore, feature_service: str, bundle: UpliftBundle, label: str
) -> UpliftScorer:
    """Scores assignments with `bundle` on their features at assignment time (Feast point in time)."""

    def score(rows: pd.DataFrame, action: str) -> tuple[np.ndarray, str] | None:
        if action not in bundle.actions:
            return None
        entities = rows[["customer_id", "event_timestamp"]].drop_duplicates()
        try:
            frame = training_frame(store, entities, feature_service)
        except MissingFeatures as err:  # e.g. customers imported after the features were built
            return np.full(len(rows), np.nan), f"{label}: no features at the assignment times ({err})"
        uplift, _ = bundle.actions[action].predict(frame)
        scored = frame[["customer_id", "event_timestamp"]].assign(uplift=uplift)
        aligned = rows[["customer_id", "event_timestamp"]].merge(scored, how="left")
        note = f"{label} scored at assignment time through Feast (it may have trained on this campaign)"
        return aligned["uplift"].to_numpy(dtype=np.float64), note

    return score


def launch_audience(
    order: AudienceOrder,
    actions: ActionsConfig,
    config: ServingConfig,
    paths: RuntimePaths,
    window_days: int = DEFAULT_WINDOW_DAYS,
    out: Path | None = None,
) -> tuple[Audience, Path]:
    """`nudge audience`: the registry's uplift champion over every current customer, launched."""
    import mlflow

    mlflow.set_tracking_uri(paths.tracking_uri)
    bundle = champion_bundle(config.uplift_model, config.alias)
    store = open_store(paths.feature_repo)
    planner = AudiencePlanner(
        store,
        config.feature_service,
        actions,
        lambda: bundle,
        paths.raw,
        campaigns_root(paths),
        progress=True,
    )
    return planner.launch(order, window_days, out)
