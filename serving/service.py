"""The BentoML service: `bentoml serve serving.service:Nudge`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

import bentoml
import pandas as pd
from feast import FeatureStore
from pydantic import Field

from configs.loader import load_config
from configs.runtime import runtime_paths
from configs.schema import ServingConfig
from features.online import OnlineReader
from features.store import data_now, open_store, push_events
from serving.champion import load_champion
from serving.schemas import BehaviourEvent, EventsAccepted, ScoresResponse
from serving.scorer import ChurnScorer

# Upper bounds on list sizes per request; ServingConfig.max_customers_per_request may lower ids.
_HARD_MAX_IDS = 10_000
_MAX_EVENTS = 10_000


def make_clock(kind: str, store: FeatureStore) -> Callable[[], float]:
    if kind == "wall":
        return time.time
    now = data_now(store).timestamp()
    return lambda: now


@bentoml.service(name="nudge", traffic={"timeout": 30})
class Nudge:
    def __init__(self) -> None:
        self.config = load_config("serving", ServingConfig)
        paths = runtime_paths()
        self.store = open_store(paths.feature_repo)
        champion = load_champion(paths.tracking_uri, self.config.churn_model, self.config.alias)
        # The model knows which FeatureService it was trained on; read exactly that.
        clock = make_clock(self.config.clock, self.store)
        reader = OnlineReader(self.store, champion.feature_service, clock)
        self.scorer = ChurnScorer(reader, champion)

    @bentoml.api(route="/scores")
    def scores(
        self, customer_ids: Annotated[list[int], Field(min_length=1, max_length=_HARD_MAX_IDS)]
    ) -> ScoresResponse:
        """Churn risk for each customer id; unknown or stale ids get an explicit cold-start answer."""
        if len(customer_ids) > self.config.max_customers_per_request:
            raise bentoml.exceptions.InvalidArgument(
                f"customer_ids: at most {self.config.max_customers_per_request} per request, "
                f"got {len(customer_ids)}"
            )
        return self.scorer.score(customer_ids)

    @bentoml.api(route="/events")
    def events(
        self, events: Annotated[list[BehaviourEvent], Field(min_length=1, max_length=_MAX_EVENTS)]
    ) -> EventsAccepted:
        """Push fresh behaviour (visit, cart_add, order) to the online store's real-time view."""
        frame = pd.DataFrame([event.model_dump() for event in events])
        return EventsAccepted(customers_updated=push_events(self.store, frame))
