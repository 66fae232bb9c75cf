"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class CustomerScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int
    known: bool
    churn_risk: float | None
    reason: str


class ScoresResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    model_version: str
    scores: list[CustomerScore]
