"""Online read latency: Feast's stock read and the serving reader, each against the raw lookup.

Every reader runs on the same requests, interleaved request by request (the first reader rotates), so
drift on a shared machine hits all alike and each ratio compares like with like.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from feature_store_raw import SERVICE, RawLookup, entity_key_bytes

log = logging.getLogger("benchmarks.feature_store")

GOAL_RATIO = 2.0
# Feast's read, and the reader serving uses: each is held to the goal against the raw lookup.
PATHS = {"feast": "Feast get_online_features", "reader": "features.online.OnlineReader.read"}


@dataclass(frozen=True)
class Request:
    ids: list[int]
    rows: list[dict[str, int]]  # Feast entity rows
    keys: list[bytes]  # the same customers as the raw store's keys, serialized before timing


Reader = Callable[[Request], object]


def make_requests(
    kind: str, store: Any, ids: np.ndarray, batch: int, count: int, rng: np.random.Generator
) -> list[Request]:
    from features.definitions import CUSTOMER_KEY

    requests = []
    for _ in range(count):
        chosen = [int(i) for i in rng.choice(ids, size=batch, replace=False)]
        keys = [entity_key_bytes(kind, store, i) for i in chosen]
        requests.append(Request(chosen, [{CUSTOMER_KEY: i} for i in chosen], keys))
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


def check_reads(store: Any, reader: Any, lookup: RawLookup, request: Request) -> None:
    """Fail before timing if a reader would read nothing or the two Feast paths disagree."""
    service = store.get_feature_service(SERVICE)
    features = sum(len(p.features) for p in service.feature_view_projections)
    response = store.get_online_features(features=service, entity_rows=request.rows).to_dict()
    if any(value is None for value in response["tenure_days"]):
        raise RuntimeError(f"Feast returned no profile for some of {request.ids[:3]}...")
    if not lookup.looks_complete(lookup.fetch(request.keys), len(request.keys), features):
        raise RuntimeError("the raw lookup did not find every feature; are the keys built like Feast's?")
    frame = reader.read(request.ids).features
    for name, values in response.items():
        ours = frame[name].tolist()
        if not all(map(_same, values, ours)):
            raise RuntimeError(f"OnlineReader and Feast disagree on {name}: {values[:3]} vs {ours[:3]}")


def _same(feast: Any, ours: Any) -> bool:
    """Feast's None is the reader's NaN in a float column."""
    if feast is None:
        return ours is None or (isinstance(ours, float) and math.isnan(ours))
    return bool(feast == ours)


def measure_latency(
    kind: str, store: Any, lookup: RawLookup, ids: np.ndarray, batch: int, args: argparse.Namespace
) -> dict[str, object]:
    from features.online import OnlineReader

    rng = np.random.default_rng(args.seed + batch)
    requests = make_requests(kind, store, ids, batch, args.warmup + args.requests, rng)
    reader = OnlineReader(store, SERVICE, time.time)
    check_reads(store, reader, lookup, requests[0])
    service = store.get_feature_service(SERVICE)
    readers: dict[str, Reader] = {
        "feast": lambda r: store.get_online_features(features=service, entity_rows=r.rows),
        "reader": lambda r: reader.read(r.ids),
        "raw": lambda r: lookup.fetch(r.keys),
        # The raw bytes still need protobuf decoding, which the Feast figures include: this bounds how
        # much of a gap is decoding value by value rather than the reader's own work.
        "raw_decoded": lambda r: lookup.decode(lookup.fetch(r.keys)),
    }
    load_before = os.getloadavg()[0]
    samples = time_readers(readers, requests, args.warmup)
    # Other work on the machine shows up in the tails; record it rather than pretend it away.
    load = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    stats = {f"{name}_ms": percentiles_ms(values) for name, values in samples.items()}
    ratios = {
        path: {q: round(stats[f"{path}_ms"][q] / stats["raw_ms"][q], 2) for q in ("p50", "p95", "p99")}
        for path in PATHS
    }
    for path, ratio in ratios.items():
        log.info(
            "%s, %d per request: %s p50 %.2f ms, raw p50 %.2f ms (x%.1f)",
            *(kind, batch, path, stats[f"{path}_ms"]["p50"], stats["raw_ms"]["p50"], ratio["p50"]),
        )
    return {
        "customers_per_request": batch,
        "requests": args.requests,
        **stats,
        **{f"ratio_{path}_to_raw": ratio for path, ratio in ratios.items()},
        **{
            f"goal_met_{path}": {q: ratio[q] <= GOAL_RATIO for q in ("p50", "p99")}
            for path, ratio in ratios.items()
        },
        "load_avg_1m_before_after": load,
    }
