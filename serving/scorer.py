"""Scores for a batch of customers from Feast online features and the champion model."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from features.online import OnlineReader
from serving.schemas import CustomerScore, Reason, ScoresResponse
from training.registry import LoadedModel


class ChurnScorer:
    def __init__(self, reader: OnlineReader, champion: LoadedModel) -> None:
        self.reader = reader
        self.champion = champion

    def score(self, customer_ids: list[int]) -> ScoresResponse:
        vectors = self.reader.read(customer_ids)
        risks = np.full(len(customer_ids), np.nan)
        reasons: list[list[Reason]] = [[] for _ in customer_ids]
        if vectors.fresh.any():
            fresh_rows = vectors.features.loc[vectors.fresh]
            risks[vectors.fresh] = self.champion.predict_proba(fresh_rows)
            explained = top_reasons(self.champion.contributions(fresh_rows), self.champion.feature_names)
            for position, row_reasons in zip(np.flatnonzero(vectors.fresh), explained, strict=True):
                reasons[position] = row_reasons
        scores = [
            CustomerScore(
                customer_id=cid,
                known=bool(fresh),
                churn_risk=float(risk) if fresh else None,
                features_as_of=_iso(as_of),
                reason=_reason(bool(fresh), as_of, self.reader.ttl_s),
                top_reasons=why,
            )
            for cid, fresh, risk, as_of, why in zip(
                customer_ids, vectors.fresh, risks, vectors.as_of_epoch_s, reasons, strict=True
            )
        ]
        return ScoresResponse(
            model=self.champion.name,
            model_version=self.champion.version,
            scored_at=datetime.fromtimestamp(self.reader.clock(), UTC).isoformat(),
            scores=scores,
        )


def top_reasons(contributions: np.ndarray, names: list[str], k: int = 3) -> list[list[Reason]]:
    """The k features pushing each score up the most (LightGBM pred_contrib; bias column dropped)."""
    values = contributions[:, :-1]
    order = np.argsort(-values, axis=1)[:, :k]
    return [
        [Reason(feature=names[j], contribution=round(float(row[j]), 4)) for j in picks if row[j] > 0]
        for row, picks in zip(values, order, strict=True)
    ]


def _iso(epoch_s: float) -> str | None:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat() if epoch_s > 0 else None


def _reason(fresh: bool, as_of: float, ttl_s: float) -> str:
    if fresh:
        return "scored by champion model"
    if as_of <= 0:
        return "cold start: no online features"
    return f"cold start: features older than the {ttl_s / 86400:.0f}-day TTL"
