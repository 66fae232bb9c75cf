"""What a simulation wrote: returned by simulate(), printed by `nudge simulate`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SimulationSummary:
    customers: int
    days: int
    seed: int
    rows: Mapping[str, int]  # contract table -> rows written
    truth_rows: Mapping[str, int]  # ground-truth file -> rows written
    seconds: float
    raw_dir: Path
    truth_dir: Path

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def customer_days_per_second(self) -> float:
        return self.customers * self.days / self.seconds if self.seconds > 0 else float("inf")

    def describe(self) -> str:
        lines = [
            f"simulated {self.customers:,} customers x {self.days} days (seed {self.seed}) "
            f"in {self.seconds:.1f}s",
            f"  raw tables -> {self.raw_dir}",
        ]
        lines += [f"    {name:<22}{n:>14,} rows" for name, n in self.rows.items()]
        lines.append(f"  ground truth (evaluation only) -> {self.truth_dir}")
        lines += [f"    {name:<22}{n:>14,} rows" for name, n in self.truth_rows.items()]
        return "\n".join(lines)
