"""Online reads of a FeatureService with the freshness Feast does not enforce at read time.

Feast applies a view's TTL in point-in-time joins and materialization, but its online read returns
whatever was last written. Serving must not score a months-old vector as if it were today's, so
each row carries the time of its newest feature value and whether that is within the TTL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from feast import FeatureStore

from features.definitions import CUSTOMER_KEY

_TS_SUFFIX = "__ts"


@dataclass(frozen=True)
class OnlineVectors:
    features: pd.DataFrame  # one row per requested id, in request order
    as_of_epoch_s: np.ndarray  # newest feature timestamp per row; 0 = nothing stored
    fresh: np.ndarray  # stored and younger than the shortest TTL in the service


class OnlineReader:
    def __init__(self, store: FeatureStore, feature_service: str, clock: Callable[[], float]) -> None:
        self.store = store
        self.service = store.get_feature_service(feature_service)
        self.clock = clock
        # On-demand views have no TTL of their own; only stored views can be stale.
        stored = {v.name: v.ttl for v in store.list_feature_views()}
        ttls = [stored[p.name] for p in self.service.feature_view_projections if p.name in stored]
        self.ttl_s = min((t.total_seconds() for t in ttls if t), default=float("inf"))

    def read(self, customer_ids: list[int]) -> OnlineVectors:
        rows = [{CUSTOMER_KEY: int(cid)} for cid in customer_ids]
        raw = self.store.get_online_features(features=self.service, entity_rows=rows)
        frame = pd.DataFrame(raw.to_dict(include_event_timestamps=True))
        stamp_columns = [
            c for c in frame.columns if c.endswith(_TS_SUFFIX) and c != CUSTOMER_KEY + _TS_SUFFIX
        ]
        as_of = frame[stamp_columns].max(axis=1).to_numpy(dtype=np.float64)
        fresh = (as_of > 0) & (self.clock() - as_of <= self.ttl_s)
        return OnlineVectors(frame.drop(columns=[*stamp_columns, CUSTOMER_KEY + _TS_SUFFIX]), as_of, fresh)
