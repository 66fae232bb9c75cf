"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from campaigns.audience import AudienceSummary

# Customer ids are the online store's int64 entity keys: a JSON number outside int64 cannot be looked
# up, and `true` or `1.0` are not ids. Negative ids are valid requests; they get a cold-start answer.
CustomerId = Annotated[int, Field(strict=True, ge=-(2**63), le=2**63 - 1)]
# Hard cap per request; ServingConfig.max_customers_per_request may lower it.
MAX_CUSTOMER_IDS = 10_000
# Event times become epoch seconds in the online store by way of pandas' nanosecond timestamps
# (which end in April 2262): earlier than the epoch or past 2261 is not a behaviour event.
EARLIEST_EVENT = datetime(1970, 1, 1, tzinfo=UTC)
EVENTS_BEFORE = datetime(2262, 1, 1, tzinfo=UTC)
MAX_EVENTS = 10_000


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feature: str
    contribution: float  # SHAP value in log-odds towards the score


class CustomerIdsRequest(BaseModel):
    """POST /scores and /next-best-action."""

    model_config = ConfigDict(extra="forbid")

    customer_ids: list[CustomerId] = Field(min_length=1, max_length=MAX_CUSTOMER_IDS)


class CustomerScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int
    known: bool
    # Calibrated probability per served model (churn, conversion, vip); empty on cold start.
    scores: dict[str, float]
    top_reasons: dict[str, list[Reason]]
    features_as_of: str | None
    reason: str


class ScoresResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: dict[str, str]  # registered model -> version
    scored_at: str
    scores: list[CustomerScore]


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int
    known: bool
    action: str  # an action of configs/actions.yaml, or "no_action"
    channel: str | None
    expected_incremental_profit: float
    uplift: float
    reason: str
    features_as_of: str | None


class DecisionsResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: dict[str, str]
    decided_at: str
    decisions: list[Decision]


class BehaviourEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: CustomerId
    event_type: Literal["visit", "cart_add", "order"]
    event_timestamp: AwareDatetime = Field(ge=EARLIEST_EVENT, lt=EVENTS_BEFORE)


class EventsRequest(BaseModel):
    """POST /events."""

    model_config = ConfigDict(extra="forbid")

    events: list[BehaviourEvent] = Field(min_length=1, max_length=MAX_EVENTS)


class EventsAccepted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customers_updated: int


class AudienceRequest(BaseModel):
    """POST /audiences: one action, exactly one of size or budget; preview records nothing."""

    # JSON parsers read 1e999 as infinity and NaN as a number; neither is a budget or a share.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    action: str
    size: int | None = Field(None, ge=1, description="Audience size, holdout included.")
    budget: float | None = Field(None, gt=0, description="Spend budget: contacts plus coupons.")
    holdout_share: float = Field(0.1, gt=0, lt=1)
    campaign_id: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
    window_days: int = Field(14, ge=1, le=365, description="Days the campaign's outcome counts.")
    preview: bool = Field(False, description="Only compute the summary; launch nothing, no download.")

    @model_validator(mode="after")
    def _one_limit(self) -> AudienceRequest:
        if (self.size is None) == (self.budget is None):
            raise ValueError("give exactly one of size or budget")
        return self


class CurvePoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int  # the top `size` of the eligible ranking
    incremental_conversions: float  # expected, from its treated arm
    profit: float
    cost: float


class AudienceResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: AudienceSummary
    curve: list[CurvePoint]
    launched: bool
    download: str | None  # path of the audience CSV on this service, when launched
    model_version: str
