"""Simulator throughput: customers x days per second, end to end (simulate, validate, write parquet).

    python benchmarks/simulator_throughput.py                 # 100k and 1M customers x 365 days
    python benchmarks/simulator_throughput.py --sizes 100000  # just one size

Figures go to benchmarks/results/simulator_throughput.json and are printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

from configs.schema import SimulationConfig
from events.simulator import simulate

RESULTS = Path(__file__).resolve().parent / "results" / "simulator_throughput.json"


def measure(customers: int, days: int, seed: int) -> dict[str, object]:
    """One end-to-end run into a temporary folder that is removed afterwards."""
    config = SimulationConfig(customers=customers, days=days, seed=seed)
    with tempfile.TemporaryDirectory(prefix="nudge-sim-bench-") as tmp:
        started = time.perf_counter()
        summary = simulate(config, Path(tmp) / "raw", Path(tmp) / "truth", progress=False)
        seconds = time.perf_counter() - started
    return {
        "customers": customers,
        "days": days,
        "seconds": round(seconds, 2),
        "customer_days_per_second": round(customers * days / seconds),
        "rows_written": summary.total_rows,
        "truth_rows_written": sum(summary.truth_rows.values()),
        "rows_per_table": dict(summary.rows),
        # ru_maxrss is the process-wide peak so far (KiB on Linux): an upper bound for this size.
        "peak_rss_mb_so_far": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    runs = [measure(size, args.days, args.seed) for size in sorted(args.sizes)]
    report = {
        "benchmark": "simulator_throughput",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for run in runs:
        print(
            f"{run['customers']:>10,} customers x {run['days']} days: {run['seconds']:>7.1f}s, "
            f"{run['customer_days_per_second']:>12,} customer-days/s, "
            f"{run['rows_written']:>12,} rows written"
        )
    print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
