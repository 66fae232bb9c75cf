"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feature: str
    contribution: float  # SHAP value in log-odds towards the score


class CustomerScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int
    known: bool
    churn_risk: float | None
    features_as_of: str | None
    reason: str
    top_reasons: list[Reason]


class ScoresResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    model_version: str
    scored_at: str
    scores: list[CustomerScore]


class BehaviourEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int
    event_type: Literal["visit", "cart_add", "order"]
    event_timestamp: AwareDatetime


class EventsAccepted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customers_updated: int
