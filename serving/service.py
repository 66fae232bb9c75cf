"""The BentoML service: `bentoml serve serving.service:Nudge`."""

from __future__ import annotations

from typing import Annotated

import bentoml
from pydantic import Field

from configs.loader import load_config
from configs.runtime import runtime_paths
from configs.schema import ServingConfig
from features.store import open_store
from serving.champion import load_champion
from serving.schemas import ScoresResponse
from serving.scorer import ChurnScorer

# Upper bound on ids per request; ServingConfig.max_customers_per_request may lower it.
_HARD_MAX_IDS = 10_000


@bentoml.service(name="nudge", traffic={"timeout": 30})
class Nudge:
    def __init__(self) -> None:
        self.config = load_config("serving", ServingConfig)
        paths = runtime_paths()
        champion = load_champion(paths.tracking_uri, self.config.churn_model, self.config.alias)
        self.scorer = ChurnScorer(open_store(paths.feature_repo), champion, self.config.churn_feature_service)

    @bentoml.api(route="/scores")
    def scores(
        self, customer_ids: Annotated[list[int], Field(min_length=1, max_length=_HARD_MAX_IDS)]
    ) -> ScoresResponse:
        """Churn risk for each customer id; unknown ids get an explicit cold-start answer."""
        if len(customer_ids) > self.config.max_customers_per_request:
            raise bentoml.exceptions.InvalidArgument(
                f"customer_ids: at most {self.config.max_customers_per_request} per request, "
                f"got {len(customer_ids)}"
            )
        return self.scorer.score(customer_ids)
