"""The request-time view: hours from each last event to the request, null when there is none."""

from __future__ import annotations

from pathlib import Path

import pytest

from configs.schema import FeaturesConfig
from features.definitions import realtime_view, recency_now_view


def test_hours_since_each_last_event_with_nulls_for_never(tmp_path: Path) -> None:
    view = recency_now_view(realtime_view(FeaturesConfig(), tmp_path))
    now = 1_700_000_000.0
    out = view.transform_dict(
        {
            "customer_realtime__last_visit_epoch_s": [now - 7200.0, None],
            "customer_realtime__last_cart_add_epoch_s": [float("nan"), now - 1800.0],
            "customer_realtime__last_order_epoch_s": [None, now],
            "request_epoch_s": [now, now],
        }
    )
    assert out["hours_since_last_visit"] == [pytest.approx(2.0), None]
    assert out["hours_since_last_cart_add"] == [None, pytest.approx(0.5)]
    assert out["hours_since_last_order"] == [None, pytest.approx(0.0)]
