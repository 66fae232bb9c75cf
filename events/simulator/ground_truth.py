"""Ground truth for evaluation: latent traits, exact per-cutoff probabilities, true uplift.

Kept out of the raw dataset on purpose: models must learn from events, and evaluation compares
them with what the simulator knows. Definitions (see README.md):
- p_convert / p_churn: P(first order) / P(no order) on the horizon_days starting at the cutoff
  if no new campaign touches the customer (a treatment already running keeps running);
- uplift_<action>: P(order within campaign_window_days | treated at the cutoff through the
  action's primary channel) - P(same | not treated); 0 outside the action's population or inside
  an active campaign window;
- p_control_<action>: the P(same | not treated) term, so the true profit of a decision (coupons
  are paid on treated orders that would have happened anyway) can be computed; NaN where
  uplift_<action> is 0 by definition.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from configs.atomic import swap_in
from configs.schema import SimulationConfig
from events.simulator import hazard
from events.simulator.actions import ACTIONS
from events.simulator.campaigns import CampaignLog, window_probabilities
from events.simulator.effects import treatment_effect
from events.simulator.eligibility import population
from events.simulator.state import CustomerState
from events.simulator.timeline import Timeline
from events.simulator.traits import Traits

log = logging.getLogger(__name__)

STAGE = pd.CategoricalDtype(["prospect", "buyer"])
CONFIG_FILE = "simulation.json"  # the SimulationConfig the data was drawn with


@dataclass
class CutoffLog:
    chunks: list[pd.DataFrame] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        if self.chunks:
            return pd.concat(self.chunks, ignore_index=True)
        columns: dict[str, object] = {
            "customer_id": "int64",
            "cutoff_ts": "datetime64[ns, UTC]",
            "stage": STAGE,
            "n_orders": "int64",
            **{c: "float64" for c in ("days_since_last_order", "p_convert", "p_churn")},
            **{f"uplift_{a.name}": "float64" for a in ACTIONS},
            **{f"p_control_{a.name}": "float64" for a in ACTIONS},
        }
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


def record_cutoff(
    day: int,
    m: int,
    traits: Traits,
    state: CustomerState,
    timeline: Timeline,
    cutoffs: CutoffLog,
) -> None:
    """Ground truth of the first `m` customers (signed up before `day`) at the midnight of `day`."""
    sel = slice(0, m)
    n_orders = state.n_orders[:m]
    buyer = n_orders > 0
    p_any = hazard.order_within(
        traits.propensity.take(sel),
        n_orders,
        state.anchor_day(traits.signup_day, sel),
        day,
        timeline.horizon_days,
        timeline.first_weekday,
        state.delta[:m],
        state.window_until[:m],
    )
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(1, m + 1, dtype=np.int64),
            "cutoff_ts": timeline.midnight(day),
            "stage": pd.Categorical.from_codes(buyer.astype(np.int8), dtype=STAGE),
            "n_orders": n_orders.astype(np.int64),
            "days_since_last_order": np.where(buyer, day - state.last_order_day[:m], np.nan),
            "p_convert": np.where(buyer, np.nan, p_any),
            "p_churn": np.where(buyer, 1.0 - p_any, np.nan),
        }
    )
    for action in ACTIONS:
        uplift, p_control = _uplift(action.name, action.channels[0], day, m, traits, state, timeline)
        frame[f"uplift_{action.name}"] = uplift
        frame[f"p_control_{action.name}"] = p_control
    cutoffs.chunks.append(frame)


def _uplift(
    action: str,
    channel: str,
    day: int,
    m: int,
    traits: Traits,
    state: CustomerState,
    timeline: Timeline,
) -> tuple[np.ndarray, np.ndarray]:
    """True uplift and control window probability; (0, NaN) outside the action's population."""
    uplift, p_control = np.zeros(m), np.full(m, np.nan)
    idx = np.flatnonzero(population(action, day, state, m) & state.free(slice(0, m), day))
    if idx.size:
        effect = treatment_effect(action, channel, traits, idx)
        p_control[idx], p_treated = window_probabilities(idx, effect, day, traits, state, timeline)
        uplift[idx] = p_treated - p_control[idx]
    return uplift, p_control


def assignment_truth(campaigns: CampaignLog) -> pd.DataFrame:
    """True window conversion probabilities of every assigned customer, both arms."""
    rows = campaigns.assignments()
    ids = np.array(campaigns.ids, dtype=object)
    names = np.array([a.name for a in campaigns.actions], dtype=object)
    return pd.DataFrame(
        {
            "campaign_id": pd.Series(ids[rows["campaign"]], dtype="string"),
            "customer_id": rows["customer"].astype(np.int64) + 1,
            "action": pd.Series(names[rows["campaign"]], dtype="string"),
            "p_control": rows["p_control"],
            "p_treated": rows["p_treated"],
            "true_uplift": rows["p_treated"] - rows["p_control"],
        }
    )


def write_truth(frames: Mapping[str, pd.DataFrame], config: SimulationConfig, folder: Path) -> None:
    """Write the ground-truth files, and the config that drew them, into a staging `folder`;
    publish() makes them visible."""
    for name, frame in frames.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    (folder / CONFIG_FILE).write_text(config.model_dump_json(indent=2))


def read_simulation_config(truth_dir: Path) -> SimulationConfig:
    """The config a simulated dataset was drawn with, from its ground-truth folder."""
    path = truth_dir / CONFIG_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: {truth_dir} holds no simulated data's ground truth")
    return SimulationConfig.model_validate_json(path.read_text())


def publish(staging: Path, dest: Path) -> None:
    swap_in(staging, dest)
    log.info("wrote ground truth to %s", dest)
