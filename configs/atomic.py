"""Writes a reader sees whole or not at all: build beside the target, then rename onto it.

A rename within one folder is atomic, so the target is either the old version or the new one, and
a write that fails leaves the old version as it was and no temporary file or folder behind.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _beside(path: Path, kind: str) -> Path:
    # Unique per writer: two writers of one target at once each build their own version.
    return path.with_name(f".{path.name}.{kind}-{secrets.token_hex(4)}")


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary file name beside `path` to write to; it replaces `path` when the block
    ends, and is removed instead if the block fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = _beside(path, "tmp")
    try:
        yield staged
        os.replace(staged, path)
    finally:
        staged.unlink(missing_ok=True)


@contextmanager
def staging_folder(dest: Path) -> Iterator[Path]:
    """Yield a new empty folder beside `dest` to build its next version in; whatever of it is still
    there when the block ends is removed, so rename it onto `dest` (`swap_in`) inside the block."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = _beside(dest, "staging")
    staging.mkdir()
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def swap_in(staging: Path, dest: Path) -> None:
    """Replace folder `dest` with the complete folder `staging` (the old one goes only after).

    On Linux the two folders trade names in one atomic step, so a reader always finds a whole
    `dest`. Elsewhere (or on a file system without the exchange) they are two renames, and between
    them a reader finds no `dest`. Writers of one folder must hold its lock.
    """
    if dest.exists() and _exchange(staging, dest):
        shutil.rmtree(staging, ignore_errors=True)  # now the old version
        return
    retired = _beside(dest, "retired")
    if dest.exists():
        dest.rename(retired)
    try:
        staging.rename(dest)
    except BaseException:
        if retired.exists():  # the old version back under its name, not a folder nobody reads
            retired.rename(dest)
        raise
    shutil.rmtree(retired, ignore_errors=True)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap the names of `a` and `b` atomically (Linux renameat2); False where that is unsupported.

    The standard library has no call for it, so it goes through the C library."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # not glibc >= 2.28
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # a file system without the exchange
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))
