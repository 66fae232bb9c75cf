"""Feature store benchmark: feature build, Feast apply + materialize, online read latency.

For each population size: simulate (or take `--raw`), build the feature snapshots, then for the SQLite and
the Redis online store apply the Feast repository, materialize the latest values and time online reads of
the `uplift_v1` FeatureService for 1 and for 100 customers. Each Feast read is interleaved with a raw
lookup of the same keys in the same store (pre-serialized keys, no Feast in between), so the ratio
Feast/raw is measured under the same conditions. The issue's goal is Feast within 2x of the raw lookup.

    .venv/bin/python benchmarks/feature_store.py [--customers 100000 1000000] [--days 365] [--skip-redis]

Figures go to benchmarks/results/feature_store.json (rewritten after each size, so a long run that
fails late still leaves the sizes it finished).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger("benchmarks.feature_store")

ROOT = Path(__file__).resolve().parents[1]
SERVICE = "uplift_v1"
# A project name of its own: Redis keys end with it and SQLite tables start with it, so the benchmark
# cannot read or overwrite another deployment's features.
PROJECT = "nudge_bench"
BATCH_SIZES = (1, 100)
GOAL_RATIO = 2.0


@dataclass(frozen=True)
class Request:
    rows: list[dict[str, int]]  # Feast entity rows
    keys: list[bytes]  # the same customers as the raw store's keys, serialized before timing


Reader = Callable[[Request], object]


class RawLookup(Protocol):
    """Reads the same keys as Feast straight from the online store, without Feast."""

    def fetch(self, keys: list[bytes]) -> Any: ...

    def decode(self, result: Any) -> list[Any]: ...

    def looks_complete(self, result: Any, customers: int, features: int) -> bool: ...


# ---------------------------------------------------------------------------------------------- setup


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--raw", type=Path, help="Benchmark this raw contract dataset instead of simulating.")
    parser.add_argument("--requests", type=int, default=300, help="Timed requests per case.")
    parser.add_argument("--warmup", type=int, default=30, help="Untimed requests before each case.")
    parser.add_argument("--skip-redis", action="store_true")
    parser.add_argument(
        "--build-only", action="store_true", help="Stop after the feature build (no online stores)."
    )
    parser.add_argument("--redis-db", type=int, default=15, help="Dedicated Redis db, flushed first.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "feature_store.json")
    return parser.parse_args(argv)


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
    names = ("feast", "duckdb", "pyarrow", "pandas", "numpy", "redis", "protobuf")
    return {name: version(name) for name in names} | {"sqlite": sqlite3.sqlite_version}


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


def peak_rss_gb() -> float:
    """The process's peak resident memory so far (Linux reports KiB): materialization is the big one."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    started = time.perf_counter()
    ended: list[float] = []
    yield lambda: (ended[0] if ended else time.perf_counter()) - started
    ended.append(time.perf_counter())


# ------------------------------------------------------------------------------------ data and build


def simulate_raw(customers: int, days: int, seed: int, work: Path) -> tuple[Path, dict[str, object]]:
    from configs.schema import SimulationConfig
    from events.simulator import simulate

    config = SimulationConfig(customers=customers, days=days, seed=seed)
    with stopwatch() as elapsed:
        summary = simulate(config, work / "raw", work / "ground_truth", progress=False)
    info = {"seconds": round(elapsed(), 2), "rows": summary.rows, "total_rows": summary.total_rows}
    log.info("simulated %d customers x %d days in %.1fs", customers, days, elapsed())
    return work / "raw", info


def build(raw_dir: Path, features_dir: Path) -> dict[str, object]:
    from configs.schema import FeaturesConfig
    from features.pipeline import build_features

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
        "peak_rss_gb_so_far": peak_rss_gb(),
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
    """What materialize_latest should load: every customer's newest row of every view, up to `end`."""
    import duckdb

    from features.catalog import REALTIME, VIEWS

    con = duckdb.connect()
    entity_rows = values = 0
    for view in (*VIEWS, REALTIME):
        (count,) = con.execute(
            f"SELECT count(DISTINCT customer_id) FROM read_parquet('{features_dir / view.file}') "
            "WHERE event_timestamp < $end",
            {"end": end},
        ).fetchall()[0]
        entity_rows += count
        values += count * len(view.features)
    return {"entity_rows_x_views": entity_rows, "feature_values": values}


# ------------------------------------------------------------------------------------ raw lookups


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


# ---------------------------------------------------------------------------------------- latency


def make_requests(
    kind: str, store: Any, ids: np.ndarray, batch: int, count: int, rng: np.random.Generator
) -> list[Request]:
    from features.definitions import CUSTOMER_KEY

    requests = []
    for _ in range(count):
        chosen = [int(i) for i in rng.choice(ids, size=batch, replace=False)]
        keys = [entity_key_bytes(kind, store, i) for i in chosen]
        requests.append(Request([{CUSTOMER_KEY: i} for i in chosen], keys))
    return requests


def time_readers(readers: dict[str, Reader], requests: list[Request], warmup: int) -> dict[str, list[float]]:
    """Seconds per call of each reader on the same requests, interleaved so drift hits all alike."""
    names = list(readers)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index, request in enumerate(requests):
        # Rotate who goes first so none always runs on a cache the previous one just warmed.
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            readers[name](request)
            elapsed = time.perf_counter() - started
            if index >= warmup:
                samples[name].append(elapsed)
    return samples


def percentiles_ms(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {
        "p50": round(float(np.percentile(ms, 50)), 3),
        "p95": round(float(np.percentile(ms, 95)), 3),
        "p99": round(float(np.percentile(ms, 99)), 3),
        "mean": round(float(ms.mean()), 3),
    }


def check_reads(store: Any, lookup: RawLookup, request: Request) -> None:
    """Fail before timing if either side would read nothing (an empty lookup is fast and meaningless)."""
    service = store.get_feature_service(SERVICE)
    features = sum(len(p.features) for p in service.feature_view_projections)
    response = store.get_online_features(features=service, entity_rows=request.rows).to_dict()
    if any(value is None for value in response["tenure_days"]):
        raise RuntimeError(f"Feast returned no profile for some of {request.rows[:3]}...")
    if not lookup.looks_complete(lookup.fetch(request.keys), len(request.keys), features):
        raise RuntimeError("the raw lookup did not find every feature; are the keys built like Feast's?")


def measure_latency(
    kind: str,
    store: Any,
    lookup: RawLookup,
    ids: np.ndarray,
    batch: int,
    args: argparse.Namespace,
) -> dict[str, object]:
    rng = np.random.default_rng(args.seed + batch)
    requests = make_requests(kind, store, ids, batch, args.warmup + args.requests, rng)
    check_reads(store, lookup, requests[0])
    service = store.get_feature_service(SERVICE)
    readers: dict[str, Reader] = {
        "feast": lambda r: store.get_online_features(features=service, entity_rows=r.rows),
        "raw": lambda r: lookup.fetch(r.keys),
        # The raw bytes still need protobuf decoding, which Feast's figure includes: this bounds how
        # much of the gap is decoding rather than Feast's own work.
        "raw_decoded": lambda r: lookup.decode(lookup.fetch(r.keys)),
    }
    load_before = os.getloadavg()[0]
    samples = time_readers(readers, requests, args.warmup)
    # Other work on the machine shows up in the tails; record it rather than pretend it away.
    load = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    stats = {f"{name}_ms": percentiles_ms(values) for name, values in samples.items()}
    ratio = {q: round(stats["feast_ms"][q] / stats["raw_ms"][q], 2) for q in ("p50", "p95", "p99")}
    log.info(
        "%s, %d per request: feast p50 %.2f ms, raw p50 %.2f ms (x%.1f)",
        kind,
        batch,
        stats["feast_ms"]["p50"],
        stats["raw_ms"]["p50"],
        ratio["p50"],
    )
    return {
        "customers_per_request": batch,
        "requests": args.requests,
        **stats,
        "ratio_feast_to_raw": ratio,
        "goal_met_p50": ratio["p50"] <= GOAL_RATIO,
        "goal_met_p99": ratio["p99"] <= GOAL_RATIO,
        "load_avg_1m_before_after": load,
    }


# ------------------------------------------------------------------------------------ online stores


def stored_counts(kind: str, store: Any, repo_dir: Path, redis_client: Any) -> dict[str, int]:
    """What the online store holds after materializing, to check against what should have been loaded."""
    if kind == "redis":
        return {"stored_customer_hashes": int(redis_client.dbsize())}  # one hash per customer, all views
    from feast.infra.online_stores.sqlite import _table_id

    versioned = store.config.registry.enable_online_feature_view_versioning
    tables = [_table_id(PROJECT, view, versioned) for view in store.list_feature_views()]
    with closing(sqlite3.connect(repo_dir / "online_store.db")) as conn:
        values = sum(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables)
    return {"stored_feature_values": values}


def open_lookup(kind: str, store: Any, repo_dir: Path, redis_client: Any) -> RawLookup:
    if kind == "redis":
        return RedisLookup(redis_client)
    return SqliteLookup(store, repo_dir / "online_store.db")


def bench_store(
    kind: str, features_dir: Path, repo_dir: Path, redis_client: Any, args: argparse.Namespace
) -> dict[str, object]:
    from configs.schema import FeaturesConfig
    from features.store import apply_repository, materialize_latest, open_store

    config = FeaturesConfig(online_store=kind, project=PROJECT)
    if kind == "redis":
        flush_redis_db(redis_client)
    with stopwatch() as apply_s:
        apply_repository(config, features_dir, repo_dir)
    with stopwatch() as materialize_s:
        end = materialize_latest(config, repo_dir)
    counts = materialized_counts(features_dir, end)
    log.info("%s: applied in %.1fs, materialized %s in %.1fs", kind, apply_s(), counts, materialize_s())
    store = open_store(repo_dir)
    lookup = open_lookup(kind, store, repo_dir, redis_client)
    ids = latest_ids(features_dir)
    result = {
        "apply_seconds": round(apply_s(), 2),
        "materialize_seconds": round(materialize_s(), 2),
        **counts,
        "entity_rows_x_views_per_s": round(counts["entity_rows_x_views"] / materialize_s()),
        "feature_values_per_s": round(counts["feature_values"] / materialize_s()),
        **stored_counts(kind, store, repo_dir, redis_client),
        "peak_rss_gb_so_far": peak_rss_gb(),
        "reads": [measure_latency(kind, store, lookup, ids, batch, args) for batch in BATCH_SIZES],
    }
    if kind == "redis":
        flush_redis_db(redis_client)  # the server is shared: give its memory back (SQLite goes with tmp)
    return result


def bench_size(
    customers: int | None, args: argparse.Namespace, redis_client: Any | None
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="nudge-bench-") as tmp:
        work = Path(tmp)
        run: dict[str, object] = {}
        if args.raw:
            raw_dir, run["source"] = args.raw.resolve(), str(args.raw)
        else:
            raw_dir, run["simulate"] = simulate_raw(customers or 0, args.days, args.seed, work)
            run["source"], run["days"] = "simulator", args.days
        built = build(raw_dir, work / "features")
        run["build"], run["customers"] = built, built["customers"]
        kinds = [] if args.build_only else ["sqlite"] if redis_client is None else ["sqlite", "redis"]
        run["stores"] = {
            kind: bench_store(kind, work / "features", work / f"repo_{kind}", redis_client, args)
            for kind in kinds
        }
    return run


# ------------------------------------------------------------------------------------------ report


def write_results(path: Path, payload: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_suffix(".json.tmp")
    staging.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    staging.replace(path)


def build_lines(runs: list[dict[str, Any]]) -> list[str]:
    lines = [f"{'customers':>10} {'build s':>8} {'rows/view':>10} {'rows/s':>9} {'values/s':>11}"]
    for run in runs:
        b = run["build"]
        lines.append(
            f"{run['customers']:>10,} {b['seconds']:>8.1f} {b['rows_per_view']:>10,} "
            f"{b['rows_per_s']:>9,} {b['feature_values_per_s']:>11,}"
        )
    return lines


def store_lines(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        f"{'customers':>10} {'store':>6} {'mat s':>7} {'values/s':>9} {'batch':>5} "
        f"{'feast p50':>9} {'p99':>7} {'raw p50':>8} {'p99':>7} {'x p50':>6} {'x p99':>6}"
    ]
    for run in runs:
        for kind, store in run["stores"].items():
            for read in store["reads"]:
                feast, raw, ratio = read["feast_ms"], read["raw_ms"], read["ratio_feast_to_raw"]
                lines.append(
                    f"{run['customers']:>10,} {kind:>6} {store['materialize_seconds']:>7.1f} "
                    f"{store['feature_values_per_s']:>9,} {read['customers_per_request']:>5} "
                    f"{feast['p50']:>9.2f} {feast['p99']:>7.2f} {raw['p50']:>8.2f} {raw['p99']:>7.2f} "
                    f"{ratio['p50']:>6.1f} {ratio['p99']:>6.1f}"
                )
    return lines


def connect_redis(args: argparse.Namespace) -> Any | None:
    if args.skip_redis or args.build_only:
        return None
    host, port = redis_host_port()
    client = start_redis(host, port, args.redis_db)
    # features.store reads the address when it writes feature_store.yaml: point it at our db.
    os.environ["NUDGE_REDIS_CONNECTION"] = f"{host}:{port},db={args.redis_db}"
    return client


def settings(args: argparse.Namespace, redis_client: Any | None) -> dict[str, object]:
    return {
        "days": args.days,
        "requests": args.requests,
        "warmup": args.warmup,
        "seed": args.seed,
        "feature_service": SERVICE,
        "project": PROJECT,
        "redis_db": None if redis_client is None else args.redis_db,
        "goal": f"Feast get_online_features within {GOAL_RATIO}x of the raw lookup",
        "raw_lookups": {
            "sqlite": "plain sqlite3 connection, one SELECT ... WHERE entity_key IN (...) per view table "
            "of the service, rows fetched, values left as bytes",
            "redis": "redis-py pipeline of HGETALL, one per customer (the hash holds all views)",
            "raw_decoded": "the raw lookup plus protobuf decoding of every value returned",
        },
    }


def main(argv: list[str] | None = None) -> None:
    # Telemetry off before any library that reads these is imported (all are imported lazily).
    os.environ["FEAST_USAGE"] = "False"
    os.environ["BENTOML_DO_NOT_TRACK"] = "True"
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    args = parse_args(argv)
    redis_client = connect_redis(args)
    versions = library_versions()
    if redis_client is not None:
        versions["redis_server"] = redis_client.info("server")["redis_version"]
    payload: dict[str, Any] = {
        "benchmark": "feature_store",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "versions": versions,
        "settings": settings(args, redis_client),
        "runs": [],
    }
    for customers in [None] if args.raw else args.customers:
        payload["runs"].append(bench_size(customers, args, redis_client))
        payload["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        write_results(args.out, payload)
    print("\n".join(build_lines(payload["runs"])))
    if any(run["stores"] for run in payload["runs"]):
        print("\n".join(store_lines(payload["runs"])))
    print(f"figures -> {args.out}")


if __name__ == "__main__":
    main()
