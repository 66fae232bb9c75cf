"""Scores for a batch of customers from Feast online features and the champion model."""

from __future__ import annotations

import numpy as np
from feast import FeatureStore

from serving.champion import ChampionModel
from serving.schemas import CustomerScore, ScoresResponse

_PRESENCE_FEATURE = "tenure_days"


class ChurnScorer:
    def __init__(self, store: FeatureStore, champion: ChampionModel, feature_service: str) -> None:
        self.store = store
        self.champion = champion
        self.service = store.get_feature_service(feature_service)

    def score(self, customer_ids: list[int]) -> ScoresResponse:
        rows = [{"customer_id": int(cid)} for cid in customer_ids]
        features = self.store.get_online_features(features=self.service, entity_rows=rows).to_df()
        known = features[_PRESENCE_FEATURE].notna().to_numpy()
        risks = np.full(len(rows), np.nan)
        if known.any():
            risks[known] = self.champion.predict_proba(features.loc[known])
        scores = [
            CustomerScore(
                customer_id=cid,
                known=bool(is_known),
                churn_risk=float(risk) if is_known else None,
                reason="scored by champion model" if is_known else "cold start: no online features",
            )
            for cid, is_known, risk in zip(customer_ids, known, risks, strict=True)
        ]
        return ScoresResponse(model=self.champion.name, model_version=self.champion.version, scores=scores)
