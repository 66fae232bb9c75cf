"""Scores and next-best-action decisions for a batch of customers: one Feast online read, the
current models, and the shared decision rule; unknown or stale customers get a cold-start answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from feast import FeatureStore

from configs.runtime import RuntimePaths
from configs.schema import ActionsConfig, ServingConfig
from decisions.eligibility import check_features
from decisions.policy import Estimates, decide, eligible_actions
from features.online import OnlineReader, OnlineVectors
from features.store import data_now, open_store
from serving.models import ModelHolder, ModelSet
from serving.schemas import CustomerScore, Decision, DecisionsResponse, Reason, ScoresResponse
from training.dataset import feature_columns


def make_clock(kind: str, store: FeatureStore) -> Callable[[], float]:
    if kind == "wall":
        return time.time
    now = data_now(store).timestamp()
    return lambda: now


def open_scorer(
    config: ServingConfig,
    paths: RuntimePaths,
    actions: ActionsConfig,
    clock: Callable[[], float] | None = None,
) -> Scorer:
    """The champions of `config` over the Feast store of `paths`, checked against what the
    feature service provides: what the service and the batch score-table build answer with."""
    store = open_store(paths.feature_repo)
    available = feature_columns(store, config.feature_service)
    for name, action in actions.actions.items():
        check_features(name, action, pd.Index(available))
    models = ModelHolder(config, paths.tracking_uri, available)
    reader = OnlineReader(
        store, config.feature_service, clock or make_clock(config.clock, store), config.online_cache_mib
    )
    return Scorer(reader, models, actions)


class Scorer:
    def __init__(self, reader: OnlineReader, models: ModelHolder, actions: ActionsConfig) -> None:
        self.reader = reader
        self.models = models
        self.actions = actions

    def score(self, customer_ids: list[int]) -> ScoresResponse:
        models = self.models.current  # one set for the whole request, even if a reload lands
        answers, _ = self.answers(customer_ids, models)
        return ScoresResponse(models=models.versions, scored_at=self.now_iso(), scores=answers)

    def answers(self, customer_ids: list[int], models: ModelSet) -> tuple[list[CustomerScore], OnlineVectors]:
        """Each customer's scores by `models`, and the online vectors they came from."""
        vectors = self.reader.read(customer_ids)
        rows = np.flatnonzero(vectors.fresh)
        fresh = vectors.features.iloc[rows]
        scores: list[dict[str, float]] = [{} for _ in customer_ids]
        reasons: list[dict[str, list[Reason]]] = [{} for _ in customer_ids]
        if len(rows):
            for name, model in models.predictors.items():
                probabilities, contributions = model.explain(fresh)
                explained = top_reasons(contributions, model.feature_names)
                for position, p, why in zip(rows, probabilities, explained, strict=True):
                    scores[position][name] = round(float(p), 6)
                    reasons[position][name] = why
        answers = [
            CustomerScore(
                customer_id=cid,
                known=bool(vectors.fresh[i]),
                scores=scores[i],
                top_reasons=reasons[i],
                features_as_of=_iso(vectors.as_of_epoch_s[i]),
                reason=self._status(vectors, i, "scored by the champion models"),
            )
            for i, cid in enumerate(customer_ids)
        ]
        return answers, vectors

    def next_best_action(self, customer_ids: list[int]) -> DecisionsResponse:
        models = self.models.current
        vectors = self.reader.read(customer_ids)
        rows = np.flatnonzero(vectors.fresh)
        decisions: list[Decision | None] = [None] * len(customer_ids)
        if len(rows):
            fresh = vectors.rows.take(rows)
            names = list(models.uplift.actions)
            # Most customers may get no action at a given time: their models need not run.
            may_get = np.flatnonzero(eligible_actions(fresh, self.actions, names).any(axis=0))
            predicted = models.uplift.predict(fresh, [names[j] for j in may_get])
            unread = np.full(len(rows), np.nan)
            estimates = Estimates(
                {a: predicted[a][0] if a in predicted else unread for a in names},
                {a: predicted[a][1] if a in predicted else unread for a in names},
            )
            chosen = decide(fresh, estimates, self.actions, names)
            for j, i in enumerate(rows):
                action = str(chosen.action[j])
                spec = self.actions.actions.get(action)
                decisions[i] = Decision(
                    customer_id=customer_ids[i],
                    known=True,
                    action=action,
                    channel=spec.channel if spec else None,
                    expected_incremental_profit=round(float(chosen.profit[j]), 4),
                    uplift=round(float(chosen.uplift[j]), 6),
                    reason=chosen.reason[j],
                    features_as_of=_iso(vectors.as_of_epoch_s[i]),
                )
        return DecisionsResponse(
            models=models.versions,
            decided_at=self.now_iso(),
            decisions=[
                d or self._cold_decision(customer_ids[i], vectors, i) for i, d in enumerate(decisions)
            ],
        )

    def _cold_decision(self, customer_id: int, vectors: OnlineVectors, i: int) -> Decision:
        return Decision(
            customer_id=customer_id,
            known=False,
            action="no_action",
            channel=None,
            expected_incremental_profit=0.0,
            uplift=0.0,
            reason=self._status(vectors, i, ""),
            features_as_of=_iso(vectors.as_of_epoch_s[i]),
        )

    def _status(self, vectors: OnlineVectors, i: int, fresh_text: str) -> str:
        if vectors.fresh[i]:
            return fresh_text
        if vectors.as_of_epoch_s[i] <= 0:
            return "cold start: no online features"
        return f"cold start: features older than the {self.reader.ttl_s / 86400:.0f}-day TTL"

    def now_iso(self) -> str:
        return datetime.fromtimestamp(self.reader.clock(), UTC).isoformat()


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
