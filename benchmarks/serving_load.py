"""Serving load: wrk against the Nudge service and, in the same run, an empty BentoML endpoint.

POST /next-best-action with 1 customer per request and POST /scores with 100, each against
`serving.service:Nudge` and against `benchmarks.empty_service:Empty` (same BentoML, same service
settings, same request bodies), so the ratio of throughputs is the cost of Nudge's own work. Issue 5's
goal: Nudge at >= 50% of the empty endpoint's requests/s with p99 < 25 ms.

Data: simulated (default 20k customers x 180 days) and trained through the `nudge` CLI in a temporary
folder, or an existing trained pipeline (`--data-dir`, `--mlruns-dir`; only its Feast repository is
rebuilt, in the temporary folder). Ids rotate through every customer the service knows, so no cache
of recent requests can help; /scores answers from the score table each worker builds before it is
ready (serving.score_table), or with `--no-score-table` scores every request live. Each endpoint
runs `--rounds` times, Nudge and empty alternating, each with a warm-up, under the load settings
(default 2 wrk threads, 8 connections, 20 s: both services run the same number of workers, by
default one per core, whose sync handlers take one request at a time, so 8 connections keep them
busy without drowning a 2-core machine in queued work); then once with 1 connection, for the
latency of one request at a time.

    .venv/bin/python benchmarks/serving_load.py [--online-store sqlite redis] [--customers 20000]
    .venv/bin/python benchmarks/serving_load.py --data-dir data --mlruns-dir mlruns

Figures: benchmarks/results/serving_load.json and .md (one entry per online store, each rewritten
when that store runs again).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

import httpx
from serving_load_report import library_versions, machine_info, ms, write_markdown
from serving_load_wrk import ROOT, Load, ensure_wrk, run_wrk, write_scripts, wrk_version

from configs.process import TELEMETRY_OFF, exit_cleanly_on_sigterm
from configs.schema import ServingConfig
from serving.launcher import ServerProcess

RESULTS = ROOT / "benchmarks" / "results" / "serving_load.json"
NUDGE = str(Path(sys.executable).with_name("nudge"))
EMPTY_SERVICE = "benchmarks.empty_service:Empty"
# name, Nudge route, customers per request
ENDPOINTS = (("next_best_action", "/next-best-action", 1), ("scores", "/scores", 100))
GOAL_RATIO = 0.5
GOAL_P99_MS = 25.0
PROJECT = "nudge_bench_serving"
REDIS_DB = 13  # this benchmark's own Redis database, flushed before each materialization


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--online-store", nargs="+", choices=("sqlite", "redis"), default=["sqlite"])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--trials", type=int, default=3, help="Optuna trials per model (kept small).")
    parser.add_argument("--data-dir", type=Path, help="Reuse this NUDGE_DATA_DIR (raw + features built).")
    parser.add_argument("--mlruns-dir", type=Path, help="Reuse this NUDGE_MLRUNS_DIR (models trained).")
    parser.add_argument(
        "--workers", default=ServingConfig().workers, help="Server processes of both services."
    )
    parser.add_argument(
        "--no-score-table", action="store_true", help="Score every /scores request live (no table)."
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=int, default=20, help="Seconds per measured run.")
    parser.add_argument("--warmup", type=int, default=5, help="Seconds of discarded load before each run.")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workdir", type=Path, help="Keep data, logs, wrk scripts here (default: temp).")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if (args.data_dir is None) != (args.mlruns_dir is None):
        parser.error("--data-dir and --mlruns-dir go together")
    return args


# ------------------------------------------------------------------------------------------ data


def nudge(env: dict[str, str], cwd: Path, *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([NUDGE, *args], env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"nudge {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    seconds = time.perf_counter() - started
    print(f"  nudge {' '.join(args)}: {seconds:.0f}s", flush=True)
    return seconds


def base_env(root: Path, args: argparse.Namespace) -> dict[str, str]:
    env = {
        **os.environ,
        "NUDGE_DATA_DIR": str(root / "data"),
        "NUDGE_MLRUNS_DIR": str((args.mlruns_dir or root / "mlruns").resolve()),
        "NUDGE_FEATURES__PROJECT": PROJECT,
        "NUDGE_TRAINING__TUNING__TRIALS": str(args.trials),
        **TELEMETRY_OFF,
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def prepare(root: Path, env: dict[str, str], args: argparse.Namespace) -> dict[str, float]:
    """Simulate, build, apply and train; or link the given pipeline's raw data and features."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    if args.data_dir is not None:
        for part in ("raw", "features", "ground_truth"):
            source = args.data_dir.resolve() / part
            if source.exists() and not (data / part).exists():
                (data / part).symlink_to(source)
        return {}
    size = ("--customers", str(args.customers), "--days", str(args.days), "--seed", str(args.seed))
    seconds = {"simulate": nudge(env, root, "simulate", *size)}
    seconds["features_build"] = nudge(env, root, "features", "build")
    seconds["features_apply"] = nudge(env, root, "features", "apply")
    seconds["train_all"] = nudge(env, root, "train", "--task", "all")
    return seconds


def online_store_env(kind: str, env: dict[str, str], root: Path) -> tuple[dict[str, str], dict[str, float]]:
    """Apply the Feast repository with this online store and materialize the newest snapshot."""
    env = {**env, "NUDGE_FEATURES__ONLINE_STORE": kind}
    if kind == "redis":
        import redis

        subprocess.run([str(ROOT / "scripts" / "redis.sh"), "start"], check=True)
        port = int(os.environ.get("NUDGE_REDIS_PORT", "6390"))
        redis.Redis(port=port, db=REDIS_DB).flushdb()
        env["NUDGE_REDIS_CONNECTION"] = f"localhost:{port},db={REDIS_DB}"
    seconds = {
        "features_apply": nudge(env, root, "features", "apply"),
        "features_materialize": nudge(env, root, "features", "materialize"),
    }
    return env, seconds


def candidate_ids(data_dir: Path) -> list[int]:
    import pyarrow.parquet as pq

    table = pq.read_table(data_dir / "raw" / "customers.parquet", columns=["customer_id"])
    return sorted(int(cid) for cid in table.column("customer_id").to_pylist())


def known_ids(url: str, candidates: list[int], batch: int = 1000) -> list[int]:
    """The ids the service answers from fresh features (cold starts would skip the models)."""
    known: list[int] = []
    with httpx.Client(base_url=url, timeout=120) as client:
        for start in range(0, len(candidates), batch):
            reply = client.post("/next-best-action", json={"customer_ids": candidates[start : start + batch]})
            reply.raise_for_status()
            known += [d["customer_id"] for d in reply.json()["decisions"] if d["known"]]
    if len(known) < 100:
        raise RuntimeError(f"only {len(known)} of {len(candidates)} customers are known to the service")
    return known


# --------------------------------------------------------------------------------------- servers


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_configs() -> dict[str, Any]:
    """The BentoML service settings of both, recorded so a drift between them shows."""
    from empty_service import Empty

    from serving.service import Nudge

    return {"nudge": Nudge.config, "empty": Empty.config}  # type: ignore[misc, attr-defined]


# ------------------------------------------------------------------------------------------- load


def load_settings(args: argparse.Namespace) -> Load:
    return Load(args.threads, args.connections, args.duration, args.warmup)


def bench_endpoint(
    wrk: str, script: Path, urls: dict[str, str], route: str, batch: int, load: Load, rounds: int
) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    for r in range(rounds):
        order = ("nudge", "empty") if r % 2 == 0 else ("empty", "nudge")
        run = {t: run_wrk(wrk, script, urls[t] + _route(t, route), batch, load) for t in order}
        run["rps_ratio"] = round(run["nudge"]["rps"] / run["empty"]["rps"], 3)
        runs.append(run)
        print(f"    round {r + 1}: {_line(run)}", flush=True)
    one = Load(threads=1, connections=1, duration_s=max(5, load.duration_s // 2), warmup_s=load.warmup_s)
    single = {t: run_wrk(wrk, script, urls[t] + _route(t, route), batch, one) for t in ("nudge", "empty")}
    print(f"    1 connection: {_line(single)}", flush=True)
    summary = {t: _median(runs, t) for t in ("nudge", "empty")}
    ratio = summary["nudge"]["rps"] / summary["empty"]["rps"]
    p99 = summary["nudge"]["latency_ms"]["p99"]
    p99_ok = p99 is not None and p99 < GOAL_P99_MS
    return {
        "route": route,
        "customers_per_request": batch,
        "nudge": summary["nudge"],
        "empty": summary["empty"],
        "rps_ratio": round(ratio, 3),
        "goal": {
            "rps_ratio_ok": ratio >= GOAL_RATIO,
            "p99_ok": p99_ok,
            "met": ratio >= GOAL_RATIO and p99_ok and summary["nudge"]["errors"] == 0,
        },
        "single_connection": single,
        "rounds": runs,
    }


def _route(target: str, route: str) -> str:
    return route if target == "nudge" else "/empty"


def _median(runs: list[dict[str, Any]], target: str) -> dict[str, Any]:
    figures = [run[target] for run in runs]
    latency = {}
    for key in ("p50", "p90", "p99", "max"):
        values = [f["latency_ms"][key] for f in figures if f["latency_ms"][key] is not None]
        latency[key] = round(median(values), 2) if values else None
    return {
        "rps": round(median(f["rps"] for f in figures), 1),
        "customers_per_s": round(median(f["customers_per_s"] for f in figures), 1),
        "latency_ms": latency,
        "errors": sum(f["error_count"] for f in figures),
    }


def _line(run: dict[str, Any]) -> str:
    n, e = run["nudge"], run["empty"]
    nl, el = n["latency_ms"], e["latency_ms"]
    return (
        f"Nudge {n['rps']:.1f} req/s p50 {ms(nl['p50'])} p99 {ms(nl['p99'])} ms ({n['error_count']} errors) "
        f"| empty {e['rps']:.0f} req/s p50 {ms(el['p50'])} p99 {ms(el['p99'])} ms "
        f"| ratio {n['rps'] / e['rps']:.3f}"
    )


def bench_store(
    kind: str, env: dict[str, str], root: Path, wrk: str, args: argparse.Namespace
) -> dict[str, Any]:
    print(f"{kind}: Feast apply + materialize", flush=True)
    env, prep_seconds = online_store_env(kind, env, root)
    logs = root / "logs"
    nudge_config = ServingConfig(
        port=free_port(), reload_interval_s=0, workers=args.workers, score_table=not args.no_score_table
    )
    empty_config = ServingConfig(port=free_port(), reload_interval_s=0, workers=args.workers)
    load = load_settings(args)
    result: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    with (
        ServerProcess(nudge_config, logs / f"nudge-{kind}.log", env=env) as nudge_url,
        ServerProcess(
            empty_config, logs / f"empty-{kind}.log", env=env, service=EMPTY_SERVICE, service_name="empty"
        ) as empty_url,
    ):
        ids = known_ids(nudge_url, candidate_ids(root / "data"))
        script = write_scripts(root / "wrk", ids, args.seed)
        result |= {"known_customers": len(ids), "load_average_before": _loadavg(), "endpoints": {}}
        for name, route, batch in ENDPOINTS:
            print(f"{kind}: {route} x {batch} customer(s), {load}", flush=True)
            urls = {"nudge": nudge_url, "empty": empty_url}
            result["endpoints"][name] = bench_endpoint(wrk, script, urls, route, batch, load, args.rounds)
    result |= {"load_average_after": _loadavg(), "prepare_seconds": prep_seconds}
    return result


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    exit_cleanly_on_sigterm()  # stop the two servers it starts
    started = time.perf_counter()
    wrk = ensure_wrk()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="nudge-serving-load-"))
    root = root.resolve()
    env = base_env(root, args)
    try:
        report = _load_previous(args.out)
        report |= {
            "benchmark": "serving_load",
            "goal": {"rps_ratio_min": GOAL_RATIO, "p99_ms_max": GOAL_P99_MS},
            "machine": machine_info() | {"load_average_at_start": _loadavg()},
            "versions": library_versions() | {"wrk": wrk_version(wrk)},
            "service_configs": service_configs(),
            "load": vars(load_settings(args))
            | {"rounds": args.rounds, "workers": args.workers, "score_table": not args.no_score_table},
            "data": {
                "reused": str(args.data_dir) if args.data_dir else None,
                "customers": None if args.data_dir else args.customers,
                "days": None if args.data_dir else args.days,
            },
        }
        print(f"preparing data in {root} (load average {_loadavg()})", flush=True)
        report["data"]["prepare_seconds"] = prepare(root, env, args)
        for kind in args.online_store:
            report["stores"][kind] = bench_store(kind, env, root, wrk, args)
            report["total_seconds"] = round(time.perf_counter() - started)
            _write(report, args.out)
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    seconds = time.perf_counter() - started
    print(f"figures written to {args.out} and {args.out.with_suffix('.md')} ({seconds:.0f}s)")
    return 0


def _load_previous(path: Path) -> dict[str, Any]:
    """Keep the other stores' entries: a Redis run does not erase the SQLite figures."""
    try:
        return {"stores": json.loads(path.read_text()).get("stores", {})}
    except (OSError, ValueError):
        return {"stores": {}}


def _write(report: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    out.with_suffix(".md").write_text(write_markdown(report))


if __name__ == "__main__":
    sys.exit(main())
