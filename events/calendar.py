"""The calendar grid that feature snapshots, label cutoffs and ground-truth cutoffs share.

A grid of period N days is every UTC midnight whose day number since 1970-01-01 is a multiple of N.
Anchoring on the epoch, not on the data's first day, puts grids of periods 7, 14 and 28 on common
dates whatever the data, so a model's test cutoff can coincide with a ground-truth cutoff.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

EPOCH = date(1970, 1, 1)


def epoch_day(day: date) -> int:
    return (day - EPOCH).days


def on_grid(day: date, every_days: int) -> bool:
    return epoch_day(day) % every_days == 0


def grid_after(first: pd.Timestamp, last: pd.Timestamp, every_days: int) -> list[pd.Timestamp]:
    """Grid midnights t with first < t <= last."""
    start_day = epoch_day(first.date()) // every_days * every_days + every_days
    end_day = epoch_day(last.date())
    epoch = pd.Timestamp(EPOCH, tz="UTC")
    return [
        epoch + pd.Timedelta(days=d)
        for d in range(start_day, end_day + 1, every_days)
        if epoch + pd.Timedelta(days=d) > first
    ]
