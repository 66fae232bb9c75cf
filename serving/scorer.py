"""Scores for a batch of customers from Feast online features and the champion model."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from features.online import OnlineReader
from serving.champion import ChampionModel
from serving.schemas import CustomerScore, ScoresResponse


class ChurnScorer:
    def __init__(self, reader: OnlineReader, champion: ChampionModel) -> None:
        self.reader = reader
        self.champion = champion

    def score(self, customer_ids: list[int]) -> ScoresResponse:
        vectors = self.reader.read(customer_ids)
        risks = np.full(len(customer_ids), np.nan)
        if vectors.fresh.any():
            risks[vectors.fresh] = self.champion.predict_proba(vectors.features.loc[vectors.fresh])
        scores = [
            CustomerScore(
                customer_id=cid,
                known=bool(fresh),
                churn_risk=float(risk) if fresh else None,
                features_as_of=_iso(as_of),
                reason=_reason(bool(fresh), as_of, self.reader.ttl_s),
            )
            for cid, fresh, risk, as_of in zip(
                customer_ids, vectors.fresh, risks, vectors.as_of_epoch_s, strict=True
            )
        ]
        return ScoresResponse(
            model=self.champion.name,
            model_version=self.champion.version,
            scored_at=datetime.fromtimestamp(self.reader.clock(), UTC).isoformat(),
            scores=scores,
        )


def _iso(epoch_s: float) -> str | None:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat() if epoch_s > 0 else None


def _reason(fresh: bool, as_of: float, ttl_s: float) -> str:
    if fresh:
        return "scored by champion model"
    if as_of <= 0:
        return "cold start: no online features"
    return f"cold start: features older than the {ttl_s / 86400:.0f}-day TTL"
