"""simulate(): run the shop, then write raw tables and ground truth, each all or nothing."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from configs.atomic import staging_folder
from configs.schema import SimulationConfig
from events.simulator import engine
from events.simulator.ground_truth import assignment_truth, publish, write_truth
from events.simulator.summary import SimulationSummary
from events.simulator.tables import contract_tables
from events.store import write_dataset

log = logging.getLogger(__name__)


def simulate(
    config: SimulationConfig, raw_dir: Path, truth_dir: Path, progress: bool = True
) -> SimulationSummary:
    """Simulate `config` into contract tables at `raw_dir` and ground truth at `truth_dir`.

    The same config gives byte-identical tables. Ground truth lands in its own folder so nothing
    that reads the raw data can see it. Either both folders are replaced or neither is.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    world = engine.run(config, rng, progress=progress)
    tables = contract_tables(rng, world)
    truth = {
        "traits": world.traits.frame(),
        "cutoffs": world.cutoffs.frame(),
        "assignments": assignment_truth(world.campaigns),
    }
    # The truth is staged first and published only once the raw tables are written.
    with staging_folder(truth_dir) as staging:
        write_truth(truth, config, staging)
        rows = write_dataset(tables, raw_dir)
        publish(staging, truth_dir)
    summary = SimulationSummary(
        customers=config.customers,
        days=config.days,
        seed=config.seed,
        rows=rows,
        truth_rows={name: len(frame) for name, frame in truth.items()},
        seconds=time.perf_counter() - started,
        raw_dir=raw_dir,
        truth_dir=truth_dir,
    )
    log.info("simulation done in %.1fs: %d rows", summary.seconds, summary.total_rows)
    return summary
