import numpy as np
import pytest

from training.calibration import CalibrationMap, fit_isotonic


def test_isotonic_map_fixes_overconfident_scores_and_round_trips() -> None:
    rng = np.random.default_rng(0)
    truth = rng.uniform(0.05, 0.6, 20_000)
    labels = (rng.random(truth.size) < truth).astype(int)
    overconfident = truth**0.5  # monotone distortion: ranking kept, probabilities too high
    mapping = fit_isotonic(overconfident, labels)
    calibrated = mapping.apply(overconfident)
    assert abs(calibrated.mean() - labels.mean()) < 0.01
    assert abs(overconfident.mean() - labels.mean()) > 0.2
    assert np.all(np.diff(mapping.calibrated) >= 0)
    again = CalibrationMap.from_dict(mapping.to_dict())
    assert np.array_equal(again.apply(overconfident), calibrated)


def test_single_class_labels_are_rejected() -> None:
    with pytest.raises(ValueError, match="both classes"):
        fit_isotonic(np.array([0.1, 0.2]), np.array([1, 1]))
