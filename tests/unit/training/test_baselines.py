import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from training.baselines import BgNbdBaseline, LogisticBaseline, RfmRuleBaseline


def _ranks_as(scores: np.ndarray, expected_order: list[int]) -> bool:
    """True if the rows listed in expected_order have strictly increasing scores."""
    return bool(np.all(np.diff(scores[expected_order]) > 0))


def test_churn_rule_rises_with_days_since_last_order_and_falls_with_orders() -> None:
    X = pd.DataFrame(
        {
            "days_since_last_orders": [5.0, 40.0, 40.0, 40.0, np.nan],
            "orders_total": [1.0, 1.0, 3.0, 10.0, 0.0],
        }
    )
    score = RfmRuleBaseline("churn").decision_function(X)
    # More recent < less recent at one order; at 40 days more orders mean less risk; never
    # ordered (missing recency) ranks as the most lapsed.
    assert _ranks_as(score, [0, 1]) and _ranks_as(score, [3, 2, 1]) and score[4] == score.max()


def test_conversion_rule_rewards_cart_adds_views_and_recent_visits() -> None:
    X = pd.DataFrame(
        {
            "cart_adds_30d": [0.0, 2.0, 2.0, 2.0],
            "views_7d": [0.0, 0.0, 5.0, 5.0],
            "days_since_last_sessions": [1.0, 1.0, 20.0, 1.0],
        }
    )
    score = RfmRuleBaseline("conversion").decision_function(X)
    assert _ranks_as(score, [0, 1, 3]) and _ranks_as(score, [2, 3])


def test_vip_rule_ranks_by_early_spend_then_orders_and_visits() -> None:
    X = pd.DataFrame(
        {
            "revenue_first_30d": [0.0, 50.0, 50.0, 500.0],
            "orders_first_30d": [0.0, 1.0, 1.0, 1.0],
            "sessions_first_30d": [1.0, 2.0, 8.0, 2.0],
        }
    )
    assert _ranks_as(RfmRuleBaseline("vip").decision_function(X), [0, 1, 2, 3])


def test_rule_fit_calibrates_probabilities_and_keeps_the_rule_ranking() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    X = pd.DataFrame(
        {
            "days_since_last_orders": rng.exponential(40, n),
            "orders_total": rng.integers(1, 8, n).astype(float),
        }
    )
    rule = RfmRuleBaseline("churn")
    y = (rng.random(n) < 1 / (1 + np.exp(-(rule.decision_function(X) - 2.5)))).astype(int)
    proba = rule.fit(X, y).predict_proba(X)
    assert proba.shape == (n, 2) and np.allclose(proba.sum(axis=1), 1)
    assert proba.min() > 0 and proba.max() < 1
    assert abs(proba[:, 1].mean() - y.mean()) < 0.01
    assert roc_auc_score(y, proba[:, 1]) == pytest.approx(roc_auc_score(y, rule.decision_function(X)))


def test_rule_rejects_unknown_tasks_and_missing_columns() -> None:
    X = pd.DataFrame({"orders_total": [1.0, 2.0]})
    with pytest.raises(ValueError, match="allowed: churn, conversion, vip"):
        RfmRuleBaseline("ltv").fit(X, [0, 1])
    with pytest.raises(ValueError, match="days_since_last_orders"):
        RfmRuleBaseline("churn").fit(X, [0, 1])


def _planted(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    signal, noise = rng.normal(size=n), rng.normal(size=n)
    X = pd.DataFrame(
        {
            "sessions_30d": np.where(rng.random(n) < 0.2, np.nan, signal),
            "noise": noise,
            "all_missing": np.nan,
            "region": rng.choice(["north", "south"], n),
            "device": pd.Series(rng.choice(["ios", "web"], n), dtype="category"),
        }
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * signal))).astype(int)
    return X, y


def test_logistic_baseline_finds_a_planted_signal_and_ignores_string_features() -> None:
    rng = np.random.default_rng(1)
    (train_x, train_y), (test_x, test_y) = _planted(3000, rng), _planted(2000, rng)
    model = LogisticBaseline().fit(train_x, train_y)
    assert "region" not in model.columns_ and "device" not in model.columns_
    # Online reads deliver numbers in object columns with None for nulls.
    test_x["noise"] = test_x["noise"].astype(object).where(rng.random(len(test_x)) > 0.1, None)
    proba = model.predict_proba(test_x)
    assert proba.shape == (len(test_x), 2) and not np.isnan(proba).any()
    assert roc_auc_score(test_y, proba[:, 1]) > 0.75


def _bgnbd_world(n: int, rng: np.random.Generator, horizon: float) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers drawn from the BG/NBD story, observed T days after their first order, and whether
    they order in the `horizon` days after that."""
    lam, p = rng.gamma(0.8, 1 / 20, n), rng.beta(1.0, 4.0, n)
    T = rng.uniform(30, 200, n)
    t, x, alive, going = np.zeros(n), np.zeros(n), np.ones(n, bool), np.ones(n, bool)
    while going.any():
        nxt = t + rng.exponential(1 / lam)
        going &= nxt <= T
        t, x = np.where(going, nxt, t), x + going
        dies = going & (rng.random(n) < p)
        alive &= ~dies
        going &= ~dies
    quiet = ~alive | (rng.exponential(1 / lam) > horizon)
    X = pd.DataFrame({"orders_total": x + 1, "days_since_first_order": T, "days_since_last_orders": T - t})
    return X, quiet.astype(int)


def test_bgnbd_fits_simulated_buyers_and_gives_lapsed_customers_higher_churn() -> None:
    rng = np.random.default_rng(2)
    X, churned = _bgnbd_world(4000, rng, horizon=30)
    model = BgNbdBaseline(horizon_days=30).fit(X)
    assert model.r_ / model.alpha_ == pytest.approx(0.8 / 20, rel=0.25)
    proba = model.predict_proba(X)[:, 1]
    assert roc_auc_score(churned, proba) > 0.75
    assert abs(proba.mean() - churned.mean()) < 0.03
    # Same five repeat orders over 150 days: the one silent for 120 days is likelier gone.
    pair = pd.DataFrame(
        {"orders_total": [6, 6], "days_since_first_order": [150, 150], "days_since_last_orders": [5, 120]}
    )
    alive, churn = model.p_alive(pair), model.predict_proba(pair)[:, 1]
    assert alive[1] < alive[0] and churn[1] > churn[0]


def test_bgnbd_gives_customers_without_a_repeat_order_the_population_prior() -> None:
    X, _ = _bgnbd_world(1000, np.random.default_rng(3), horizon=30)
    model = BgNbdBaseline(horizon_days=30).fit(X)
    never = pd.DataFrame(
        {"orders_total": [0.0], "days_since_first_order": [np.nan], "days_since_last_orders": [np.nan]}
    )
    assert model.p_alive(never)[0] == 1.0
    expected = (model.alpha_ / (model.alpha_ + 30)) ** model.r_
    assert model.predict_proba(never)[0, 1] == pytest.approx(expected)


def test_bgnbd_names_the_history_columns_it_needs() -> None:
    X, _ = _bgnbd_world(100, np.random.default_rng(4), horizon=30)
    with pytest.raises(ValueError, match="days_since_first_order"):
        BgNbdBaseline().fit(X.drop(columns="days_since_first_order"))
