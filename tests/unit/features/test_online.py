"""OnlineReader returns exactly what Feast's get_online_features returns, typed, with freshness."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from feast import FeatureStore
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.protos.feast.types.Value_pb2 import Value

from configs.schema import FeaturesConfig
from features.catalog import STRING_FEATURES, VIEWS
from features.definitions import CUSTOMER_KEY, REQUEST_TIME
from features.online import OnlineReader
from features.online_rows import FeastCells, StoredCells, decode, entity_key, key_encoder
from features.realtime import push_events
from features.store import apply_repository, materialize_latest
from tests.unit.features.snapshots import snapshot, write_snapshots

NOW = pd.Timestamp("2025-03-01", tz="UTC")
CUSTOMERS = np.arange(1, 9)
STALE, PUSHED_ONLY, UNKNOWN = 99, 98, -5


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> FeatureStore:
    """A real SQLite store: two snapshots, nulls, a stale customer and one with pushed events only."""
    root = tmp_path_factory.mktemp("online")
    rng = np.random.default_rng(3)
    write_snapshots(root, CUSTOMERS, [NOW - pd.Timedelta(days=days) for days in (7, 0)], rng)
    config = FeaturesConfig(project="nudge_online_test")
    store = apply_repository(config, root, root / "repo")
    materialize_latest(config, root / "repo", progress=False)
    old = snapshot(VIEWS[0], CUSTOMERS, NOW - pd.Timedelta(days=400), rng).head(1)
    store.write_to_online_store(VIEWS[0].name, old.assign(**{CUSTOMER_KEY: STALE}))
    event = {CUSTOMER_KEY: [PUSHED_ONLY], "event_type": ["order"], "event_timestamp": [NOW]}
    push_events(store, pd.DataFrame(event))
    return store


def _feast(store: FeatureStore, service: str, ids: list[int]) -> dict[str, list[Any]]:
    rows = [{CUSTOMER_KEY: i, REQUEST_TIME: NOW.timestamp()} for i in ids]
    return store.get_online_features(features=store.get_feature_service(service), entity_rows=rows).to_dict(
        include_event_timestamps=True
    )


def _same(feast: Any, ours: Any) -> bool:
    if feast is None:  # Feast's null: NaN in a float column, None in any other
        return ours is None or (isinstance(ours, float) and math.isnan(ours))
    return type(feast) is type(ours) and feast == ours


IDS = [*CUSTOMERS.tolist()[::-1], UNKNOWN, STALE, PUSHED_ONLY, 3, 3]


@pytest.mark.integration
@pytest.mark.parametrize("service", ["uplift_v1", "churn_v1", "realtime_v1"])
def test_reader_returns_what_feast_returns(store: FeatureStore, service: str) -> None:
    vectors = OnlineReader(store, service, lambda: NOW.timestamp()).read(IDS)
    feast = _feast(store, service, IDS)

    returned = [name for name in feast if not name.endswith("__ts")]
    assert sorted(vectors.features.columns) == sorted(returned)
    for name in returned:
        ours = vectors.features[name].tolist()
        assert all(map(_same, feast[name], ours)), (name, feast[name], ours)
    stamps = [name for name in feast if name.endswith("__ts") and name != f"{CUSTOMER_KEY}__ts"]
    np.testing.assert_array_equal(vectors.as_of_epoch_s, np.max([feast[s] for s in stamps], axis=0))


@pytest.mark.integration
def test_reader_types_columns_as_the_schema_and_marks_freshness(store: FeatureStore) -> None:
    reader = OnlineReader(store, "uplift_v1", lambda: NOW.timestamp())
    vectors = reader.read(IDS)

    frame = vectors.features
    assert frame[CUSTOMER_KEY].tolist() == IDS
    assert all(frame[name].dtype == object for name in STRING_FEATURES)
    assert frame.drop(columns=[CUSTOMER_KEY, *STRING_FEATURES]).dtypes.eq(np.float64).all()
    assert frame.loc[frame[CUSTOMER_KEY] == UNKNOWN].drop(columns=CUSTOMER_KEY).isna().all(axis=None)
    fresh = dict(zip(IDS, vectors.fresh, strict=True))
    assert all(fresh[i] for i in CUSTOMERS)
    assert not fresh[UNKNOWN] and not fresh[STALE]  # nothing stored; stored 400 days ago (TTL 120)
    assert not fresh[PUSHED_ONLY]  # uplift_v1 has no real-time view: nothing of it is stored
    assert vectors.as_of_epoch_s[IDS.index(UNKNOWN)] == 0
    assert vectors.as_of_epoch_s[0] == NOW.timestamp()
    assert reader.ttl_s == 120 * 86400

    empty = reader.read([])
    assert len(empty.features) == 0 and list(empty.features.columns) == list(frame.columns)


@pytest.mark.integration
def test_reader_sizes_sqlites_page_cache_and_reads_the_same(store: FeatureStore) -> None:
    plain = OnlineReader(store, "uplift_v1", lambda: NOW.timestamp()).read(IDS).features
    cached = OnlineReader(store, "uplift_v1", lambda: NOW.timestamp(), cache_mib=8)

    connection = store._get_provider().online_store._get_conn(store.config)
    assert connection.execute("PRAGMA cache_size").fetchone() == (-8192,)  # KiB
    pd.testing.assert_frame_equal(cached.read(IDS).features, plain)


@pytest.mark.integration
def test_generic_online_read_path_decodes_like_the_fast_path(store: FeatureStore) -> None:
    reader = OnlineReader(store, "realtime_v1", lambda: NOW.timestamp())
    fast = reader._cells.fetch(IDS)
    generic = FeastCells(store, CUSTOMER_KEY, reader._layout.views).fetch(IDS)

    numeric = [True] * len(reader._layout.fields)
    np.testing.assert_array_equal(decode(fast, len(IDS), numeric)[0], decode(generic, len(IDS), numeric)[0])
    np.testing.assert_array_equal(fast.seconds, generic.seconds)


def test_key_encoder_matches_feast() -> None:
    ids = [0, 1, UNKNOWN, 2**40 + 3, -(2**63), 2**63 - 1]
    expected = [serialize_entity_key(entity_key(CUSTOMER_KEY, i), 3) for i in ids]
    assert key_encoder(CUSTOMER_KEY, 3)(ids) == expected
    assert key_encoder(CUSTOMER_KEY, 3, b"proj")(ids) == [key + b"proj" for key in expected]


def test_decode_reads_doubles_in_bulk_and_anything_else_like_feast() -> None:
    def value(**kind: Any) -> bytes:
        return Value(**kind).SerializeToString()

    values = [  # row by row: a numeric column, a string column
        *(value(double_val=1.5), value(string_val="north")),
        *(b"", b""),  # nulls, as Feast writes them
        *(None, value(string_val="north")),  # None: a field missing from a Redis hash
        *(value(int64_val=7), value(string_val="south")),  # not the schema's type: still a number
    ]
    stored = StoredCells(None, values, np.zeros((4, 0)))

    grid, objects = decode(stored, rows=4, numeric=[True, False])

    np.testing.assert_array_equal(grid[:, 0], [1.5, np.nan, np.nan, 7.0])
    assert objects == {1: ["north", None, "north", "south"]}


def test_decode_scatters_values_to_their_cells() -> None:
    values = [Value(double_val=float(v)).SerializeToString() for v in (10, 20, 30)]
    stored = StoredCells(np.array([5, 0, 2]), values, np.zeros((3, 1)))

    grid, objects = decode(stored, rows=3, numeric=[True, True])

    np.testing.assert_array_equal(grid, [[20, np.nan], [30, np.nan], [np.nan, 10]])
    assert objects == {}


def test_reader_rejects_services_it_cannot_compute() -> None:
    from features.online import _supported

    class Aggregating:
        name, mode, write_to_online_store, aggregations = "agg", "pandas", False, ["sum"]

    with pytest.raises(ValueError, match="aggregations=True"):
        _supported(Aggregating())  # type: ignore[arg-type]
