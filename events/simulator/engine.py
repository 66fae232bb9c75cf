"""The day loop: sign-ups join, campaigns start, each active customer orders and visits or not.

Vectorized over customers; customers are sorted by sign-up time, so the population on day t is a
prefix of every array. Everything random comes from one generator seeded by the config.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from rich.progress import track

from configs.schema import SimulationConfig
from events.calendar import on_grid
from events.simulator import hazard
from events.simulator.actions import ACTIONS
from events.simulator.campaigns import CampaignLog, run_campaigns
from events.simulator.catalog import product_prices
from events.simulator.cohorts import signed_up_by, signup_times
from events.simulator.ground_truth import CutoffLog, record_cutoff
from events.simulator.orders import OrderBook, place_orders
from events.simulator.state import CustomerState
from events.simulator.timeline import Timeline
from events.simulator.traits import Traits, draw_traits

log = logging.getLogger(__name__)


@dataclass
class SessionLog:
    """Visits as per-day chunks: who, which day, the order placed (-1: none), cart left behind."""

    chunks: list[dict[str, np.ndarray]] = field(default_factory=list)

    def columns(self) -> dict[str, np.ndarray]:
        keys = ("customer", "day", "order", "abandoned")
        if not self.chunks:
            return {k: np.zeros(0, np.int64) for k in keys}
        return {k: np.concatenate([c[k] for c in self.chunks]) for k in keys}


@dataclass
class World:
    """Everything the day loop produced; tables.py turns it into contract tables."""

    timeline: Timeline
    traits: Traits
    state: CustomerState
    prices: np.ndarray
    sessions: SessionLog = field(default_factory=SessionLog)
    orders: OrderBook = field(default_factory=OrderBook)
    campaigns: CampaignLog = field(default_factory=CampaignLog)
    cutoffs: CutoffLog = field(default_factory=CutoffLog)


def run(
    config: SimulationConfig,
    rng: np.random.Generator,
    *,
    progress: bool = True,
    campaigns: bool = True,
) -> World:
    """Simulate `config.days` days; `campaigns=False` is the same shop without any CRM."""
    timeline = Timeline(config.start_date, config.days, config.campaign_window_days, config.horizon_days)
    signup_day, signup_ns = signup_times(rng, config.customers, config.days, timeline.first_weekday)
    traits = draw_traits(rng, signup_day, signup_ns)
    world = World(timeline, traits, CustomerState.empty(config.customers), product_prices())
    actions = ACTIONS if campaigns else ()
    for day in _days(config.days, progress):
        if on_grid(config.start_date + timedelta(days=day), config.cutoff_every_days):
            _cutoff(world, day)
        before = signed_up_by(signup_day, day - 1)
        run_campaigns(rng, day, before, traits, world.state, timeline, world.campaigns, actions)
        _live(rng, day, world)
    if on_grid(config.start_date + timedelta(days=config.days), config.cutoff_every_days):
        _cutoff(world, config.days)
    log.info(
        "simulated %d customers x %d days: %d sessions, %d orders, %d campaigns",
        config.customers,
        config.days,
        sum(len(c["day"]) for c in world.sessions.chunks),
        world.orders.count,
        len(world.campaigns.ids),
    )
    return world


def _days(days: int, progress: bool) -> Iterable[int]:
    return track(range(days), description="simulating days", disable=not progress)


def _cutoff(world: World, day: int) -> None:
    m = signed_up_by(world.traits.signup_day, day - 1)
    if m:
        record_cutoff(day, m, world.traits, world.state, world.timeline, world.cutoffs)


def _live(rng: np.random.Generator, day: int, world: World) -> None:
    """One day of the signed-up population: orders (hazard) and visits, then their effects."""
    traits, state = world.traits, world.state
    m = signed_up_by(traits.signup_day, day)
    sel = slice(0, m)
    h_base = hazard.daily(
        traits.propensity.take(sel),
        state.n_orders[:m],
        day - state.anchor_day(traits.signup_day, sel),
        hazard.weekday_factor(world.timeline.first_weekday, day),
    )
    treated = np.flatnonzero((state.window_until[:m] > day) & (state.delta[:m] != 0.0))
    h = h_base.copy()
    h[treated] = hazard.shifted(h_base[treated], state.delta[treated])
    p_visit = hazard.visit_probability(h_base, traits.visit_rate[:m])
    p_visit[signed_up_by(traits.signup_day, day - 1) :] = 1.0  # signing up is a visit
    # One uniform for both: every order comes with a visit, P(visit) = max(h, p_visit).
    u = rng.random(m)
    ordered = u < h
    visitors = np.flatnonzero(u < np.maximum(h, p_visit))
    buyers = visitors[ordered[visitors]]
    browsers = visitors[~ordered[visitors]]
    numbers = place_orders(
        rng, day, buyers, traits, state, world.campaigns.actions, world.orders, world.prices
    )
    abandoned = rng.random(browsers.size) < traits.cart_rate[browsers]
    state.abandon_day[browsers[abandoned]] = day
    world.sessions.chunks.append(
        {
            "customer": np.concatenate([buyers, browsers]).astype(np.int64),
            "day": np.full(visitors.size, day, np.int32),
            "order": np.concatenate([numbers, np.full(browsers.size, -1, np.int64)]),
            "abandoned": np.concatenate([np.zeros(buyers.size, bool), abandoned]),
        }
    )
