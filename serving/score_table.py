"""Every customer's /scores answer, computed once per model set and materialized snapshot.

The score models read only stored batch views (never the pushed real-time view), whose online values
change only when a snapshot is materialized. Until a model alias moves or a materialization lands,
a customer's scores and reasons are the same on every request: TreeSHAP of three models costs ~3 ms
of a core per customer, a lookup of the encoded answer microseconds.

A table is built when a worker starts and again when its models or the registry's record of the
materialized views change (the service calls `refresh` every `reload_interval_s`, right after
its model check, so a model swap is followed by its table at once): the first worker to need it scores
the newest snapshot's customers and saves the table under a name made of the model versions and
that record; the other workers, and later starts with the same models and features, read the file
(`nudge score-table` builds it in a batch job, so a starting service need not).
Ids not in the current table (new customers, a table still building, models swapped since) and rows
whose features have aged past the TTL are scored live, so no answer comes from other models than
the ones the service holds. After a materialization the previous snapshot's answers (their
`features_as_of` says so) serve until the new table is built: one check interval plus the build,
rather than every request scored live meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from configs.atomic import replacing
from configs.locks import file_lock
from features.store import live_features, materialized_version, snapshot_customers
from serving.models import ModelSet
from serving.schemas import ScoresResponse
from serving.scorer import Scorer

log = logging.getLogger(__name__)

# Customers scored per online read while building: small enough that a request waiting on the same
# connection is not held for long, large enough that TreeSHAP runs on a batch.
_CHUNK = 200
# Part of every saved table's name: a change to how answers are encoded makes old files unread.
_FORMAT = 1


@dataclass(frozen=True)
class ScoreTable:
    models: ModelSet
    features: tuple[str, ...]  # features.store.materialized_version when it was built
    as_of: dict[int, float]  # customer id -> newest feature time of the scored row
    answers: dict[int, bytes]  # customer id -> its CustomerScore as JSON


class ScoreTables:
    """The current ScoreTable of one worker, and the /scores answers read from it."""

    def __init__(
        self,
        scorer: Scorer,
        customers: Callable[[], Sequence[int]],
        features_version: Callable[[], tuple[str, ...]],
        live_features: set[str],
        folder: Path,
    ) -> None:
        """`live_features`: features that change between materializations (features.store);
        `folder`: where tables are saved for the other workers and later starts."""
        self.scorer = scorer
        self.folder = folder
        self.customers = customers
        self.features_version = features_version
        self.live_features = live_features
        self.current: ScoreTable | None = None
        self.last_error: str | None = None

    @classmethod
    def of(cls, scorer: Scorer, feature_service: str, folder: Path) -> ScoreTables:
        """The tables of `scorer`'s models over the customers of its store's newest snapshot."""
        store = scorer.reader.store
        return cls(
            scorer,
            lambda: snapshot_customers(store),
            lambda: materialized_version(store, feature_service),
            live_features(store),
            folder,
        )

    def answer(self, customer_ids: list[int]) -> bytes:
        """The /scores response body, each customer from the table when it holds them."""
        models = self.scorer.models.current
        table = self.current
        rows: dict[int, bytes] = {}
        if table is not None and table.models is models:
            held = [cid for cid in customer_ids if cid in table.answers]
            as_of = np.array([table.as_of[cid] for cid in held], dtype=np.float64)
            fresh = self.scorer.reader.fresh(as_of, self.scorer.reader.clock())
            rows = {cid: table.answers[cid] for cid, ok in zip(held, fresh, strict=True) if ok}
        missing = list(dict.fromkeys(cid for cid in customer_ids if cid not in rows))
        if missing:
            live, _ = self.scorer.answers(missing, models)
            rows.update((a.customer_id, a.model_dump_json().encode()) for a in live)
        empty = ScoresResponse(models=models.versions, scored_at=self.scorer.now_iso(), scores=[])
        head = empty.model_dump_json().encode()
        # `scores` is the response's last field: its "[]}" ending takes the encoded answers.
        return head[:-2] + b",".join(rows[cid] for cid in customer_ids) + b"]}"

    def refresh(self) -> bool:
        """`update`, logging a failure instead of raising it: requests the table cannot answer are
        scored live."""
        try:
            updated = self.update()
        except Exception as err:
            self.last_error = f"{type(err).__name__}: {err}"
            log.exception("score table build failed; /scores runs live")
            return False
        self.last_error = None
        return updated

    def update(self) -> bool:
        """Read or build the table of the current models and materialized features when those
        changed; True if the current table is a new one."""
        models, features = self.scorer.models.current, self.features_version()
        table = self.current
        if table is not None and table.models is models and table.features == features:
            return False
        self.current = self._load_or_build(models, features)
        return True

    def _load_or_build(self, models: ModelSet, features: tuple[str, ...]) -> ScoreTable:
        key = {
            "format": _FORMAT,
            "scores": {score: f"{m.name}@{m.version}" for score, m in models.predictors.items()},
            "features": features,
        }
        name = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
        path = self.folder / f"{name}.parquet"
        self.folder.mkdir(parents=True, exist_ok=True)
        # One worker builds while the others wait for its file instead of doing the same work.
        with file_lock(self.folder / f"{name}.lock"):
            if path.exists():
                return _read(path, models, features)
            table = self._build(models, features)
            self._save(table, path)
        return table

    def _save(self, table: ScoreTable, path: Path) -> None:
        ids = list(table.answers)
        columns = {
            "customer_id": pa.array(ids, pa.int64()),
            "as_of": pa.array([table.as_of[i] for i in ids], pa.float64()),
            "answer": pa.array([table.answers[i] for i in ids], pa.binary()),
        }
        with replacing(path) as staged:  # readers see the whole file or none
            pq.write_table(pa.table(columns), staged)
        for old in self.folder.glob("*.parquet"):  # tables of earlier models or features
            if old != path:
                old.unlink(missing_ok=True)
                old.with_suffix(".lock").unlink(missing_ok=True)

    def _build(self, models: ModelSet, features: tuple[str, ...]) -> ScoreTable:
        live = sorted({n for m in models.predictors.values() for n in m.feature_names} & self.live_features)
        if live:
            raise ValueError(f"score models read features that change between materializations: {live}")
        started = time.perf_counter()
        ids = list(self.customers())
        as_of: dict[int, float] = {}
        answers: dict[int, bytes] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            scored, vectors = self.scorer.answers(chunk, models)
            for answer, fresh, seconds in zip(scored, vectors.fresh, vectors.as_of_epoch_s, strict=True):
                if fresh:  # the others are cold starts, cheap to answer live
                    as_of[answer.customer_id] = float(seconds)
                    answers[answer.customer_id] = answer.model_dump_json().encode()
        seconds = time.perf_counter() - started
        log.info("score table: %d of %d customers scored in %.1fs", len(answers), len(ids), seconds)
        return ScoreTable(models, features, as_of, answers)


def _read(path: Path, models: ModelSet, features: tuple[str, ...]) -> ScoreTable:
    stored = pq.read_table(path).to_pydict()
    ids = stored["customer_id"]
    log.info("score table: %d customers read from %s", len(ids), path)
    as_of = dict(zip(ids, stored["as_of"], strict=True))
    return ScoreTable(models, features, as_of, dict(zip(ids, stored["answer"], strict=True)))
