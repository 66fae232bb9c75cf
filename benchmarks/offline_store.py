"""Feast offline store benchmark: point-in-time joins on DuckDB against Feast's file store.

Every training set, policy evaluation and audience population is a point-in-time join through
Feast's offline store. On one data folder (simulated, or `--root` from policy_value.py) this applies
the same repository once per offline store type and times two reads of the `uplift_v2`
FeatureService on each: the audience population (every customer at the newest snapshot) and a
training set (`--labels` random customer x time rows of the feature files). Peak memory per
read (Linux VmHWM, reset before each). Both stores must return identical frames; the benchmark
fails otherwise.

    .venv/bin/python benchmarks/offline_store.py [--customers 100000] [--labels 100000]
    .venv/bin/python benchmarks/offline_store.py --root /tmp/pv      # data policy_value.py kept

Figures go to benchmarks/results/offline_store.json and offline_store.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from feature_store_data import library_versions, machine_info, peak_rss_gb, reset_peak_rss

from configs.process import hide_library_deprecations, telemetry_off

if TYPE_CHECKING:
    from feast import FeatureStore

RESULTS = Path(__file__).resolve().parent / "results"
SERVICE = "uplift_v2"
STORES = ("duckdb", "file")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000, help="Simulated, without --root.")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--root", type=Path, default=None, help="A folder holding data/features.")
    parser.add_argument("--labels", type=int, default=100_000, help="Rows of the training-set read.")
    parser.add_argument("--out", type=Path, default=RESULTS / "offline_store.json")
    args = parser.parse_args()
    telemetry_off()
    hide_library_deprecations()
    with tempfile.TemporaryDirectory() as scratch:
        features_dir = args.root / "data" / "features" if args.root else simulated(Path(scratch), args)
        figures: dict[str, object] = {
            "measured_at": datetime.now(UTC).isoformat(),
            "machine": machine_info(),
            "versions": library_versions(),
            "data": str(args.root) if args.root else f"simulated {args.customers:,} x {args.days} days",
            "feature_service": SERVICE,
            "reads": compare(features_dir, Path(scratch) / "repos", args.labels),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))
    args.out.with_suffix(".md").write_text(markdown(figures))
    print(markdown(figures))


def simulated(root: Path, args: argparse.Namespace) -> Path:
    from configs.schema import FeaturesConfig, SimulationConfig
    from events.simulator import simulate
    from features.pipeline import build_features

    config = SimulationConfig(customers=args.customers, days=args.days, seed=7)
    simulate(config, root / "raw", root / "ground_truth", progress=False)
    build_features(FeaturesConfig(), root / "raw", root / "features", progress=False)
    return root / "features"


def compare(features_dir: Path, repos: Path, label_rows: int) -> list[dict[str, object]]:
    """Both reads on every store; the first store's frames are what the others must return."""
    from configs.schema import FeaturesConfig
    from features.store import apply_repository

    figures: list[dict[str, object]] = []
    expected: dict[str, pd.DataFrame] = {}
    labels = label_sample(features_dir, label_rows)
    for kind in STORES:
        store = apply_repository(FeaturesConfig(offline_store=kind), features_dir, repos / kind)
        for read, frame, row in timed_reads(store, labels):
            row["offline_store"] = kind
            figures.append(row)
            if read in expected:
                pd.testing.assert_frame_equal(frame, expected[read], check_exact=True)
                row["identical_to"] = STORES[0]
            else:
                expected[read] = frame
    return figures


def timed_reads(
    store: FeatureStore, labels: pd.DataFrame
) -> list[tuple[str, pd.DataFrame, dict[str, object]]]:
    from campaigns.population import population_features
    from training.dataset import training_frame

    reads = {
        "population": lambda: population_features(store, SERVICE, progress=False).features,
        "training_set": lambda: training_frame(store, labels, SERVICE),
    }
    out = []
    for read, run in reads.items():
        reset_peak_rss()
        started = time.perf_counter()
        frame = run()
        seconds = time.perf_counter() - started
        row = {"read": read, "rows": len(frame), "seconds": round(seconds, 1), "peak_rss_gb": peak_rss_gb()}
        out.append((read, frame, row))
    return out


def label_sample(features_dir: Path, rows: int) -> pd.DataFrame:
    """Random (customer, time) rows of the first view: sign-ups, snapshots and assignments."""
    from features.catalog import VIEWS
    from features.definitions import CUSTOMER_KEY

    keys = pd.read_parquet(features_dir / VIEWS[0].file, columns=[CUSTOMER_KEY, "event_timestamp"])
    return keys.sample(min(rows, len(keys)), random_state=7).reset_index(drop=True)


def markdown(figures: dict[str, object]) -> str:
    lines = [
        f"# Feast offline store: point-in-time reads of `{figures['feature_service']}`",
        "",
        f"Data: {figures['data']}. Measured {figures['measured_at']}.",
        "",
        "| read | offline store | rows | seconds | peak RSS (GB) | same frame as |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in figures["reads"]:  # type: ignore[attr-defined]
        lines.append(
            f"| {r['read']} | {r['offline_store']} | {r['rows']:,} | {r['seconds']} | "
            f"{r['peak_rss_gb']} | {r.get('identical_to', '')} |"
        )
    return "\n".join([*lines, ""])


if __name__ == "__main__":
    main()
