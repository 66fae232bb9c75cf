"""The real-time view keeps every field at its newest time, whatever order or process events come from.

Each case runs on a real SQLite store and on a real Redis server (scripts/redis.sh).
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feast import FeatureStore

from configs.schema import FeaturesConfig
from features.catalog import REALTIME
from features.definitions import CUSTOMER_KEY
from features.realtime import EPOCH, push_events, stored_rows
from features.store import apply_repository, materialize_latest, open_store
from tests.redis_server import drop_project, start_redis
from tests.unit.features.snapshots import write_snapshots

pytestmark = pytest.mark.integration

NOW = pd.Timestamp("2025-03-01", tz="UTC")
CUSTOMERS = np.arange(1, 9)


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeatureStore]:
    """A materialized snapshot of CUSTOMERS at NOW; each test pushes for customers of its own."""
    if request.param == "redis":
        start_redis()
    root = tmp_path_factory.mktemp(f"realtime_{request.param}")
    write_snapshots(root, CUSTOMERS, [NOW], np.random.default_rng(4))
    config = FeaturesConfig(online_store=request.param, project=f"nudge_rt_{uuid.uuid4().hex[:8]}")
    store = apply_repository(config, root, root / "repo")
    materialize_latest(config, root / "repo", progress=False)
    yield store
    if request.param == "redis":
        drop_project(store)


def _push(store: FeatureStore, customers: list[int], event_type: str, at: pd.Timestamp) -> None:
    events = {CUSTOMER_KEY: customers, "event_type": event_type, "event_timestamp": at}
    push_events(store, pd.DataFrame(events))


def _s(at: pd.Timestamp) -> float:
    return (at - EPOCH).total_seconds()


def test_each_field_keeps_its_newest_event_whatever_order_pushes_come_in(store: FeatureStore) -> None:
    customer, at = [101], NOW + pd.Timedelta(hours=10)
    _push(store, customer, "visit", at)
    _push(store, customer, "order", at)  # the order of that visit, pushed on its own, same second
    _push(store, customer, "visit", at + pd.Timedelta(minutes=5))
    _push(store, customer, "order", at + pd.Timedelta(minutes=2))  # late: arrives after a newer visit
    _push(store, customer, "visit", at - pd.Timedelta(hours=1))  # older than what is stored

    fields, as_of = stored_rows(store, customer)
    assert fields.loc[101, "last_visit_epoch_s"] == _s(at + pd.Timedelta(minutes=5))
    assert fields.loc[101, "last_order_epoch_s"] == _s(at + pd.Timedelta(minutes=2))
    assert np.isnan(fields.loc[101, "last_cart_add_epoch_s"])
    assert as_of.loc[101] == _s(at + pd.Timedelta(minutes=5))  # the row's time never moved back


def test_one_push_takes_the_newest_event_per_customer_and_field(store: FeatureStore) -> None:
    events = pd.DataFrame(
        {
            CUSTOMER_KEY: [102, 102, 102, 103],
            "event_type": ["cart_add", "cart_add", "visit", "order"],
            "event_timestamp": [NOW + pd.Timedelta(hours=h) for h in (3, 1, 2, 4)],
        }
    )
    assert push_events(store, events) == 2

    fields, as_of = stored_rows(store, [102, 103])
    assert fields.loc[102, "last_cart_add_epoch_s"] == _s(NOW + pd.Timedelta(hours=3))
    assert fields.loc[102, "last_visit_epoch_s"] == _s(NOW + pd.Timedelta(hours=2))
    assert fields.loc[103, "last_order_epoch_s"] == _s(NOW + pd.Timedelta(hours=4))
    assert np.isnan(fields.loc[103, "last_visit_epoch_s"])
    assert as_of.tolist() == [_s(NOW + pd.Timedelta(hours=3)), _s(NOW + pd.Timedelta(hours=4))]


def test_materializing_again_keeps_events_pushed_after_the_snapshot(store: FeatureStore) -> None:
    snapshot_fields, _ = stored_rows(store, [2])
    later = NOW + pd.Timedelta(hours=6)
    _push(store, [2], "order", later)

    config = FeaturesConfig(online_store=store.config.online_store.type, project=store.project)
    materialize_latest(config, Path(store.repo_path), progress=False)

    fields, as_of = stored_rows(store, [2])
    assert fields.loc[2, "last_order_epoch_s"] == _s(later)
    others = ["last_visit_epoch_s", "last_cart_add_epoch_s"]
    pd.testing.assert_series_equal(fields.loc[2, others], snapshot_fields.loc[2, others])
    assert as_of.loc[2] == _s(later)


ROUNDS = 15
RACING = [201, 202, 203, 204]


def _push_rounds(repo: str, event_type: str) -> None:
    store = open_store(Path(repo))
    for minute in range(ROUNDS):
        _push(store, RACING, event_type, NOW + pd.Timedelta(days=1, minutes=minute))


def test_workers_pushing_at_once_lose_no_event(store: FeatureStore) -> None:
    """Three processes each push one event type for the same customers, round after round: each
    push reads the row and writes it back whole, so without the lock they erase each other's."""
    fork = multiprocessing.get_context("fork")
    workers = [
        fork.Process(target=_push_rounds, args=(store.repo_path, event_type))
        for event_type in ("visit", "cart_add", "order")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
        assert worker.exitcode == 0

    fields, _ = stored_rows(store, RACING)
    last = _s(NOW + pd.Timedelta(days=1, minutes=ROUNDS - 1))
    assert (fields[list(REALTIME.features)] == last).all().all(), fields
