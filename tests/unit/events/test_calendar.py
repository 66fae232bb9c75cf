import itertools
from datetime import date

import pandas as pd

from events.calendar import epoch_day, grid_after, on_grid


def test_grids_of_multiple_periods_share_dates() -> None:
    first, last = pd.Timestamp("2025-01-03 05:00", tz="UTC"), pd.Timestamp("2025-06-30", tz="UTC")
    weekly, four_weekly = grid_after(first, last, 7), grid_after(first, last, 28)
    assert set(four_weekly) <= set(weekly)
    assert all(b - a == pd.Timedelta(days=7) for a, b in itertools.pairwise(weekly))
    assert weekly[0] > first and weekly[0] - pd.Timedelta(days=7) <= first
    assert weekly[-1] <= last
    assert all(on_grid(t.date(), 28) for t in four_weekly)


def test_epoch_day() -> None:
    assert epoch_day(date(1970, 1, 8)) == 7 and on_grid(date(1970, 1, 8), 7)
