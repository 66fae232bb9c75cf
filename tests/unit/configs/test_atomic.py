"""A write through configs.atomic lands whole or not at all, and never leaves a temporary behind."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from configs.atomic import replacing, staging_folder, swap_in


class Interrupted(Exception):
    """A write that fails halfway (a full disk, a killed job, a bad row)."""


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_replacing_puts_the_new_file_in_place_only_when_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.write_bytes(b"old")
    with replacing(target) as staged:
        assert staged.parent == tmp_path and staged != target
        staged.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # a reader meanwhile sees the old version whole
    assert target.read_bytes() == b"new"
    assert listing(tmp_path) == ["results.json"]


def test_replacing_creates_a_missing_target_and_its_folder(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "table.parquet"
    with replacing(target) as staged:
        staged.write_bytes(b"rows")
    assert target.read_bytes() == b"rows"
    assert listing(target.parent) == ["table.parquet"]


@pytest.mark.parametrize("written", [b"", b"half a fi"], ids=["before-writing", "mid-write"])
def test_a_failed_replacing_keeps_the_old_file_byte_identical_and_no_temporary(
    tmp_path: Path, written: bytes
) -> None:
    target = tmp_path / "results.json"
    target.write_bytes(b'{"lift": 0.3}')
    before = target.stat()
    with pytest.raises(Interrupted), replacing(target) as staged:
        if written:
            staged.write_bytes(written)
        raise Interrupted
    assert target.read_bytes() == b'{"lift": 0.3}'
    assert target.stat().st_ino == before.st_ino  # the very same file, not a copy of it
    assert listing(tmp_path) == ["results.json"]


def test_a_failed_replacing_of_a_missing_target_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(Interrupted), replacing(tmp_path / "new.csv") as staged:
        staged.write_text("a,b\n")
        raise Interrupted
    assert listing(tmp_path) == []


def test_two_writers_of_one_file_stage_under_their_own_names(tmp_path: Path) -> None:
    target = tmp_path / "scores.parquet"
    with replacing(target) as first, replacing(target) as second:
        assert first != second
        first.write_bytes(b"first")
        second.write_bytes(b"second")
    assert target.read_bytes() == b"first"  # the last to finish wins, whole
    assert listing(tmp_path) == ["scores.parquet"]


def test_a_failed_staging_folder_leaves_nothing_behind_and_the_old_folder_as_it_was(tmp_path: Path) -> None:
    dest = tmp_path / "raw"
    dest.mkdir()
    (dest / "orders.parquet").write_bytes(b"old orders")
    with pytest.raises(Interrupted), staging_folder(dest) as staging:
        assert staging.is_dir() and staging.parent == tmp_path and listing(staging) == []
        (staging / "orders.parquet").write_bytes(b"new ord")
        (staging / "nested").mkdir()
        (staging / "nested" / "part.parquet").write_bytes(b"x")
        raise Interrupted
    assert listing(tmp_path) == ["raw"]
    assert listing(dest) == ["orders.parquet"]
    assert (dest / "orders.parquet").read_bytes() == b"old orders"


def test_swap_in_replaces_a_folder_with_the_staged_one_whole(tmp_path: Path) -> None:
    dest = tmp_path / "truth"
    dest.mkdir()
    (dest / "traits.parquet").write_bytes(b"old traits")
    (dest / "stale.parquet").write_bytes(b"from an older version")
    with staging_folder(dest) as staging:
        (staging / "traits.parquet").write_bytes(b"new traits")
        (staging / "cutoffs.parquet").write_bytes(b"new cutoffs")
        swap_in(staging, dest)
    assert listing(dest) == ["cutoffs.parquet", "traits.parquet"]  # the stale file went with the old folder
    assert (dest / "traits.parquet").read_bytes() == b"new traits"
    assert listing(tmp_path) == ["truth"]  # no staging or retired folder left


def test_swap_in_creates_a_missing_folder(tmp_path: Path) -> None:
    dest = tmp_path / "campaigns" / "c-1"
    with staging_folder(dest) as staging:
        (staging / "summary.json").write_text("{}")
        swap_in(staging, dest)
    assert listing(dest) == ["summary.json"]
    assert listing(dest.parent) == ["c-1"]


def test_a_failed_swap_in_puts_the_old_folder_back(tmp_path: Path) -> None:
    dest = tmp_path / "raw"
    dest.mkdir()
    (dest / "orders.parquet").write_bytes(b"old orders")
    with pytest.raises(FileNotFoundError):
        swap_in(tmp_path / ".raw.staging-gone", dest)  # the staged version vanished (a cleanup job)
    assert listing(tmp_path) == ["raw"]  # no retired folder, and the old version under its name
    assert (dest / "orders.parquet").read_bytes() == b"old orders"


def test_a_reader_never_finds_the_folder_missing_while_it_is_swapped(tmp_path: Path) -> None:
    dest = tmp_path / "features"
    dest.mkdir()
    missing = 0
    done = threading.Event()

    def read() -> None:
        nonlocal missing
        while not done.is_set():
            missing += not dest.is_dir()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for version in range(300):
            with staging_folder(dest) as staging:
                (staging / "version").write_text(str(version))
                swap_in(staging, dest)
    finally:
        done.set()
        reader.join()
    assert missing == 0
    assert (dest / "version").read_text() == "299"
    assert listing(tmp_path) == ["features"]
