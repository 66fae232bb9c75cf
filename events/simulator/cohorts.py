"""Sign-up cohorts: when customers join the shop over the simulated period."""

from __future__ import annotations

import numpy as np

from events.simulator.catalog import DAY_NS, WEEKDAY_SIGNUP_FACTOR

# Sign-ups per day grow by this factor from the first to the last day (the shop is growing).
GROWTH = 2.5
# Day-to-day noise on the sign-up rate (marketing pushes, press, weather).
DAILY_NOISE = 0.15


def signup_times(
    rng: np.random.Generator, customers: int, days: int, first_weekday: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted sign-up day index and sign-up time (ns since the start) of every customer.

    Sorting by time lets the engine treat the population signed up by day t as a prefix.
    """
    day = np.arange(days)
    weekday = (first_weekday + day) % 7
    rate = np.exp(np.log(GROWTH) * day / max(days - 1, 1)) * WEEKDAY_SIGNUP_FACTOR[weekday]
    rate *= rng.lognormal(0.0, DAILY_NOISE, days)
    counts = rng.multinomial(customers, rate / rate.sum())
    signup_day = np.repeat(day, counts)
    within = (rng.random(customers) * DAY_NS).astype(np.int64)
    signup_ns = np.sort(signup_day.astype(np.int64) * DAY_NS + within)
    return (signup_ns // DAY_NS).astype(np.int32), signup_ns


def signed_up_by(signup_day: np.ndarray, day: int) -> int:
    """How many customers signed up on or before `day` (the active prefix on that day)."""
    return int(np.searchsorted(signup_day, day, side="right"))
