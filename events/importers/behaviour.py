"""Reading a file of fresh behaviour events (`nudge features push`): typed, checked, whole.

A bad value is named with its file, column and rows before anything reaches the online store.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from events.importers import fields
from events.importers.source import read_source
from events.store import ContractError

COLUMNS = ("customer_id", "event_type", "event_timestamp")
# Clocks drift, and a day's margin keeps honest senders in; a year 2999 event is a typo.
FUTURE_SKEW = pd.Timedelta(days=1)


def read_behaviour_events(path: Path) -> pd.DataFrame:
    """customer_id (int64), event_type (text) and event_timestamp (UTC) of every row of `path`."""
    raw = read_source(path, COLUMNS)
    if raw.empty:
        raise ContractError(f"{path}: no events")
    events = pd.DataFrame(
        {
            "customer_id": fields.whole_numbers(raw["customer_id"], path, "customer_id").astype("int64"),
            "event_type": fields.labels(raw["event_type"]),
            "event_timestamp": fields.timestamps(raw["event_timestamp"], path, "event_timestamp"),
        }
    )
    future = events["event_timestamp"] > pd.Timestamp.now(tz="UTC") + FUTURE_SKEW
    if future.any():
        raise fields.bad_values(
            path, "event_timestamp", "timestamp(s) in the future", raw["event_timestamp"][future]
        )
    return events
