import numpy as np
import pytest

from features.event_index import EventIndex


@pytest.fixture
def index() -> EventIndex:
    customers = np.array([2, 0, 2, 2, 1, 0])
    seconds = np.array([50, 10, 10, 30, 5, 10])
    amounts = np.array([5.0, 1.0, 2.0, 3.0, 7.0, 4.0])
    return EventIndex.build(customers, seconds, amounts)


def test_counts_in_half_open_windows(index: EventIndex) -> None:
    customers = np.array([0, 1, 2, 3])
    assert index.count(customers, 0, 11).tolist() == [2, 1, 1, 0]
    assert index.count(customers, 0, 10).tolist() == [0, 1, 0, 0]  # end is exclusive
    assert index.count(customers, 10, 51).tolist() == [2, 0, 3, 0]  # start is inclusive
    assert index.count(np.array([2, 2]), np.array([0, 30]), np.array([31, 60])).tolist() == [2, 2]


def test_amounts_and_times(index: EventIndex) -> None:
    customers = np.array([0, 1, 2, 3])
    assert index.amount(customers, 0, 100).tolist() == [5.0, 7.0, 10.0, 0.0]
    last = index.last_before(customers, 30)
    assert last[:3].tolist() == [10.0, 5.0, 10.0] and np.isnan(last[3])
    first = index.first_time(customers)
    assert first[:3].tolist() == [10.0, 5.0, 10.0] and np.isnan(first[3])
    assert index.latest() == 50


def test_empty_index_answers_zero_and_nan() -> None:
    empty = EventIndex.build(np.array([], dtype=int), np.array([], dtype=int), np.array([]))
    assert empty.count(np.array([0, 1]), 0, 100).tolist() == [0, 0]
    assert np.isnan(empty.last_before(np.array([0]), 100)).all()
    assert np.isnan(empty.first_time(np.array([0]))).all()


def test_out_of_range_seconds_are_rejected() -> None:
    with pytest.raises(ValueError, match="2\\*\\*34"):
        EventIndex.build(np.array([0]), np.array([-1]), np.array([0.0]))
