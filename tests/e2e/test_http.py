"""`bentoml serve` as a real subprocess, called over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pandas as pd
import pytest

from configs.schema import ServingConfig
from serving.launcher import ServerProcess
from tests.pipeline import Pipeline

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def service_url(trained_pipeline: Pipeline) -> Iterator[str]:
    config = ServingConfig(port=3917, max_customers_per_request=50)
    log_file = trained_pipeline.root / "serve.log"
    with ServerProcess(config, log_file=log_file, env=trained_pipeline.env) as url:
        yield url


def test_scores_over_http(service_url: str, trained_pipeline: Pipeline) -> None:
    snapshots = pd.read_parquet(trained_pipeline.data_dir / "features" / "customer_activity.parquet")
    ids = snapshots.loc[snapshots["event_timestamp"] == snapshots["event_timestamp"].max(), "customer_id"]
    known = [int(i) for i in ids.head(5)]
    response = httpx.post(f"{service_url}/scores", json={"customer_ids": [*known, 10**9]}, timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "nudge-churn" and body["model_version"].isdigit()
    assert body["scores"][0]["top_reasons"], "a scored customer comes with its top reasons"
    scores = body["scores"]
    assert [s["customer_id"] for s in scores] == [*known, 10**9]
    assert all(0.0 <= s["churn_risk"] <= 1.0 for s in scores[:5])
    assert scores[-1] == {
        "customer_id": 10**9,
        "known": False,
        "churn_risk": None,
        "features_as_of": None,
        "reason": "cold start: no online features",
        "top_reasons": [],
    }


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"customer_ids": []}, "at least 1 item"),
        ({"customer_ids": ["abc"]}, "valid integer"),
        ({"ids": [1]}, "customer_ids"),
        ({"customer_ids": list(range(51))}, "at most 50"),
    ],
)
def test_bad_requests_get_a_clear_4xx(service_url: str, body: dict[str, object], fragment: str) -> None:
    response = httpx.post(f"{service_url}/scores", json=body, timeout=30)
    assert 400 <= response.status_code < 500
    assert fragment in response.text


def test_health_endpoints(service_url: str) -> None:
    assert httpx.get(f"{service_url}/livez", timeout=5).status_code == 200
    assert httpx.get(f"{service_url}/readyz", timeout=5).status_code == 200


def test_pushed_events_reach_the_online_store(service_url: str, trained_pipeline: Pipeline) -> None:
    from features.store import open_store

    event = {"customer_id": 10**9 + 7, "event_type": "visit", "event_timestamp": "2031-01-02T03:04:05Z"}
    response = httpx.post(f"{service_url}/events", json={"events": [event]}, timeout=30)
    assert response.status_code == 200 and response.json() == {"customers_updated": 1}
    store = open_store(trained_pipeline.data_dir / "feature_repo")
    row = store.get_online_features(
        features=["customer_realtime:last_visit_epoch_s"], entity_rows=[{"customer_id": 10**9 + 7}]
    ).to_dict()
    assert row["last_visit_epoch_s"] == [1925089445.0]
    bad = httpx.post(f"{service_url}/events", json={"events": [{**event, "event_type": "dance"}]}, timeout=30)
    assert bad.status_code == 400 and "event_type" in bad.text
