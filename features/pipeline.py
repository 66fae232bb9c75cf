"""Contract tables -> one timestamped snapshot table per feature view.

Snapshots are taken every `snapshot_every_days` from the first sign-up, plus one just after the
last event ("latest"). Two kinds of rows complete them: every customer's row at sign-up (nothing
done yet), so a join at any time after sign-up finds a row in every view; and each campaign
assignment's row at its assigned time, so uplift models learn from what was known when the
decision was made, not from a snapshot up to a week older. Every row at time t is computed from
events strictly before t, so a point-in-time join on t never sees the future. Events are indexed
once (features/event_index.py) and each snapshot is computed and appended to parquet in turn, so
memory stays bounded by one snapshot of the population.
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import Progress

from configs.atomic import replacing
from configs.schema import FeaturesConfig
from events.calendar import grid_after
from features.catalog import REALTIME, STRING_FEATURES, VIEWS, ViewSpec
from features.snapshot import (
    Columns,
    Indices,
    Population,
    Snapshot,
    activity_columns,
    affinity_columns,
    early_life_columns,
    habits_columns,
    profile_columns,
    realtime_columns,
    value_columns,
)
from features.sources import (
    BASE,
    connect,
    last_event_time,
    load_assignments,
    load_indices,
    load_population,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeatureBuildReport:
    out_dir: Path
    rows: int
    customers: int
    snapshots: int
    features: int
    seconds: float

    def describe(self) -> str:
        return (
            f"built {len(VIEWS)} feature views, {self.features} features, {self.rows:,} rows each "
            f"({self.customers:,} customers, {self.snapshots} snapshots) in {self.seconds:.1f}s "
            f"-> {self.out_dir}"
        )


def snapshot_times(first: pd.Timestamp, last: pd.Timestamp, every_days: int) -> list[pd.Timestamp]:
    """Calendar-grid midnights after `first` (events.calendar), plus the midnight after `last`."""
    end = last.normalize() + pd.Timedelta(days=1)
    grid = grid_after(first, end, every_days)
    return grid if grid and grid[-1] == end else [*grid, end]


def build_features(
    config: FeaturesConfig, raw_dir: Path, out_dir: Path, progress: bool = True
) -> FeatureBuildReport:
    """Write every view in the catalog to `out_dir`/<view>.parquet (each replaced whole)."""
    started = time.perf_counter()
    con = connect(raw_dir)
    population = load_population(con)
    indices = load_indices(con, population, config.top_categories)
    first_signup = BASE + pd.Timedelta(seconds=int(population.signup.min()))
    times = snapshot_times(first_signup, last_event_time(indices), config.snapshot_every_days)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = 0
    with ExitStack() as stack, Progress(disable=not progress) as bar:
        writers: dict[str, _ViewWriter] = {}
        for spec in (*VIEWS, REALTIME):
            # Each view's file lands only if the whole build succeeds, after its writer is closed.
            staged = stack.enter_context(replacing(out_dir / spec.file))
            writers[spec.name] = stack.enter_context(_ViewWriter(spec, staged))
        task = bar.add_task("feature snapshots", total=len(times))
        snapshot_seconds = [int((stamp - BASE).total_seconds()) for stamp in times]
        for stamp, t in zip(times, snapshot_seconds, strict=True):
            snap = _snapshot(population, t, int(BASE.timestamp()))
            for view, columns in _compute(snap, population, indices).items():
                writers[view].append(population.ids[snap.customers], stamp, columns)
            rows += len(snap.customers)
            bar.advance(task)
        for customers, moments in (_signups(population), _decisions(con, population, snapshot_seconds)):
            _append_moments(writers, population, indices, customers, moments)
            rows += len(customers)
    features = sum(len(view.features) for view in VIEWS)
    seconds = time.perf_counter() - started
    log.info("feature build: %d rows x %d features in %.1fs", rows, features, seconds)
    return FeatureBuildReport(out_dir, rows, len(population.ids), len(times), features, seconds)


def _append_moments(
    writers: dict[str, _ViewWriter],
    population: Population,
    indices: Indices,
    customers: np.ndarray,
    moments: np.ndarray,
) -> None:
    """Every view's row of each customer at its own moment, in slices no larger than a snapshot
    (memory stays bounded by one)."""
    step = len(population.ids)
    for start in range(0, len(customers), step):
        who, when = customers[start : start + step], moments[start : start + step]
        at = Snapshot(when, who, population.signup[who], int(BASE.timestamp()))
        for view, columns in _compute(at, population, indices).items():
            writers[view].append(population.ids[who], _stamps(when), columns)


def _signups(population: Population) -> tuple[np.ndarray, np.ndarray]:
    """(customers, times) of every sign-up: who a customer is, and that they have done nothing
    yet, is known from then on. Without these rows an entity row whose customer's every feature
    row is newer than it (a welcome offer sent before the first snapshot after sign-up) gets no
    features: training.dataset.training_frame refuses it."""
    return np.arange(len(population.ids)), population.signup


def _decisions(
    con: duckdb.DuckDBPyConnection, population: Population, snapshot_seconds: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """(customers, times) of every logged campaign assignment not already at a snapshot time."""
    customers, seconds = load_assignments(con, population)
    at_snapshot = np.isin(seconds, snapshot_seconds)
    keep = ~at_snapshot & (population.signup[customers] < seconds)
    return customers[keep], seconds[keep]


def _stamps(seconds: np.ndarray) -> np.ndarray:
    return (BASE + pd.to_timedelta(seconds, unit="s")).to_numpy()


def _snapshot(population: Population, t: int, base_epoch_s: int) -> Snapshot:
    customers = np.flatnonzero(population.signup < t)
    return Snapshot(t, customers, population.signup[customers], base_epoch_s)


def _compute(snap: Snapshot, population: Population, indices: Indices) -> dict[str, Columns]:
    return {
        "customer_profile": profile_columns(snap, population),
        "customer_activity": activity_columns(snap, indices),
        "customer_value": value_columns(snap, indices),
        "customer_affinity": affinity_columns(snap, indices),
        "customer_early_life": early_life_columns(snap, indices),
        "customer_habits": habits_columns(snap, indices),
        "customer_realtime": realtime_columns(snap, indices),
    }


class _ViewWriter:
    """Appends snapshots of one view to the parquet file `path` as row groups."""

    def __init__(self, view: ViewSpec, path: Path) -> None:
        self.path = path
        fields = [
            pa.field("customer_id", pa.int64()),
            pa.field("event_timestamp", pa.timestamp("us", "UTC")),
        ]
        fields += [
            pa.field(name, pa.string() if name in STRING_FEATURES else pa.float64()) for name in view.features
        ]
        self.schema = pa.schema(fields)
        self.writer: pq.ParquetWriter | None = None

    def __enter__(self) -> _ViewWriter:
        self.writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        return self

    def append(self, ids: np.ndarray, stamp: pd.Timestamp | np.ndarray, columns: Columns) -> None:
        assert self.writer is not None
        if not len(ids):  # an empty row group has no statistics, which data_now reads
            return
        stamps = stamp if isinstance(stamp, np.ndarray) else np.full(len(ids), stamp.to_datetime64())
        arrays = {
            "customer_id": ids,
            "event_timestamp": stamps,
            **columns,
        }
        self.writer.write_table(pa.table(arrays, schema=self.schema))

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self.writer is not None
        self.writer.close()
