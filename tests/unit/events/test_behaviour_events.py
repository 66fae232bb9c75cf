"""`nudge features push` files: typed whole, or refused with the file, column and rows named."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from events.importers.behaviour import read_behaviour_events
from events.store import ContractError

HEADER = "customer_id,event_type,event_timestamp\n"


def _file(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(HEADER + rows)
    return path


def test_a_good_file_is_typed(tmp_path: Path) -> None:
    rows = "7,visit,2025-05-01T10:00:00+09:00\n8,order,2025-05-02T00:00:00Z\n"
    events = read_behaviour_events(_file(tmp_path, rows))
    assert events["customer_id"].tolist() == [7, 8] and events["customer_id"].dtype == "int64"
    assert events["event_timestamp"].tolist() == [
        pd.Timestamp("2025-05-01 01:00", tz="UTC"),
        pd.Timestamp("2025-05-02", tz="UTC"),
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("7,visit,2025-05-01\nabc,visit,2025-05-01\n", r"'customer_id'.*first rows \[1\].*\['abc'\]"),
        ("7,visit,yesterday\n", r"'event_timestamp' has 1 missing or unparsable.*\['yesterday'\]"),
        ("7,visit,2999-01-01\n", r"'event_timestamp' has 1 missing or unparsable.*\['2999-01-01'\]"),
        (
            "7,visit,2025-05-01\n8,visit,2099-01-01\n",
            r"'event_timestamp' has 1 timestamp\(s\) in the future; first rows \[1\]",
        ),
        ("", r"events\.csv: no events"),
    ],
)
def test_a_bad_value_is_named_with_its_file_column_and_row(tmp_path: Path, rows: str, message: str) -> None:
    with pytest.raises(ContractError, match=message) as err:
        read_behaviour_events(_file(tmp_path, rows))
    assert "events.csv" in str(err.value)
