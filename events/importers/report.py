"""What an import read, dropped and wrote: returned by every importer, printed by the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ImportReport:
    """Rows read from `source`, rows dropped per reason, rows written per contract table.

    `notes` carry what a reader of the imported data must know (assumptions, side files).
    """

    source: Path
    dest: Path
    rows_read: int
    dropped: Mapping[str, int]
    tables: Mapping[str, int]
    seconds: float
    notes: tuple[str, ...] = field(default=())

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())

    def describe(self) -> str:
        lines = [
            f"imported {self.source} -> {self.dest} in {self.seconds:.1f}s",
            f"  rows read: {self.rows_read:,}; dropped: {self.rows_dropped:,}",
        ]
        lines += [f"    {reason}: {n:,}" for reason, n in self.dropped.items() if n]
        lines.append("  tables written:")
        lines += [f"    {name}: {n:,} rows" for name, n in self.tables.items()]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)
