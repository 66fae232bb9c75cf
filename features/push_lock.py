"""One writer at a time to the real-time view: `features.realtime.raise_stored` reads, merges, writes.

The real-time view keeps one row per customer with the time of the last visit, cart add and order.
A push (or a materialization chunk) reads those rows, raises the fields it knows newer times of and
writes the rows back whole. Two serving workers pushing a visit and an order for the same customer
at once would each write back the other's stale field, and one of the two events would be lost.
The lock spans the read and the write:
- SQLite is a file on this machine, so a file lock beside it serves every process there;
- Redis is shared by servers on many machines, so the lock is a Redis key (redis-py's Lock), which
  expires if its holder dies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from feast import FeatureStore
from feast.infra.online_stores.redis import RedisOnlineStore
from redis.exceptions import LockError

from configs.locks import file_lock

# A push of a full request (1,000 customers) takes well under a second, a materialization chunk
# (50,000) a few seconds; a holder still there after this long has died, and Redis drops its key.
LOCK_EXPIRY_S = 60.0
# How long a push waits for the others before it gives up with an error.
WAIT_S = 120.0


@contextmanager
def push_lock(store: FeatureStore) -> Iterator[None]:
    """Hold the store's push lock: shared by every process that pushes to the same online store."""
    online = store.config.online_store
    if online.type == "sqlite":
        with file_lock(Path(store.repo_path) / f"{online.path}.push-lock"):
            yield
    elif online.type == "redis":
        # Feast's own client for this store: same address, password, cluster or sentinel settings.
        redis_store = store._get_provider().online_store
        assert isinstance(redis_store, RedisOnlineStore)
        client = redis_store._get_client(online)
        lock = client.lock(f"nudge_push_lock:{store.project}", timeout=LOCK_EXPIRY_S, blocking_timeout=WAIT_S)
        if not lock.acquire():
            raise TimeoutError(f"pushed events for {store.project!r} waited {WAIT_S:.0f} s for another push")
        try:
            yield
        finally:
            # Expired while held: another push may have run meanwhile; there is nothing to undo.
            with suppress(LockError):
                lock.release()
    else:
        raise ValueError(f"no push lock for online store {online.type!r}; use sqlite or redis")
