"""Learner selection by cross-validated Qini: valid, deterministic, simplest on a tie."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.training.uplift.planted import planted_experiment
from training.uplift import selection
from training.uplift.selection import select_learner

FAST = {"n_jobs": 1, "n_estimators": 60}


def test_selection_returns_a_candidate_with_scores_and_is_deterministic() -> None:
    X, y, t, _ = planted_experiment(3000, seed=4)
    first = select_learner(X, y, t, 0.5, ["t", "s"], folds=3, seed=0, params=FAST)
    second = select_learner(X, y, t, 0.5, ["t", "s"], folds=3, seed=0, params=FAST)
    assert (first.best, first.scores, first.fold_scores) == (second.best, second.scores, second.fold_scores)
    for name, estimates in first.out_of_fold.items():
        np.testing.assert_array_equal(estimates, second.out_of_fold[name])
        assert estimates.shape == (len(y),) and np.isfinite(estimates).all()
    assert first.best in {"s", "t"}
    assert set(first.scores) == set(first.stds) == {"s", "t"}
    assert all(len(scores) == 3 for scores in first.fold_scores.values())
    # The planted effect is strong: held-out rankings beat random ones clearly.
    assert min(first.scores.values()) > 0.05
    top = max(first.scores, key=lambda name: first.scores[name])
    assert first.scores[first.best] >= first.scores[top] - first.stds[top] / np.sqrt(3) - 1e-12


def test_ties_go_to_the_simpler_learner(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y, t, _ = planted_experiment(300, seed=5)
    monkeypatch.setattr(selection, "_held_out_uplift", lambda *args: np.zeros(len(args[-1])))
    monkeypatch.setattr(selection, "qini_score", lambda *args: 0.1)
    assert (
        select_learner(X, y, t, None, ["dr", "x", "t", "class_transformation"]).best == "class_transformation"
    )


@pytest.mark.parametrize(
    ("folds_of", "chosen"),
    [
        # t leads by 0.01 with a fold spread of 0.05 (standard error 0.029): shift is tied, and simpler.
        ({"shift": [0.05, 0.10, 0.15], "t": [0.06, 0.11, 0.16]}, "shift"),
        # t leads by 0.05, outside one standard error: t.
        ({"shift": [0.05, 0.10, 0.15], "t": [0.14, 0.15, 0.16]}, "t"),
    ],
)
def test_learners_within_one_standard_error_of_the_best_count_as_tied(
    monkeypatch: pytest.MonkeyPatch, folds_of: dict[str, list[float]], chosen: str
) -> None:
    X, y, t, _ = planted_experiment(300, seed=5)
    names = list(folds_of)
    # Each learner's held-out estimate carries its name's index, so the fake Qini knows whose fold it scores.
    monkeypatch.setattr(
        selection, "_held_out_uplift", lambda name, *args: np.full(len(args[-1]), names.index(name))
    )
    scores = {name: iter(values) for name, values in folds_of.items()}
    monkeypatch.setattr(selection, "qini_score", lambda y, uplift, t: next(scores[names[int(uplift[0])]]))
    result = select_learner(X, y, t, None, ["t", "shift"], folds=3)
    assert result.fold_scores == folds_of
    assert result.best == chosen


@pytest.mark.parametrize(("names", "folds"), [(["s", "forest"], 3), ([], 3), (["s"], 1)])
def test_bad_candidates_or_folds_are_refused(names: list[str], folds: int) -> None:
    X, y, t, _ = planted_experiment(300, seed=5)
    with pytest.raises(ValueError, match=r"names must be|folds must be"):
        select_learner(X, y, t, None, names, folds=folds)


def test_per_row_propensities_follow_their_rows() -> None:
    X, y, t, _ = planted_experiment(1500, seed=6)
    result = select_learner(X, y, t, np.full(len(y), 0.5), ["dr"], folds=2, params=FAST)
    assert result.best == "dr"
