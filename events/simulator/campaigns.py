"""Past CRM campaigns: scheduled instances, eligibility, randomized holdouts, true uplift.

Every instance randomizes each eligible customer to treatment with the action's treatment
probability. Both arms then sit out other campaigns for the window, so a holdout stays untreated
and the window outcome of either arm is caused by this campaign alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from events.simulator import hazard
from events.simulator.actions import ACTIONS, Action
from events.simulator.effects import treatment_effect
from events.simulator.eligibility import campaign_eligible
from events.simulator.state import CustomerState
from events.simulator.timeline import Timeline
from events.simulator.traits import Traits

log = logging.getLogger(__name__)


@dataclass
class CampaignLog:
    """Campaign instances and their assignments, accumulated day by day."""

    ids: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    days: list[int] = field(default_factory=list)
    chunks: list[dict[str, np.ndarray]] = field(default_factory=list)

    def assignments(self) -> dict[str, np.ndarray]:
        """campaign, customer, treated, effect, p_control, p_treated over all instances."""
        keys = ("campaign", "customer", "treated", "effect", "p_control", "p_treated")
        if not self.chunks:
            return {k: np.zeros(0, np.float64 if k.startswith("p_") else np.int64) for k in keys}
        return {k: np.concatenate([c[k] for c in self.chunks]) for k in keys}

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "campaign_id": pd.Series(self.ids, dtype="string"),
                "action": pd.Series([a.name for a in self.actions], dtype="string"),
                "channel": pd.Series(self.channels, dtype="string"),
                "day": np.array(self.days, dtype=np.int64),
                "treatment_probability": [a.treatment_probability for a in self.actions],
            }
        )


def run_campaigns(
    rng: np.random.Generator,
    day: int,
    m: int,
    traits: Traits,
    state: CustomerState,
    timeline: Timeline,
    campaign_log: CampaignLog,
    actions: tuple[Action, ...] = ACTIONS,
) -> None:
    """Start today's campaign instances among the first `m` customers (signed up before today)."""
    weekday = timeline.weekday(day)
    for action in actions:
        if not action.runs_on(day, weekday):
            continue
        channel = action.channel_on(day)
        idx = np.flatnonzero(campaign_eligible(action, channel, day, traits, state, m))
        if idx.size:
            _assign(rng, day, action, channel, idx, traits, state, timeline, campaign_log)


def _assign(
    rng: np.random.Generator,
    day: int,
    action: Action,
    channel: str,
    idx: np.ndarray,
    traits: Traits,
    state: CustomerState,
    timeline: Timeline,
    campaign_log: CampaignLog,
) -> None:
    treated = rng.random(idx.size) < action.treatment_probability
    effect = treatment_effect(action.name, channel, traits, idx)
    p_control, p_treated = window_probabilities(idx, effect, day, traits, state, timeline)
    number = len(campaign_log.ids)
    campaign_log.ids.append(timeline.campaign_id(action.name, day))
    campaign_log.actions.append(action)
    campaign_log.channels.append(channel)
    campaign_log.days.append(day)
    campaign_log.chunks.append(
        {
            "campaign": np.full(idx.size, number, np.int64),
            "customer": idx.astype(np.int64),
            "treated": treated,
            "effect": effect,
            "p_control": p_control,
            "p_treated": p_treated,
        }
    )
    until = day + timeline.window_days
    state.window_until[idx] = until
    state.delta[idx] = np.where(treated, effect, 0.0)
    state.coupon[idx] = np.where(treated & (action.coupon is not None), number, -1)
    log.debug("%s: %d assigned, %d treated", campaign_log.ids[-1], idx.size, treated.sum())


def window_probabilities(
    idx: np.ndarray,
    effect: np.ndarray,
    day: int,
    traits: Traits,
    state: CustomerState,
    timeline: Timeline,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact P(order within the window from `day`) without and with the treatment."""
    args = (
        traits.propensity.take(idx),
        state.n_orders[idx],
        state.anchor_day(traits.signup_day, idx),
        day,
        timeline.window_days,
        timeline.first_weekday,
    )
    until = day + timeline.window_days
    return hazard.order_within(*args), hazard.order_within(*args, effect, until)
