"""The out-of-time split: held-out sets pool earlier cutoffs until each class has enough rows."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from configs.schema import TrainingConfig, VipTaskConfig
from training.tasks import Task, task_for
from training.trainer import _split

START = pd.Timestamp("2011-01-06", tz="UTC")


def _frame(positives: list[int], rows: int = 100) -> pd.DataFrame:
    """`rows` labelled rows per cutoff, oldest first, with the given positives at each; customer
    ids repeat across cutoffs as a real population's do."""
    parts = []
    for k, hits in enumerate(positives):
        label = np.zeros(rows, dtype="int64")
        label[:hits] = 1
        at = START + pd.Timedelta(days=14 * k)
        parts.append(
            pd.DataFrame({"customer_id": np.arange(rows), "event_timestamp": at, "became_vip": label})
        )
    return pd.concat(parts, ignore_index=True)


def _task(**vip: int) -> Task:
    return task_for("vip", TrainingConfig(vip=VipTaskConfig(**vip)))


def _cutoff(k: int) -> pd.Timestamp:
    return START + pd.Timedelta(days=14 * k)


def test_enough_rows_at_the_newest_cutoffs_keeps_the_configured_split() -> None:
    split = _split(_frame([40] * 10), _task())
    assert split.test_from == _cutoff(9)
    assert split.valid["event_timestamp"].unique().tolist() == [_cutoff(8)]
    assert len(split.fit) == 800


def test_a_rare_label_pools_test_cutoffs_until_both_classes_have_enough_rows() -> None:
    # Newest first the positives run 1, 2, 3, 30, ...: four cutoffs hold 36 >= 30.
    split = _split(_frame([30, 30, 30, 30, 30, 30, 30, 3, 2, 1]), _task())
    assert split.test_from == _cutoff(6)
    assert int(split.test["became_vip"].sum()) == 36
    # Validation: the newest cutoff left already holds 30 positives and 70 negatives.
    assert split.valid["event_timestamp"].unique().tolist() == [_cutoff(5)]


def test_negatives_count_too_and_the_threshold_is_configurable() -> None:
    split = _split(_frame([95] * 10), _task(min_class_rows=12))  # 5 negatives per cutoff
    assert split.test_from == _cutoff(7)  # 3 cutoffs: 15 negatives
    assert split.valid["event_timestamp"].nunique() == 3


def test_pooling_stops_at_half_the_cutoffs_and_the_test_set_is_flagged_later() -> None:
    split = _split(_frame([1] * 10), _task())
    assert split.test_from == _cutoff(5)  # 5 of 10 cutoffs, still only 5 positives
    assert int(split.test["became_vip"].sum()) == 5
    # Validation pools at most half of the 5 cutoffs left; training keeps 3.
    assert split.valid["event_timestamp"].unique().tolist() == [_cutoff(3), _cutoff(4)]
    assert split.fit["event_timestamp"].nunique() == 3


def test_pooling_never_takes_the_larger_share_of_a_class_from_training() -> None:
    # A short simulation: two test cutoffs would hold 44 of the 76 positives, so the test set
    # stays at one (23 positives, flagged as too small when evaluated) and training keeps 32.
    split = _split(_frame([0, 15, 17, 21, 23]), _task())
    assert split.test_from == _cutoff(4)
    assert split.valid["event_timestamp"].unique().tolist() == [_cutoff(3)]
    assert int(split.fit["became_vip"].sum()) == 32


def test_validation_reaches_back_over_a_single_class_cutoff() -> None:
    split = _split(_frame([20, 20, 20, 20, 20, 20, 20, 20, 0, 40]), _task(min_class_rows=1))
    assert split.test_from == _cutoff(9)
    assert split.valid["event_timestamp"].unique().tolist() == [_cutoff(7), _cutoff(8)]


def test_more_configured_test_cutoffs_are_a_floor(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="training.trainer"):
        split = _split(_frame([40] * 10), _task(test_cutoffs=3))
    assert split.test_from == _cutoff(7)
    # Pooled cutoffs repeat customers: the log says how many distinct ones carry the positives.
    assert "120 positive rows from 40 customers" in caplog.text


def test_too_few_cutoffs_or_a_single_class_part_is_an_error() -> None:
    with pytest.raises(ValueError, match="cutoffs"):
        _split(_frame([40, 40]), _task())
    with pytest.raises(ValueError, match="train labels are single-class"):
        _split(_frame([0, 0, 0, 0, 40, 40]), _task())
