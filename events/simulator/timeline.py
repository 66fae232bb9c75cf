"""Simulated time: day indices from the start date (UTC midnights), weekdays, campaign windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from events.simulator.catalog import DAY_NS


@dataclass(frozen=True)
class Timeline:
    start: date
    days: int
    window_days: int  # campaign treatment and outcome window
    horizon_days: int  # ground-truth prediction horizon

    @property
    def first_weekday(self) -> int:
        return self.start.weekday()

    @property
    def start_ns(self) -> int:
        """The start midnight as ns since the epoch; internal times are ns offsets from it."""
        return int(pd.Timestamp(self.start, tz="UTC").value)

    def weekday(self, day: int) -> int:
        return (self.first_weekday + day) % 7

    def midnight(self, day: int) -> pd.Timestamp:
        return pd.Timestamp(self.start_ns + day * DAY_NS, tz="UTC")

    def campaign_id(self, action: str, day: int) -> str:
        return f"{action}-{(self.start + timedelta(days=day)).isoformat()}"
