"""Where one request's time goes: the service's Scorer in-process (no HTTP), timed and profiled.

/scores (100 customers): online read, calibrated predictions with SHAP contributions, top reasons, the
rest of building the response, and its JSON encoding (what BentoML does with it). /next-best-action
(1 customer): online read, uplift models, the decision rule, the rest. Stage times come from
cProfile's cumulative time per function (shares of the profiled total); the wall time per request is
measured separately, without the profiler.

    .venv/bin/python benchmarks/serving_profile.py --root DIR   # DIR holds data/ and mlruns/,
        # e.g. a `benchmarks/serving_load.py --workdir DIR` run

Figures: benchmarks/results/serving_profile.json (and printed).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.pipeline builds the Scorer exactly as the integration tests do

# stage -> (file suffix, function name); the outermost match (largest cumulative time) counts.
STAGES = {
    "scores": {
        "online_read": ("features/online.py", "read"),
        "predict_and_shap": ("training/registry.py", "explain"),
        "top_reasons": ("serving/scorer.py", "top_reasons"),
    },
    "next_best_action": {
        "online_read": ("features/online.py", "read"),
        "uplift_predict": ("training/uplift/bundle.py", "predict"),
        "decide": ("decisions/policy.py", "decide"),
    },
}
BATCH = {"scores": 100, "next_best_action": 1}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="Folder holding data/ and mlruns/.")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "serving_profile.json")
    return parser.parse_args(argv)


def profile(call: Any, batches: list[list[int]], stages: dict[str, tuple[str, str]]) -> dict[str, Any]:
    for ids in batches[:20]:  # warm caches and lazy imports outside the measurement
        call(ids)
    started = time.perf_counter()
    for ids in batches:
        call(ids)
    wall_ms = (time.perf_counter() - started) * 1000 / len(batches)
    profiler = cProfile.Profile()
    profiler.enable()
    for ids in batches:
        call(ids)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in stats.values())
    shares = {stage: _cumulative(stats, *where) / total for stage, where in stages.items()}
    shares["rest"] = 1 - sum(shares.values())
    return {
        "wall_ms_per_request": round(wall_ms, 3),
        "share": {k: round(v, 3) for k, v in shares.items()},
        "ms_per_request_estimate": {k: round(v * wall_ms, 3) for k, v in shares.items()},
        "top_functions_by_own_time": _top(stats, total),
    }


def _cumulative(stats: dict[Any, Any], suffix: str, name: str) -> float:
    found = [
        ct for (file, _, func), (_, _, _, ct, _) in stats.items() if func == name and file.endswith(suffix)
    ]
    return max(found, default=0.0)


def _top(stats: dict[Any, Any], total: float, k: int = 15) -> list[dict[str, Any]]:
    rows = sorted(stats.items(), key=lambda item: -item[1][2])[:k]
    return [
        {"function": f"{Path(file).name}:{line}:{func}", "calls": nc, "own_share": round(tt / total, 3)}
        for (file, line, func), (_, nc, tt, _, _) in rows
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from tests.pipeline import in_process_scorer, make_pipeline

    scorer = in_process_scorer(make_pipeline(args.root.resolve()))
    ids = _all_ids(args.root)
    known = [cid for cid, fresh in zip(ids, scorer.reader.read(ids).fresh, strict=True) if fresh]
    rng = random.Random(args.seed)
    report: dict[str, Any] = {"benchmark": "serving_profile", "known_customers": len(known)}

    def scores_json(ids: list[int]) -> str:
        return scorer.score(ids).model_dump_json()

    calls = {"scores": scores_json, "next_best_action": scorer.next_best_action}
    for name, call in calls.items():
        batches = [rng.sample(known, BATCH[name]) for _ in range(args.requests)]
        stages = dict(STAGES[name])
        if name == "scores":
            stages["json_encoding"] = ("pydantic/main.py", "model_dump_json")
        report[name] = {"customers_per_request": BATCH[name], **profile(call, batches, stages)}
        print(f"{name} ({BATCH[name]} customers): {report[name]['wall_ms_per_request']:.2f} ms per request")
        for stage, ms in report[name]["ms_per_request_estimate"].items():
            print(f"  {stage:<20} {ms:7.2f} ms  {report[name]['share'][stage]:6.1%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"figures written to {args.out}")
    return 0


def _all_ids(root: Path) -> list[int]:
    import pyarrow.parquet as pq

    table = pq.read_table(root / "data" / "raw" / "customers.parquet", columns=["customer_id"])
    return [int(cid) for cid in table.column("customer_id").to_pylist()]


if __name__ == "__main__":
    sys.exit(main())
