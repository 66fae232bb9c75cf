"""A campaign's review: measure it, keep the results beside its launch record, and return a launched
campaign whose window has closed to the uplift training data (the raw tables).

Campaigns in the raw data with no launch record here (simulated or imported history) are measured
the same way; their Qini then comes from the uplift champion scored at assignment time.
"""

from __future__ import annotations

import logging

import mlflow
import numpy as np
import pandas as pd

from campaigns.feedback import append_campaign, campaign_in_raw
from campaigns.launch import campaign_folder, campaigns_root, load_launch
from campaigns.measurement import Measurement, UpliftScorer, measure_campaign, save_measurement
from campaigns.planner import champion_bundle, champion_scorer
from configs.runtime import RuntimePaths
from configs.schema import ServingConfig
from features.store import open_store

log = logging.getLogger(__name__)


def review_campaign(
    campaign_id: str, config: ServingConfig, paths: RuntimePaths, append: bool = True
) -> tuple[Measurement, str]:
    """(the measurement, what happened to the training data)."""
    root = campaigns_root(paths)
    measurement = measure_campaign(campaign_id, paths.raw, root, _champion_scorer(config, paths))
    status = feed_back(campaign_id, measurement, paths) if append else "not added (--no-append)"
    save_measurement(measurement, campaign_folder(root, campaign_id), status)
    return measurement, status


def feed_back(campaign_id: str, measurement: Measurement, paths: RuntimePaths) -> str:
    """Append a launched, completed campaign to the raw tables; say what was done and why."""
    launch = load_launch(campaigns_root(paths), campaign_id)
    if launch is None or campaign_in_raw(paths.raw, campaign_id):
        return "already in the raw data (uplift training data)"
    if not measurement.complete:
        return (
            f"not added yet: the window ends {measurement.end}, the data reach {measurement.observed_until}; "
            "measure again once it has closed"
        )
    added = append_campaign(paths.raw, launch.campaign, launch.assignments, launch.folder)
    return f"added to the uplift training data: {added:,} assignments appended to {paths.raw}"


def _champion_scorer(config: ServingConfig, paths: RuntimePaths) -> UpliftScorer:
    """The registry's uplift champion over Feast, loaded only for a campaign that logged no predictions."""

    def score(rows: pd.DataFrame, action: str) -> tuple[np.ndarray, str] | None:
        try:
            mlflow.set_tracking_uri(paths.tracking_uri)
            bundle, version = champion_bundle(config.uplift_model, config.alias)
            store = open_store(paths.feature_repo)
        except Exception as err:  # the measurement stands without a Qini
            log.warning("no uplift champion to score the campaign with: %s", err)
            return None
        label = f"{config.uplift_model} v{version} ({config.alias})"
        return champion_scorer(store, config.feature_service, bundle, label)(rows, action)

    return score
