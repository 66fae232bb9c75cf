"""The feature store on a real transaction log: imported Online Retail through Feast to models.

VIP lookalike runs with `max_tenure_days: 90` (README, Models): a year of a 4,338-customer shop
holds few future top-5% spenders among customers in their first 60 days, too few to test on.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from features.store import open_store
from tests.pipeline import make_pipeline

pytestmark = pytest.mark.integration

ONLINE_RETAIL = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "online_retail" / "online_retail.parquet"
)
ONLINE_RETAIL_VIP = {"NUDGE_TRAINING__VIP__MAX_TENURE_DAYS": "90"}


@pytest.mark.skipif(not ONLINE_RETAIL.exists(), reason=f"{ONLINE_RETAIL} is absent (expected ../shared/data)")
def test_online_retail_runs_through_features_feast_and_training(tmp_path: Path) -> None:
    pipeline = make_pipeline(tmp_path)
    pipeline.run(
        "import", "transactions", str(ONLINE_RETAIL),
        "--customer-col", "CustomerID", "--time-col", "InvoiceDate", "--quantity-col", "Quantity",
        "--price-col", "UnitPrice", "--order-col", "InvoiceNo", "--product-col", "StockCode",
        "--region-col", "Country",
    )  # fmt: skip
    for step in (("features", "build"), ("features", "apply"), ("features", "materialize"), ("train",)):
        pipeline.run(*step)
    pipeline.run("train", "--task", "vip", env={**pipeline.env, **ONLINE_RETAIL_VIP})

    store = open_store(pipeline.data_dir / "feature_repo")
    online = store.get_online_features(
        features=store.get_feature_service("churn_v1"), entity_rows=[{"customer_id": 12347}]
    ).to_dict()
    # Customer 12347 (Iceland) ordered 7 times in the log; all of it precedes the last snapshot.
    assert online["region"] == ["Iceland"]
    assert online["orders_total"] == [7.0]
    assert online["days_since_last_orders"][0] == pytest.approx(2.5, abs=1.0)

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    run = client.get_run(client.get_model_version_by_alias("nudge-churn", "champion").run_id)
    churn = run.data.metrics
    assert min(churn["test_positives"], churn["test_negatives"]) >= 30
    assert churn["test_roc_auc"] > churn["rfm_rule_roc_auc"] + 0.02
    assert pd.Timestamp(run.info.start_time, unit="ms").year >= 2024

    # VIP: the test set pools cutoffs until it holds 30 positives (34 rows from 20 customers when
    # measured, AUC 0.954 against 0.950 for the RFM rule and the logistic regression). The margin
    # over the baselines is within the noise of so few positives, so ask for clear signal and no
    # loss to the rule rather than a win.
    vip = client.get_run(client.get_model_version_by_alias("nudge-vip", "champion").run_id).data.metrics
    assert vip["test_positives"] >= 30 and vip["test_negatives"] >= 30
    assert vip["test_roc_auc"] > 0.9
    assert vip["test_roc_auc"] > vip["rfm_rule_roc_auc"] - 0.02
    assert vip["test_lift_at_10pct_score"] > 5
