"""Cross-process locks on this machine, for the read-change-write steps several workers may run."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if absent) until the block ends.

    flock locks an open file description, so threads of one process exclude each other too; the
    lock goes when the file is closed, also when its holder dies. Not re-entrant: a holder that
    asks again waits for itself.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
