"""Stored feature values of many customers from Feast's online store, fetched and decoded in bulk.

Feast's `get_online_features` parses every value into a ValueProto, turns every row's timestamp into a
datetime and back, and builds a response proto before the caller sees a number: at 100 customers that is
most of its time. Here each online store is read as Feast lays it out, with Feast's own connection or
client, table names, hash fields and entity-key encoding, and the ValueProto bytes are decoded in one
numpy pass: a double is always 9 bytes, the tag 0x29 then the little-endian float. Any other value goes
through Feast's own ValueProto conversion. Online stores without a fast path use their `online_read`.
"""

from __future__ import annotations

import itertools
import operator
import sqlite3
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
from feast import FeatureStore, FeatureView
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import _mmh3
from feast.infra.online_stores.redis import RedisClient, RedisOnlineStore, _versioned_fv_name
from feast.infra.online_stores.sqlite import SqliteOnlineStore, _table_id
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.protos.feast.types.Value_pb2 import Value as ValueProto
from feast.type_map import feast_value_type_to_python_type
from google.protobuf.timestamp_pb2 import Timestamp

_DOUBLE = np.dtype([("tag", "u1"), ("value", "<f8")])
_DOUBLE_TAG = 0x29  # field 5 (double_val), wire type 1 (64-bit)
_NULL = bytes([_DOUBLE_TAG]) + np.float64(np.nan).tobytes()  # stands in for a null while decoding
# Kinds Feast's to-python conversion hands back as they are; others (timestamps, lists...) go through it.
_PLAIN = frozenset(
    {"string_val", "double_val", "float_val", "int64_val", "int32_val", "bool_val", "bytes_val"}
)


@dataclass(frozen=True)
class ViewFields:
    view: FeatureView
    names: tuple[str, ...]  # the features read from this view
    columns: tuple[int, ...]  # the column of each among all the features read


@dataclass(frozen=True)
class StoredCells:
    """Values of a (rows x columns) grid of features; a cell with no value is null."""

    cells: np.ndarray | None  # row * columns + column of each value; None: every cell, row by row
    values: Sequence[bytes | None]  # serialized ValueProtos; None or b"" is null
    seconds: np.ndarray  # (rows, views) event time of each row's values per view, Unix s; 0 = none


class CellReader(Protocol):
    def fetch(self, ids: Sequence[int]) -> StoredCells: ...


def cell_reader(
    store: FeatureStore,
    join_key: str,
    views: list[ViewFields],
    hash_fields: int,
    cache_mib: int | None = None,
) -> CellReader:
    """The fastest reader for this online store; `hash_fields`: how many fields a Redis hash holds;
    `cache_mib`: SQLite's page cache (None: its default)."""
    online = store._get_provider().online_store
    if isinstance(online, SqliteOnlineStore):
        return SqliteCells(store, online, join_key, views, cache_mib)
    if isinstance(online, RedisOnlineStore) and store.config.online_store.client == RedisClient.redis:
        return RedisCells(store, online, join_key, views, hash_fields)
    return FeastCells(store, join_key, views)


def entity_key(join_key: str, customer_id: int) -> EntityKeyProto:
    return EntityKeyProto(join_keys=[join_key], entity_values=[ValueProto(int64_val=customer_id)])


def key_encoder(join_key: str, version: int, suffix: bytes = b"") -> Callable[[Sequence[int]], list[bytes]]:
    """Feast's serialized entity keys for int64 ids, plus `suffix` (Redis appends the project).

    Feast's key of one int64 entity is a fixed prefix then the id's 8 bytes; that layout is checked
    against Feast's own encoder here, which encodes every key if it ever differs.
    """

    def feast(i: int) -> bytes:
        return (
            serialize_entity_key(entity_key(join_key, i), entity_key_serialization_version=version) + suffix
        )

    prefix = feast(0)[: -8 - len(suffix)]
    pack = struct.Struct("<q").pack
    if all(feast(i) == prefix + pack(i) + suffix for i in (1, -5, 2**40 + 7, -(2**62))):
        return lambda ids: [prefix + pack(i) + suffix for i in ids]
    return lambda ids: [feast(i) for i in ids]


class SqliteCells:
    """Feast's `online_read` query for every view table at once, each key's row number alongside."""

    def __init__(
        self,
        store: FeatureStore,
        online: SqliteOnlineStore,
        join_key: str,
        views: list[ViewFields],
        cache_mib: int | None = None,
    ) -> None:
        self.conn = online._get_conn(store.config)
        if cache_mib is not None:
            # A customer's values sit on ~100 pages: decoded pages kept in memory cost a lookup,
            # re-reading them from the OS costs 3x the whole fetch. Negative = KiB, per connection.
            self.conn.execute(f"PRAGMA cache_size = -{int(cache_mib) * 1024}")
        self.keys = key_encoder(join_key, store.config.entity_key_serialization_version)
        self.column = {name: c for v in views for name, c in zip(v.names, v.columns, strict=True)}
        if len(self.column) != sum(len(v.names) for v in views):
            raise ValueError("two feature views read share a feature name; a response holds only one")
        self.width = len(self.column)
        self.views = len(views)
        versioned = store.config.registry.enable_online_feature_view_versioning
        # CAST ... AS BLOB: the bytes Feast's timestamp converter is handed, without converting every row.
        self.selects = " UNION ALL ".join(
            f"SELECT k.row, {v}, t.feature_name, t.value, CAST(t.event_ts AS BLOB) "
            f'FROM k JOIN "{_table_id(store.config.project, view.view, versioned)}" t ON t.entity_key = k.key'
            for v, view in enumerate(views)
        )
        # Feast stores event_ts through its own adapter; read it back through its own converter.
        self.to_datetime = sqlite3.converters["TIMESTAMP"]
        self.unix: dict[bytes, float] = {}

    def fetch(self, ids: Sequence[int]) -> StoredCells:
        numbered = ",".join(f"(?,{row})" for row in range(len(ids)))
        sql = f"WITH k(key, row) AS (VALUES {numbered}) {self.selects}"
        fetched = self.conn.execute(sql, self.keys(ids)).fetchall()
        seconds = np.zeros((len(ids), self.views))
        if not fetched:
            return StoredCells(np.zeros(0, np.int64), [], seconds)
        rows_, views_, names, blobs, stamps = zip(*fetched, strict=True)
        rows, views = np.asarray(rows_), np.asarray(views_)
        columns = np.fromiter(map(self.column.get, names, itertools.repeat(-1)), np.int64, len(names))
        if (columns < 0).any():  # a view's table holds features the service does not read
            wanted = columns >= 0
            rows, views, columns = rows[wanted], views[wanted], columns[wanted]
            blobs = tuple(itertools.compress(blobs, wanted))
            stamps = tuple(itertools.compress(stamps, wanted))
        unique = {stamp: self._unix(stamp) for stamp in set(stamps)}
        if len(unique) == 1:  # rows are written a snapshot at a time
            seconds[rows, views] = next(iter(unique.values()))
        else:
            np.maximum.at(seconds, (rows, views), np.fromiter(map(unique.__getitem__, stamps), np.float64))
        return StoredCells(rows * self.width + columns, blobs, seconds)

    def _unix(self, stamp: bytes) -> float:
        if stamp not in self.unix:
            moment: datetime = self.to_datetime(stamp)
            # As Feast's online_read: a naive time is UTC; whole seconds, as its response carries.
            aware = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
            if len(self.unix) > 4096:  # pushed events make new times; keep the memo small
                self.unix.clear()
            self.unix[stamp] = float(np.floor(aware.timestamp()))
        return self.unix[stamp]


class RedisCells:
    """One command per customer in one pipeline: the customer's hash holds every view's fields."""

    def __init__(
        self,
        store: FeatureStore,
        online: RedisOnlineStore,
        join_key: str,
        views: list[ViewFields],
        hash_fields: int,
    ) -> None:
        self.client = online._get_client(store.config.online_store)
        project = store.config.project.encode()
        self.keys = key_encoder(join_key, store.config.entity_key_serialization_version, project)
        names = [_versioned_fv_name(v.view, store.config) for v in views]
        by_column = {
            c: _mmh3(f"{name}:{feature}")
            for name, v in zip(names, views, strict=True)
            for feature, c in zip(v.names, v.columns, strict=True)
        }
        self.values = [by_column[c] for c in range(len(by_column))]
        self.stamps = [f"_ts:{name}".encode() for name in names]
        self.fields = self.values + self.stamps
        # A small hash is a listpack that HMGET scans once per field asked: when most of the hash is
        # wanted, HGETALL reads it once and the few fields not wanted are dropped here.
        self.whole_hash = 2 * len(self.fields) >= hash_fields

    def fetch(self, ids: Sequence[int]) -> StoredCells:
        with self.client.pipeline(transaction=False) as pipe:
            for key in self.keys(ids):
                if self.whole_hash:
                    pipe.hgetall(key)
                else:
                    pipe.hmget(key, self.fields)
            replies: list[Any] = pipe.execute()
        if self.whole_hash:
            replies = [_pick(reply, self.fields) for reply in replies]
        width = len(self.values)
        values = list(itertools.chain.from_iterable(reply[:width] for reply in replies))
        stamps = [reply[width:] for reply in replies]
        unique = {s: Timestamp.FromString(s).seconds for s in set(itertools.chain(*stamps)) if s}
        seconds = np.array([[unique.get(s, 0) for s in row] for row in stamps], np.float64)
        return StoredCells(None, values, seconds.reshape(len(ids), len(self.stamps)))


def _pick(reply: dict[bytes, bytes], fields: list[bytes]) -> Sequence[bytes | None]:
    try:
        return operator.itemgetter(*fields)(reply)
    except KeyError:  # a customer not stored, or a feature added to a view after materializing
        return [reply.get(field) for field in fields]


class FeastCells:
    """Any other online store, through its `online_read`: one call per view."""

    def __init__(self, store: FeatureStore, join_key: str, views: list[ViewFields]) -> None:
        self.store = store
        self.join_key = join_key
        self.views = views
        self.width = sum(len(v.names) for v in views)

    def fetch(self, ids: Sequence[int]) -> StoredCells:
        provider = self.store._get_provider()
        keys = [entity_key(self.join_key, i) for i in ids]
        seconds = np.zeros((len(ids), len(self.views)))
        cells: list[int] = []
        values: list[bytes | None] = []
        for v, view in enumerate(self.views):
            column = dict(zip(view.names, view.columns, strict=True))
            read = provider.online_read(self.store.config, view.view, keys, list(view.names))
            for row, (stamp, stored) in enumerate(read):
                if stamp is not None:
                    seconds[row, v] = np.floor(stamp.timestamp())
                for name, value in (stored or {}).items():
                    if name in column:
                        cells.append(row * self.width + column[name])
                        values.append(value.SerializeToString())
        return StoredCells(np.asarray(cells, np.int64), values, seconds)


def decode(
    stored: StoredCells, rows: int, numeric: Sequence[bool]
) -> tuple[np.ndarray, dict[int, list[Any]]]:
    """The (rows x columns) grid as float64, NaN for null, and each non-numeric column as a list.

    Numeric columns are the ones declared Float32/Float64; a value of another type in one of them
    (an integer written by hand) is converted to float. Other columns hold what Feast would return.
    """
    width = len(numeric)
    filled = [value or _NULL for value in stored.values]
    regular = np.fromiter(map(len, filled), np.int64, len(filled)) == _DOUBLE.itemsize
    numbers = np.full(len(filled), np.nan)
    if regular.any():
        record = np.frombuffer(b"".join(itertools.compress(filled, regular)), _DOUBLE)
        where = np.flatnonzero(regular)
        doubles = record["tag"] == _DOUBLE_TAG
        numbers[where[doubles]] = record["value"][doubles]
        regular[where[~doubles]] = False
    grid = np.full(rows * width, np.nan)
    if stored.cells is None:
        grid[: len(numbers)] = numbers
    else:
        grid[stored.cells] = numbers
    objects: dict[int, list[Any]] = {j: [None] * rows for j in range(width) if not numeric[j]}
    irregular = np.flatnonzero(~regular)
    if len(irregular):
        cells = irregular if stored.cells is None else stored.cells[irregular]
        memo: dict[bytes, Any] = {}  # strings repeat: a region, a channel, a device
        for i, cell in zip(irregular.tolist(), cells.tolist(), strict=True):
            blob = filled[i]
            value = memo[blob] if blob in memo else memo.setdefault(blob, _python(blob))
            row, column = divmod(cell, width)
            if numeric[column]:
                grid[cell] = np.nan if value is None else float(value)
            else:
                objects[column][row] = value
    return grid.reshape(rows, width), objects


def _python(blob: bytes) -> Any:
    proto = ValueProto.FromString(blob)
    kind = proto.WhichOneof("val")
    return getattr(proto, kind) if kind in _PLAIN else feast_value_type_to_python_type(proto)
