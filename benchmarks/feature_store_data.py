"""The feature store benchmark's inputs and surroundings: data, build, Redis server, machine, memory."""

from __future__ import annotations

import logging
import os
import platform
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
from feature_store_raw import PROJECT

log = logging.getLogger("benchmarks.feature_store")

ROOT = Path(__file__).resolve().parents[1]


def machine_info() -> dict[str, object]:
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return {
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "memory_gb": round(pages * page_size / 2**30, 1),
        "python": platform.python_version(),
    }


def library_versions() -> dict[str, str]:
    names = ("feast", "duckdb", "pyarrow", "pandas", "numpy", "redis", "hiredis", "protobuf")
    found = {"sqlite": sqlite3.sqlite_version}
    for name in names:
        with suppress(PackageNotFoundError):  # hiredis is optional to redis-py
            found[name] = version(name)
    return found


# ------------------------------------------------------------------------------------------- memory


def reset_peak_rss() -> None:
    """Start a new peak: Linux resets VmHWM on '5' written to clear_refs, so each stage gets its own."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_gb() -> float:
    """Peak resident memory since the last reset (VmHWM), else since the process started."""
    with suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 2**20, 2)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    started = time.perf_counter()
    ended: list[float] = []
    yield lambda: (ended[0] if ended else time.perf_counter()) - started
    ended.append(time.perf_counter())


# -------------------------------------------------------------------------------------------- redis


def redis_host_port() -> tuple[str, int]:
    from features.store import DEFAULT_REDIS

    # Only host:port is taken from the environment; the db is the benchmark's own.
    address = os.environ.get("NUDGE_REDIS_CONNECTION", DEFAULT_REDIS).split(",")[0]
    host, port = address.rsplit(":", 1)
    return host, int(port)


def start_redis(host: str, port: int, db: int) -> Any:
    """A client on the benchmark's db, after making sure a server answers (scripts/redis.sh is idempotent)."""
    import redis

    client = redis.Redis(host=host, port=port, db=db)
    try:
        client.ping()
    except redis.ConnectionError:
        env = {**os.environ, "NUDGE_REDIS_PORT": str(port)}
        subprocess.run([str(ROOT / "scripts" / "redis.sh"), "start"], check=True, env=env)
        client.ping()
    return client


def flush_redis_db(client: Any) -> None:
    """Empty the benchmark's db, refusing if it holds keys that are not this benchmark's."""
    suffix = PROJECT.encode()
    foreign = next((key for key in client.scan_iter(count=1000) if not key.endswith(suffix)), None)
    if foreign is not None:
        raise SystemExit(
            f"redis db {client.connection_pool.connection_kwargs['db']} holds {foreign!r}, "
            "not written by this benchmark; pick another --redis-db"
        )
    client.flushdb()


# ------------------------------------------------------------------------------------ data and build


def simulate_raw(customers: int, days: int, seed: int, work: Path) -> tuple[Path, dict[str, object]]:
    from configs.schema import SimulationConfig
    from events.simulator import simulate

    config = SimulationConfig(customers=customers, days=days, seed=seed)
    reset_peak_rss()
    with stopwatch() as elapsed:
        summary = simulate(config, work / "raw", work / "ground_truth", progress=False)
    info = {
        "seconds": round(elapsed(), 2),
        "rows": summary.rows,
        "total_rows": summary.total_rows,
        "peak_rss_gb": peak_rss_gb(),
    }
    log.info("simulated %d customers x %d days in %.1fs", customers, days, elapsed())
    return work / "raw", info


def build(raw_dir: Path, features_dir: Path) -> dict[str, object]:
    from configs.schema import FeaturesConfig
    from features.pipeline import build_features

    reset_peak_rss()
    report = build_features(FeaturesConfig(), raw_dir, features_dir, progress=False)
    log.info(report.describe())
    return {
        "seconds": round(report.seconds, 2),
        "customers": report.customers,
        "snapshots": report.snapshots,
        "rows_per_view": report.rows,
        "features": report.features,
        "rows_per_s": round(report.rows / report.seconds),
        "feature_values_per_s": round(report.rows * report.features / report.seconds),
        "peak_rss_gb": peak_rss_gb(),
    }


def latest_ids(features_dir: Path) -> np.ndarray:
    """Customers in the newest snapshot: every one of them is in the online store after materializing."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(
        features_dir / "customer_profile.parquet", columns=["customer_id", "event_timestamp"]
    )
    newest = pc.max(table["event_timestamp"])
    return table.filter(pc.equal(table["event_timestamp"], newest))["customer_id"].to_numpy()


def materialized_counts(features_dir: Path, end: datetime) -> dict[str, int]:
    """What materialize_latest loads: every customer's row of every view in the newest snapshot, `end`."""
    import duckdb

    from features.catalog import REALTIME, VIEWS

    con = duckdb.connect()
    entity_rows = values = 0
    for view in (*VIEWS, REALTIME):
        (count,) = con.execute(
            f"SELECT count(DISTINCT customer_id) FROM read_parquet('{features_dir / view.file}') "
            "WHERE event_timestamp = $end",
            {"end": end},
        ).fetchall()[0]
        entity_rows += count
        values += count * len(view.features)
    return {"entity_rows_x_views": entity_rows, "feature_values": values}
