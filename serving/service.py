"""The BentoML service: `bentoml serve serving.service:Nudge`.

Routes: POST /scores, /next-best-action, /events, /audiences; GET /marketer (the marketer page),
/campaigns/actions, /campaigns/results, /campaigns/{id}/audience.csv (campaigns.page); BentoML adds
/healthz, /livez, /readyz (ready once the models are loaded), /metrics (Prometheus) and
/docs.json (OpenAPI of every route, the mounted ones included).

`bentoml serve` alone runs one worker; `nudge serve` (serving.launcher) runs ServingConfig.workers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import bentoml
import pandas as pd
from pydantic import BaseModel
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError
from starlette.responses import Response

from campaigns.launch import campaigns_root
from campaigns.page import campaign_app, marketer_app
from campaigns.planner import AudienceOrder, AudiencePlanner
from configs.loader import load_config
from configs.runtime import runtime_paths
from configs.schema import ActionsConfig, ServingConfig
from features.realtime import push_events
from serving.guard import Guard
from serving.probes import WorkerTag
from serving.schemas import (
    AudienceRequest,
    AudienceResponse,
    BehaviourEvent,
    CurvePoint,
    CustomerIdsRequest,
    DecisionsResponse,
    EventsAccepted,
    EventsRequest,
    ScoresResponse,
)
from serving.score_table import ScoreTables
from serving.scorer import open_scorer
from serving.traffic import cancel_request_timers
from training.uplift.bundle import UpliftBundle

log = logging.getLogger(__name__)

# On the wall clock, how far ahead of the service an event may be stamped (clocks drift): a later
# one would read as fresher than every real event until its time comes.
EVENT_CLOCK_SKEW = timedelta(minutes=5)


@bentoml.service(name="nudge", traffic={"timeout": 30})
class Nudge:
    def __init__(self) -> None:
        # BentoML's worker logging passes only warnings from other packages; the service's own
        # news (model swaps, score table builds) is logged at bentoml's level, INFO unless quiet.
        logging.getLogger("serving").setLevel(logging.getLogger("bentoml").getEffectiveLevel())
        self.config = load_config("serving", ServingConfig)
        self.actions = load_config("actions", ActionsConfig)
        paths = runtime_paths()
        self.scorer = open_scorer(self.config, paths, self.actions)
        self.store, self.models = self.scorer.reader.store, self.scorer.models
        self.score_tables = ScoreTables.of(self.scorer, self.config.feature_service, paths.score_tables)
        self.audience_planner = AudiencePlanner(
            self.store,
            self.config.feature_service,
            self.actions,
            self._uplift,
            paths.raw,
            campaigns_root(paths),
        )
        self.settled = threading.Event()  # the first score table is built (or failed, or off)
        threading.Thread(target=self._keep_current, name="reload", daemon=True).start()

    def __is_ready__(self) -> bool:
        return bool(self.models.current.predictors) and self.settled.is_set()

    def _keep_current(self) -> None:
        """Build the first score table and read the audience population (so the first audience
        request is fast too), then every `reload_interval_s` swap in the models whose alias moved
        and rebuild the table a swap or a materialization outdated. One loop for both: the table
        of new models is built at once, not up to an interval after the swap."""
        if self.config.score_table:
            self.score_tables.refresh()
        self.settled.set()
        # After the table, not beside it: both take every core, and readiness waits for the table.
        # Its own thread: model checks must not wait for it.
        threading.Thread(target=self._warm_population, name="population", daemon=True).start()
        while self.config.reload_interval_s > 0:
            time.sleep(self.config.reload_interval_s)
            self.models.refresh()
            if self.config.score_table:
                self.score_tables.refresh()

    @bentoml.api(route="/scores", input_spec=CustomerIdsRequest, output_spec=ScoresResponse)
    def scores(self, customer_ids: list[int]) -> Response:
        """Every served model's calibrated score with its top SHAP reasons, per customer id;
        unknown or stale ids get an explicit cold-start answer."""
        self._check_size(customer_ids)
        # Answers are kept encoded (serving.score_table): the body goes out as it is.
        return Response(self.score_tables.answer(customer_ids), media_type="application/json")

    @bentoml.api(route="/next-best-action", input_spec=CustomerIdsRequest)
    def next_best_action(self, customer_ids: list[int]) -> DecisionsResponse:
        """The action with the highest expected incremental profit per customer, or no_action,
        with the reason; unknown or stale ids get no_action and a cold-start reason."""
        self._check_size(customer_ids)
        return self.scorer.next_best_action(customer_ids)

    @bentoml.api(route="/events", input_spec=EventsRequest)
    def events(self, events: list[BehaviourEvent]) -> EventsAccepted:
        """Push fresh behaviour (visit, cart_add, order) to the online store's real-time view."""
        # The data clock's now is the last feature snapshot: simulated and imported events follow it.
        if self.config.clock == "wall":
            check_not_ahead(events, datetime.fromtimestamp(self.scorer.reader.clock(), UTC))
        frame = pd.DataFrame([event.model_dump() for event in events])
        return EventsAccepted(customers_updated=push_events(self.store, frame))

    @bentoml.api(route="/audiences", input_spec=AudienceRequest)
    def audiences(
        self,
        action: str,
        size: int | None,
        budget: float | None,
        holdout_share: float,
        campaign_id: str | None,
        window_days: int,
        preview: bool,
    ) -> AudienceResponse:
        """An audience for one action by predicted uplift under a size or a budget, with a randomized
        holdout: expected incremental conversions, revenue, cost, profit, ROI, the minimum detectable
        effect and the predicted uplift curve. Unless `preview`, the launch is recorded and the
        audience can be downloaded from `download`."""
        order = AudienceOrder(action, size, budget, holdout_share, campaign_id)
        try:
            if preview:
                audience, launched = self.audience_planner.plan(order), False
            else:
                audience, _ = self.audience_planner.launch(order, window_days)
                launched = True
        except ValueError as err:  # the message names the action, limit or campaign id at fault
            raise invalid_argument(AudienceRequest, (), str(err)) from None
        campaign = audience.summary.campaign_id
        return AudienceResponse(
            summary=audience.summary,
            curve=[CurvePoint.model_validate(point) for point in audience.curve.to_dict("records")],
            launched=launched,
            download=f"/campaigns/{campaign}/audience.csv" if launched else None,
            model_version=self._uplift()[1],
        )

    def action_catalogue(self) -> list[dict[str, Any]]:
        """What the marketer page offers: every configured action, and whether it has an uplift model."""
        modelled = self.models.current.uplift.actions
        return [
            {
                "name": name,
                "description": spec.description,
                "channel": spec.channel,
                "modelled": name in modelled,
            }
            for name, spec in self.actions.actions.items()
        ]

    def _uplift(self) -> tuple[UpliftBundle, str]:
        models = self.models.current
        return models.uplift, models.versions[self.config.uplift_model]

    def _warm_population(self) -> None:
        try:
            self.audience_planner.predictions()
        except Exception:  # an audience request will report it
            log.exception("could not read the population for audiences")

    def _check_size(self, customer_ids: list[int]) -> None:
        if len(customer_ids) > self.config.max_customers_per_request:
            raise invalid_argument(
                CustomerIdsRequest,
                ("customer_ids",),
                f"at most {self.config.max_customers_per_request} per request, got {len(customer_ids)}",
            )


def invalid_argument(request: type[BaseModel], loc: tuple[str | int, ...], message: str) -> ValidationError:
    """A 400 with the body of a failed validation, {"error", "detail": [{"type", "loc", "msg"}]}:
    the checks a schema cannot make answer in the same shape as the ones it makes. (BentoML renders
    its own InvalidArgument as a one-item list.)"""
    error = PydanticCustomError("invalid_argument", message)  # no context: braces stay as they are
    details = [InitErrorDetails(type=error, loc=loc, input=None)]
    return ValidationError.from_exception_data(request.__name__, details)


def check_not_ahead(events: Sequence[BehaviourEvent], now: datetime) -> None:
    """Refuse the request if any event is stamped more than EVENT_CLOCK_SKEW after `now`."""
    latest = now + EVENT_CLOCK_SKEW
    for i, event in enumerate(events):
        if event.event_timestamp > latest:
            raise invalid_argument(
                EventsRequest,
                ("events", i, "event_timestamp"),
                f"{event.event_timestamp.isoformat()} is more than {EVENT_CLOCK_SKEW} after the "
                f"service clock ({now.isoformat()})",
            )


def _catalogue() -> list[dict[str, Any]]:
    """The marketer page's actions, from the service instance serving this worker."""
    service = bentoml.get_current_service()
    catalogue: list[dict[str, Any]] = service.action_catalogue()
    return catalogue


# BentoML's request timeout holds each request's objects for the whole timeout (serving.traffic).
cancel_request_timers()
# bentoml.service turns the class into a Service; mypy still sees the plain class.
Nudge.add_asgi_middleware(Guard)  # type: ignore[attr-defined]
Nudge.add_asgi_middleware(WorkerTag)  # type: ignore[attr-defined]
_service: Any = Nudge
_service.mount_asgi_app(marketer_app(), path="/marketer", name="marketer")
_service.mount_asgi_app(campaign_app(_catalogue), path="/campaigns", name="campaigns")
