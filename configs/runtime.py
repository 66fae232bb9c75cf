"""Where things live at run time. Paths and URIs come from the environment only, read when asked."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RuntimePaths:
    data_dir: Path
    mlruns_dir: Path
    tracking_uri: str

    @property
    def raw(self) -> Path:
        return self.data_dir / "raw"

    @property
    def ground_truth(self) -> Path:
        return self.data_dir / "ground_truth"

    @property
    def features(self) -> Path:
        return self.data_dir / "features"

    @property
    def feature_repo(self) -> Path:
        return self.data_dir / "feature_repo"

    @property
    def score_tables(self) -> Path:
        return self.data_dir / "score_tables"


def runtime_paths(env: Mapping[str, str] = os.environ) -> RuntimePaths:
    """NUDGE_DATA_DIR (default ./data), NUDGE_MLRUNS_DIR (./mlruns), MLFLOW_TRACKING_URI, read
    from `env` (another process's environment, for one that launches it)."""
    data_dir = Path(env.get("NUDGE_DATA_DIR", "data")).resolve()
    mlruns = Path(env.get("NUDGE_MLRUNS_DIR", "mlruns")).resolve()
    uri = env.get("MLFLOW_TRACKING_URI") or f"sqlite:///{mlruns / 'mlflow.db'}"
    return RuntimePaths(data_dir=data_dir, mlruns_dir=mlruns, tracking_uri=uri)
