"""The BentoML service: `bentoml serve serving.service:Nudge`.

Routes: POST /scores, /next-best-action, /events (and /audiences, the marketer page); BentoML adds
/healthz, /livez, /readyz (ready once the models are loaded), /metrics (Prometheus) and
/docs.json (OpenAPI).
"""

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
from configs.schema import ActionsConfig, ServingConfig
from decisions.eligibility import check_features
from features.online import OnlineReader
from features.store import data_now, open_store, push_events
from serving.guard import Guard
from serving.models import ModelHolder
from serving.schemas import BehaviourEvent, DecisionsResponse, EventsAccepted, ScoresResponse
from serving.scorer import Scorer
from training.dataset import feature_columns

# Upper bounds on list sizes per request; ServingConfig.max_customers_per_request may lower ids.
_HARD_MAX_IDS = 10_000
_MAX_EVENTS = 10_000
CustomerIds = Annotated[list[int], Field(min_length=1, max_length=_HARD_MAX_IDS)]


def make_clock(kind: str, store: FeatureStore) -> Callable[[], float]:
    if kind == "wall":
        return time.time
    now = data_now(store).timestamp()
    return lambda: now


@bentoml.service(name="nudge", traffic={"timeout": 30})
class Nudge:
    def __init__(self) -> None:
        self.config = load_config("serving", ServingConfig)
        self.actions = load_config("actions", ActionsConfig)
        paths = runtime_paths()
        self.store = open_store(paths.feature_repo)
        available = feature_columns(self.store, self.config.feature_service)
        for name, action in self.actions.actions.items():
            check_features(name, action, pd.Index(available))
        self.models = ModelHolder(self.config, paths.tracking_uri, available)
        self.models.start()
        reader = OnlineReader(
            self.store, self.config.feature_service, make_clock(self.config.clock, self.store)
        )
        self.scorer = Scorer(reader, self.models, self.actions)

    def __is_ready__(self) -> bool:
        return bool(self.models.current.predictors)

    @bentoml.api(route="/scores")
    def scores(self, customer_ids: CustomerIds) -> ScoresResponse:
        """Every served model's calibrated score with its top SHAP reasons, per customer id;
        unknown or stale ids get an explicit cold-start answer."""
        self._check_size(customer_ids)
        return self.scorer.score(customer_ids)

    @bentoml.api(route="/next-best-action")
    def next_best_action(self, customer_ids: CustomerIds) -> DecisionsResponse:
        """The action with the highest expected incremental profit per customer, or no_action,
        with the reason; unknown or stale ids get no_action and a cold-start reason."""
        self._check_size(customer_ids)
        return self.scorer.next_best_action(customer_ids)

    @bentoml.api(route="/events")
    def events(
        self, events: Annotated[list[BehaviourEvent], Field(min_length=1, max_length=_MAX_EVENTS)]
    ) -> EventsAccepted:
        """Push fresh behaviour (visit, cart_add, order) to the online store's real-time view."""
        frame = pd.DataFrame([event.model_dump() for event in events])
        return EventsAccepted(customers_updated=push_events(self.store, frame))

    def _check_size(self, customer_ids: list[int]) -> None:
        if len(customer_ids) > self.config.max_customers_per_request:
            raise bentoml.exceptions.InvalidArgument(
                f"customer_ids: at most {self.config.max_customers_per_request} per request, "
                f"got {len(customer_ids)}"
            )


# bentoml.service turns the class into a Service; mypy still sees the plain class.
Nudge.add_asgi_middleware(Guard)  # type: ignore[attr-defined]
