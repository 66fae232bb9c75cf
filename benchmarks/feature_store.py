"""Feature store benchmark: feature build, Feast apply + materialize, online read latency.

For each population size: simulate (or take `--raw`), build the feature snapshots, then for the SQLite and
the Redis online store apply the Feast repository, materialize the newest snapshot and time online reads of
the `uplift_v1` FeatureService for 1 and for 100 customers along two paths: Feast's stock
`get_online_features` and `features.online.OnlineReader.read`, the path serving uses. Each is interleaved
with a raw lookup of the same keys in the same store (pre-serialized keys, no Feast in between), so every
ratio to raw is measured under the same conditions. The issue's goal: a Feast read within 2x of the raw
lookup. Peak memory is recorded per stage (Linux VmHWM, reset before each).

    .venv/bin/python benchmarks/feature_store.py [--customers 100000 1000000] [--days 365]
        [--stores sqlite redis] [--redis-db 15]

Figures go to benchmarks/results/feature_store.json (rewritten after each size, so a long run that
fails late still leaves the sizes it finished). Modules: feature_store_data (inputs, build, Redis,
memory), feature_store_raw (raw lookups), feature_store_latency (timing).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feature_store_data import (
    ROOT,
    build,
    flush_redis_db,
    latest_ids,
    library_versions,
    machine_info,
    materialized_counts,
    peak_rss_gb,
    redis_host_port,
    reset_peak_rss,
    simulate_raw,
    start_redis,
    stopwatch,
)
from feature_store_latency import GOAL_RATIO, PATHS, measure_latency
from feature_store_raw import PROJECT, SERVICE, open_lookup, stored_counts

from configs.atomic import replacing
from configs.process import telemetry_off

log = logging.getLogger("benchmarks.feature_store")

BATCH_SIZES = (1, 100)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--raw", type=Path, help="Benchmark this raw contract dataset instead of simulating.")
    parser.add_argument("--requests", type=int, default=300, help="Timed requests per case.")
    parser.add_argument("--warmup", type=int, default=30, help="Untimed requests before each case.")
    parser.add_argument("--stores", nargs="+", choices=["sqlite", "redis"], default=["sqlite", "redis"])
    parser.add_argument("--skip-redis", action="store_true", help="Same as --stores sqlite.")
    parser.add_argument(
        "--build-only", action="store_true", help="Stop after the feature build (no online stores)."
    )
    parser.add_argument("--redis-db", type=int, default=15, help="Dedicated Redis db, flushed first.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "feature_store.json")
    return parser.parse_args(argv)


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
    reset_peak_rss()
    with stopwatch() as materialize_s:
        end = materialize_latest(config, repo_dir, progress=False)
    materialize_peak = peak_rss_gb()
    counts = materialized_counts(features_dir, end)
    log.info("%s: applied in %.1fs, materialized %s in %.1fs", kind, apply_s(), counts, materialize_s())
    store = open_store(repo_dir)
    lookup = open_lookup(kind, store, repo_dir, redis_client)
    ids = latest_ids(features_dir)
    result = {
        "apply_seconds": round(apply_s(), 2),
        "materialize_seconds": round(materialize_s(), 2),
        "materialize_chunk_rows": config.materialize_chunk_rows,
        **counts,
        "entity_rows_x_views_per_s": round(counts["entity_rows_x_views"] / materialize_s()),
        "feature_values_per_s": round(counts["feature_values"] / materialize_s()),
        **stored_counts(kind, store, repo_dir, redis_client),
        "materialize_peak_rss_gb": materialize_peak,
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
        kinds = [] if args.build_only else [k for k in args.stores if k != "redis" or redis_client]
        run["stores"] = {
            kind: bench_store(kind, work / "features", work / f"repo_{kind}", redis_client, args)
            for kind in kinds
        }
    return run


# ------------------------------------------------------------------------------------------ report


def write_results(path: Path, payload: dict[str, object]) -> None:
    with replacing(path) as staged:
        staged.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def build_lines(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        f"{'customers':>10} {'build s':>8} {'rows/view':>10} {'rows/s':>9} {'values/s':>11} {'RSS GB':>7}"
    ]
    for run in runs:
        b = run["build"]
        lines.append(
            f"{run['customers']:>10,} {b['seconds']:>8.1f} {b['rows_per_view']:>10,} "
            f"{b['rows_per_s']:>9,} {b['feature_values_per_s']:>11,} {b['peak_rss_gb']:>7.2f}"
        )
    return lines


def store_lines(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        f"{'customers':>10} {'store':>6} {'mat s':>7} {'values/s':>9} {'RSS GB':>6} {'batch':>5} {'path':>6} "
        f"{'p50 ms':>8} {'p99':>7} {'raw p50':>8} {'p99':>7} {'x p50':>6} {'x p99':>6}"
    ]
    for run in runs:
        for kind, store in run["stores"].items():
            for read in store["reads"]:
                raw = read["raw_ms"]
                for path in PATHS:
                    ours, ratio = read[f"{path}_ms"], read[f"ratio_{path}_to_raw"]
                    lines.append(
                        f"{run['customers']:>10,} {kind:>6} {store['materialize_seconds']:>7.1f} "
                        f"{store['feature_values_per_s']:>9,} {store['materialize_peak_rss_gb']:>6.2f} "
                        f"{read['customers_per_request']:>5} {path:>6} "
                        f"{ours['p50']:>8.2f} {ours['p99']:>7.2f} {raw['p50']:>8.2f} {raw['p99']:>7.2f} "
                        f"{ratio['p50']:>6.1f} {ratio['p99']:>6.1f}"
                    )
    return lines


def connect_redis(args: argparse.Namespace) -> Any | None:
    if args.skip_redis or args.build_only or "redis" not in args.stores:
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
        "goal": f"a Feast read within {GOAL_RATIO}x of the raw lookup",
        "paths": PATHS,
        "raw_lookups": {
            "sqlite": "plain sqlite3 connection, one SELECT ... WHERE entity_key IN (...) per view table "
            "of the service, rows fetched, values left as bytes",
            "redis": "redis-py pipeline of HGETALL, one per customer (the hash holds all views)",
            "raw_decoded": "the raw lookup plus protobuf decoding of every value returned",
        },
    }


def main(argv: list[str] | None = None) -> None:
    # Telemetry off before any library that reads these is imported (all are imported lazily).
    telemetry_off()
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
