"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feature: str
    contribution: float  # SHAP value in log-odds towards the score


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

    customer_id: int
    event_type: Literal["visit", "cart_add", "order"]
    event_timestamp: AwareDatetime


class EventsAccepted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customers_updated: int


class AudienceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str
    size: int | None = Field(None, ge=1)
    budget: float | None = Field(None, gt=0)
    holdout_share: float = Field(0.1, gt=0, lt=1)
    campaign_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,80}$")
