"""The raw lookups Feast is measured against: the same keys, read straight from the online store.

Keys are serialized before timing and nothing is decoded, so a raw lookup is the floor any reader of
Feast's layout pays: the store's own work plus the client library's.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Protocol

PROJECT = "nudge_bench"  # a project of its own: Redis keys end with it, SQLite tables start with it
SERVICE = "uplift_v1"


class RawLookup(Protocol):
    """Reads the same keys as Feast straight from the online store, without Feast."""

    def fetch(self, keys: list[bytes]) -> Any: ...

    def decode(self, result: Any) -> list[Any]: ...

    def looks_complete(self, result: Any, customers: int, features: int) -> bool: ...


class SqliteLookup:
    """The query Feast's SQLite store runs, per view table, on a plain connection of our own."""

    def __init__(self, store: Any, db_path: Path) -> None:
        from feast.infra.online_stores.sqlite import _table_id

        versioned = store.config.registry.enable_online_feature_view_versioning
        service = store.get_feature_service(SERVICE)
        self.tables = [
            _table_id(PROJECT, store.get_feature_view(p.name), versioned)
            for p in service.feature_view_projections
        ]
        self.conn = sqlite3.connect(db_path, check_same_thread=False)

    def fetch(self, keys: list[bytes]) -> list[list[tuple[Any, ...]]]:
        marks = ",".join("?" * len(keys))
        select = "SELECT entity_key, feature_name, value, event_ts FROM"
        return [
            self.conn.execute(f'{select} "{table}" WHERE entity_key IN ({marks})', keys).fetchall()
            for table in self.tables
        ]

    def decode(self, result: list[list[tuple[Any, ...]]]) -> list[Any]:
        from feast.protos.feast.types.Value_pb2 import Value

        return [Value.FromString(row[2]) for rows in result for row in rows]

    def looks_complete(self, result: list[list[tuple[Any, ...]]], customers: int, features: int) -> bool:
        return sum(len(rows) for rows in result) == customers * features


class RedisLookup:
    """One HGETALL per customer in one pipeline: the customer's hash holds every view's fields."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def fetch(self, keys: list[bytes]) -> list[dict[bytes, bytes]]:
        with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(key)
            return pipe.execute()

    def decode(self, result: list[dict[bytes, bytes]]) -> list[Any]:
        from feast.protos.feast.types.Value_pb2 import Value
        from google.protobuf.timestamp_pb2 import Timestamp

        return [
            (Timestamp if field.startswith(b"_ts:") else Value).FromString(data)
            for fields in result
            for field, data in fields.items()
        ]

    def looks_complete(self, result: list[dict[bytes, bytes]], customers: int, features: int) -> bool:
        return len(result) == customers and all(len(fields) >= features for fields in result)


def open_lookup(kind: str, store: Any, repo_dir: Path, redis_client: Any) -> RawLookup:
    if kind == "redis":
        return RedisLookup(redis_client)
    return SqliteLookup(store, repo_dir / "online_store.db")


def entity_key_bytes(kind: str, store: Any, customer_id: int) -> bytes:
    from feast.infra.key_encoding_utils import serialize_entity_key
    from feast.infra.online_stores.helpers import _redis_key
    from feast.protos.feast.types.EntityKey_pb2 import EntityKey
    from feast.protos.feast.types.Value_pb2 import Value

    from features.definitions import CUSTOMER_KEY

    key = EntityKey(join_keys=[CUSTOMER_KEY], entity_values=[Value(int64_val=int(customer_id))])
    version_ = store.config.entity_key_serialization_version
    if kind == "redis":
        return _redis_key(PROJECT, key, entity_key_serialization_version=version_)
    return serialize_entity_key(key, entity_key_serialization_version=version_)


def stored_counts(kind: str, store: Any, repo_dir: Path, redis_client: Any) -> dict[str, int]:
    """What the online store holds after materializing, to check against what should have been loaded."""
    if kind == "redis":
        return {"stored_customer_hashes": int(redis_client.dbsize())}  # one hash per customer, all views
    from contextlib import closing

    from feast.infra.online_stores.sqlite import _table_id

    versioned = store.config.registry.enable_online_feature_view_versioning
    tables = [_table_id(PROJECT, view, versioned) for view in store.list_feature_views()]
    with closing(sqlite3.connect(repo_dir / "online_store.db")) as conn:
        values = sum(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables)
    return {"stored_feature_values": values}
