from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from configs.schema import ChurnTaskConfig, ConversionTaskConfig, SimulationConfig
from events.simulator import simulate
from training.labels import CONVERSION_LABEL, LABEL, churn_labels, conversion_labels
from training.oracle import has_oracle, oracle_scores

T0 = pd.Timestamp("2025-03-13", tz="UTC")
T1 = T0 + pd.Timedelta(days=28)


@pytest.fixture
def truth_dir(tmp_path: Path) -> Path:
    truth = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 1, 2, 3],
            "cutoff_ts": [T0, T0, T0, T1, T1, T1],
            "stage": ["buyer", "buyer", "prospect", "buyer", "buyer", "buyer"],
            "p_convert": [np.nan, np.nan, 0.3, np.nan, np.nan, np.nan],
            "p_churn": [0.1, 0.8, np.nan, 0.2, 0.9, 0.5],
        }
    )
    truth.to_parquet(tmp_path / "cutoffs.parquet", index=False)
    return tmp_path


def test_oracle_aligns_with_label_rows_and_is_missing_off_the_truth_grid(truth_dir: Path) -> None:
    labels = pd.DataFrame(
        {
            "customer_id": [2, 1, 9, 1, 2],
            # The last row's cutoff is not a ground-truth cutoff; customer 9 has no truth at all.
            "event_timestamp": [T1, T0, T0, T1, T0 + pd.Timedelta(days=14)],
            "churned": [1, 0, 1, 0, 1],
        },
        index=[40, 10, 30, 20, 50],
    )
    scores = oracle_scores(truth_dir, labels, "churn")
    assert scores.index.equals(labels.index)
    assert scores.to_dict() == pytest.approx({40: 0.9, 10: 0.1, 30: np.nan, 20: 0.2, 50: np.nan}, nan_ok=True)


def test_conversion_oracle_reads_p_convert_and_label_times_of_any_unit_match(truth_dir: Path) -> None:
    # Label frames may carry microsecond timestamps (parquet round trips) or naive UTC times.
    labels = pd.DataFrame(
        {"customer_id": [3, 1], "event_timestamp": pd.Series([T0, T0]).dt.tz_localize(None).astype("M8[us]")}
    )
    assert oracle_scores(truth_dir, labels, "conversion").tolist() == pytest.approx(
        [0.3, np.nan], nan_ok=True
    )


def test_vip_and_real_data_have_no_oracle_and_unknown_tasks_fail(truth_dir: Path, tmp_path: Path) -> None:
    labels = pd.DataFrame({"customer_id": [1, 2], "event_timestamp": [T0, T0]})
    assert oracle_scores(truth_dir, labels, "vip").isna().all()
    real = tmp_path / "no_truth"
    assert has_oracle(truth_dir) and not has_oracle(real)
    assert oracle_scores(real, labels, "churn").isna().all()
    with pytest.raises(ValueError, match="allowed: churn, conversion, vip"):
        oracle_scores(truth_dir, labels, "ltv")


def test_simulated_oracles_cover_the_label_populations_and_rank_outcomes_well(tmp_path: Path) -> None:
    config = SimulationConfig(customers=3000, days=150, seed=3)
    simulate(config, tmp_path / "raw", tmp_path / "truth", progress=False)
    orders = pd.read_parquet(tmp_path / "raw" / "orders.parquet")
    customers = pd.read_parquet(tmp_path / "raw" / "customers.parquet")
    truth_cutoffs = pd.read_parquet(tmp_path / "truth" / "cutoffs.parquet")["cutoff_ts"].unique()
    data_end = pd.Timestamp(config.start_date, tz="UTC") + pd.Timedelta(days=config.days)
    fits = [t for t in truth_cutoffs if t + pd.Timedelta(days=config.horizon_days) <= data_end]
    task = ChurnTaskConfig(horizon_days=config.horizon_days)
    labels = churn_labels(orders, [max(fits)], task)
    oracle = oracle_scores(tmp_path / "truth", labels, "churn")
    assert len(labels) > 200 and oracle.notna().all()
    assert roc_auc_score(labels[LABEL], oracle) > 0.7
    # Later campaigns only lower observed churn below the no-campaign truth (README: 2-3 points).
    assert -0.02 < oracle.mean() - labels[LABEL].mean() < 0.1
    # Every prospect the labels find is a prospect in the simulator's books too.
    prospects = conversion_labels(customers, orders, [max(fits)], ConversionTaskConfig())
    p_convert = oracle_scores(tmp_path / "truth", prospects, "conversion")
    assert len(prospects) > 500 and p_convert.notna().all()
    assert roc_auc_score(prospects[CONVERSION_LABEL], p_convert) > 0.8
