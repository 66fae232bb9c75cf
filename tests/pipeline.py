"""Run the real pipeline through the `nudge` CLI into a temporary folder (shared by slow tiers)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from configs.process import TELEMETRY_OFF
from configs.runtime import RuntimePaths, runtime_paths

if TYPE_CHECKING:
    from serving.scorer import Scorer

NUDGE = str(Path(sys.executable).with_name("nudge"))


@dataclass(frozen=True)
class Pipeline:
    root: Path
    env: dict[str, str]

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def paths(self) -> RuntimePaths:
        """Where the pipeline's `nudge` runs read and write: its data folder and MLflow registry."""
        return runtime_paths(self.env)

    def run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [NUDGE, *args], env=env or self.env, cwd=self.root, capture_output=True, text=True, timeout=600
        )
        if check and result.returncode != 0:
            raise AssertionError(f"nudge {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result


def make_pipeline(root: Path) -> Pipeline:
    env = {
        **os.environ,
        **TELEMETRY_OFF,
        "NUDGE_DATA_DIR": str(root / "data"),
        "NUDGE_MLRUNS_DIR": str(root / "mlruns"),
        # A short search keeps the suite fast; tuning itself is covered by its own tests.
        "NUDGE_TRAINING__TUNING__TRIALS": "3",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    return Pipeline(root, env)


def run_skeleton(pipeline: Pipeline, customers: int = 3000, days: int = 150) -> None:
    pipeline.run("simulate", "--customers", str(customers), "--days", str(days), "--seed", "11")
    pipeline.run("features", "build")
    pipeline.run("features", "apply")
    pipeline.run("features", "materialize")
    pipeline.run("train", "--task", "all")


def in_process_scorer(pipeline: Pipeline, clock: Callable[[], float] | None = None) -> Scorer:
    """The service's Scorer over the pipeline's store and registry, without a server."""
    from configs.loader import load_config
    from configs.schema import ActionsConfig, ServingConfig
    from serving.scorer import open_scorer

    config = ServingConfig(reload_interval_s=0, clock="data")
    return open_scorer(config, pipeline.paths, load_config("actions", ActionsConfig), clock)
