"""Which campaigns an action's uplift model learns from: every channel's, or its decision channel's
alone when its estimates gain more on the decision channel's test rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from configs.schema import LightGBMParams, UpliftConfig
from training.uplift.metrics import targeted_gain
from training.uplift.pipeline import better_on_channel, own_channel_split
from training.uplift.trainer import ActionResult, fit_action, split_action

CONFIG = UpliftConfig(
    min_rows=300,
    learners=("shift",),
    baselines=(),
    bootstrap=20,
    cv_folds=2,
    lightgbm=LightGBMParams(n_estimators=100, num_leaves=7, min_child_samples=100, n_jobs=1),
)
COLUMNS = ["x1", "x2"]


def alternating_channels(n: int = 12_000, push_harm: float = -2.0, seed: int = 11) -> pd.DataFrame:
    """A reminder sent by push one week and by KakaoTalk the next, 56 days. Both lift orders, except
    that a push moves the quiet customers (x2 > 1) by `push_harm` instead."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    day = np.arange(n) % 56
    channel = np.where((day // 7) % 2 == 0, "push", "kakao")
    treated = rng.integers(0, 2, n)
    effect = np.where((channel == "push") & (x2 > 1.0), push_harm, 0.8)
    converted = rng.uniform(size=n) < 1 / (1 + np.exp(1.0 - 0.5 * x1 - treated * effect))
    return pd.DataFrame(
        {
            "action": "cross_sell_reminder",
            "x1": x1,
            "x2": x2,
            "channel": channel,
            "treated": treated,
            "propensity": 0.5,
            "converted": converted.astype(int),
            "event_timestamp": pd.Timestamp("2025-01-01") + pd.to_timedelta(day, unit="D"),
        }
    )


def test_the_own_channel_split_keeps_the_pooled_test_days() -> None:
    pooled = split_action(alternating_channels(3000), CONFIG.test_share)
    own = own_channel_split(pooled, "push", CONFIG)
    assert own is not None
    assert set(own.train["channel"]) == set(own.test["channel"]) == {"push"}
    assert own.test_from == pooled.test_from
    assert own.test.index.equals(pooled.test.index[pooled.test["channel"] == "push"])
    assert own.train.index.equals(pooled.train.index[pooled.train["channel"] == "push"])


@pytest.mark.parametrize(
    ("rows", "channel"),
    [
        (alternating_channels(3000).assign(channel="push"), "push"),  # one channel: nothing to cut
        (alternating_channels(3000), "email"),  # never sent on the decision channel
        (alternating_channels(3000).iloc[:400], "push"),  # too few rows on it alone
    ],
)
def test_no_own_channel_split_where_there_is_nothing_to_tell_apart(rows: pd.DataFrame, channel: str) -> None:
    assert own_channel_split(split_action(rows, CONFIG.test_share), channel, CONFIG) is None


def scored(scores: np.ndarray, y: np.ndarray, t: np.ndarray) -> ActionResult:
    return ActionResult("a", "shift", {}, {}, {}, test_y=y, test_treatment=t, test_scores={"shift": scores})


def test_a_tie_on_the_decision_channel_keeps_the_pooled_model() -> None:
    rng = np.random.default_rng(0)
    y, t, s = rng.integers(0, 2, 400), rng.integers(0, 2, 400), rng.normal(size=400)
    on_channel = np.arange(400) < 200
    tied = targeted_gain(y[on_channel], s[on_channel], t[on_channel])
    pooled, own = scored(s, y, t), scored(s[on_channel], y[on_channel], t[on_channel])
    pooled_model, own_model = object(), object()
    chosen, model = better_on_channel((pooled, pooled_model), (own, own_model), on_channel, "push", 50, 0)  # type: ignore[arg-type]
    assert model is pooled_model and chosen.channel == ""
    gain = chosen.channel_gain
    assert gain["every_channel"] == gain["own_channel"] == tied
    assert gain["difference_low"] == gain["difference_high"] == 0


def test_a_gain_within_the_noise_keeps_the_pooled_model() -> None:
    rng = np.random.default_rng(1)
    y, t = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    on_channel = np.ones(400, dtype=bool)
    # The own model leaves out a random tenth of the rows the pooled one contacts.
    pooled_scores, own_scores = np.ones(400), np.where(rng.random(400) < 0.1, -1.0, 1.0)
    pooled, own = scored(pooled_scores, y, t), scored(own_scores, y, t)
    chosen, model = better_on_channel((pooled, "p"), (own, "o"), on_channel, "push", 200, 0)  # type: ignore[arg-type]
    assert model == "p"
    assert chosen.channel_gain["difference_low"] < 0 < chosen.channel_gain["difference_high"]


@pytest.mark.parametrize(("push_harm", "learns_from"), [(-2.0, "push"), (0.8, "")])
def test_an_action_learns_from_its_own_channel_only_where_that_gains_more_there(
    push_harm: float, learns_from: str
) -> None:
    rows = alternating_channels(push_harm=push_harm)
    pooled = split_action(rows, CONFIG.test_share)
    own = own_channel_split(pooled, "push", CONFIG)
    assert own is not None
    on_push = (pooled.test["channel"] == "push").to_numpy()
    result, model = better_on_channel(
        fit_action("cross_sell_reminder", pooled, COLUMNS, CONFIG, 0, None),
        fit_action("cross_sell_reminder", own, COLUMNS, CONFIG, 0, None),
        on_push,
        "push",
        CONFIG.bootstrap,
        0,
    )
    assert result.channel == learns_from
    gain = result.channel_gain
    assert (gain["difference_low"] > 0) == bool(learns_from)
    assert gain["difference_low"] <= gain["own_channel"] - gain["every_channel"] <= gain["difference_high"]
    assert ("learned from its channel's campaigns alone (push)" in result.describe()) == bool(learns_from)
    quiet, _ = model.predict(pd.DataFrame({"x1": [0.0, 0.5, -0.5], "x2": [1.8, 2.2, 1.5]}))
    if learns_from:  # the push's harm, undiluted by the KakaoTalk weeks
        assert (quiet < 0).all()
    else:
        assert (quiet > 0).all()
