"""The Redis server the Redis online-store tests share: started by scripts/redis.sh, keys per project."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import redis
from feast import FeatureStore

from features.store import DEFAULT_REDIS

ROOT = Path(__file__).resolve().parents[1]


def start_redis() -> str:
    """The address of a running server, started (and on Debian installed, as root) if none answers."""
    address = os.environ.get("NUDGE_REDIS_CONNECTION", DEFAULT_REDIS)
    host, port = address.split(",")[0].split(":")
    subprocess.run(
        [str(ROOT / "scripts" / "redis.sh"), "start"],
        check=True,
        env={**os.environ, "NUDGE_REDIS_PORT": port},
    )
    assert redis.Redis(host=host, port=int(port)).ping()
    return address


def drop_project(store: FeatureStore) -> None:
    """The server is shared: remove one test's keys, which all end with its project name."""
    client = store._get_provider().online_store._get_client(store.config.online_store)
    keys = list(client.scan_iter(match=f"*{store.config.project}", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
