"""`bentoml serve` as a real subprocess, called over HTTP."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import pandas as pd
import psutil
import pytest

from configs.schema import ServingConfig
from serving.launcher import ServerProcess
from tests.pipeline import Pipeline

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(trained_pipeline: Pipeline) -> Iterator[ServerProcess]:
    config = ServingConfig(port=3917, max_customers_per_request=50)
    process = ServerProcess(config, log_file=trained_pipeline.root / "serve.log", env=trained_pipeline.env)
    with process:
        yield process


@pytest.fixture(scope="module")
def service_url(server: ServerProcess) -> str:
    return server.url


def test_one_worker_per_core(server: ServerProcess) -> None:
    assert server.process is not None
    children = psutil.Process(server.process.pid).children(recursive=True)
    workers = [p for p in children if "--worker-id" in p.cmdline()]
    assert len(workers) == os.cpu_count()


def test_scores_over_http(service_url: str, trained_pipeline: Pipeline) -> None:
    snapshots = pd.read_parquet(trained_pipeline.data_dir / "features" / "customer_activity.parquet")
    ids = snapshots.loc[snapshots["event_timestamp"] == snapshots["event_timestamp"].max(), "customer_id"]
    known = [int(i) for i in ids.head(5)]
    response = httpx.post(f"{service_url}/scores", json={"customer_ids": [*known, 10**9]}, timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert set(body["models"]) == {"nudge-churn", "nudge-conversion", "nudge-vip", "nudge-uplift"}
    assert body["scored_at"]
    scores = body["scores"]
    assert scores[0]["top_reasons"]["churn"], "a scored customer comes with its top reasons"
    assert [s["customer_id"] for s in scores] == [*known, 10**9]
    for score in scores[:5]:
        assert set(score["scores"]) == {"churn", "conversion", "vip"}
        assert all(0.0 <= v <= 1.0 for v in score["scores"].values())
    assert scores[-1] == {
        "customer_id": 10**9,
        "known": False,
        "scores": {},
        "top_reasons": {},
        "features_as_of": None,
        "reason": "cold start: no online features",
    }


def test_next_best_action_over_http(service_url: str, trained_pipeline: Pipeline) -> None:
    snapshots = pd.read_parquet(trained_pipeline.data_dir / "features" / "customer_activity.parquet")
    ids = snapshots.loc[snapshots["event_timestamp"] == snapshots["event_timestamp"].max(), "customer_id"]
    known = [int(i) for i in ids.sample(40, random_state=1)]
    response = httpx.post(f"{service_url}/next-best-action", json={"customer_ids": [*known, -5]}, timeout=30)
    assert response.status_code == 200
    decisions = response.json()["decisions"]
    assert [d["customer_id"] for d in decisions] == [*known, -5]
    allowed = {"no_action", "welcome_coupon", "cart_free_shipping", "winback_coupon", "vip_early_access",
               "cross_sell_reminder"}  # fmt: skip
    assert {d["action"] for d in decisions} <= allowed
    for decision in decisions[:-1]:
        assert decision["known"] and decision["reason"]
        acting = decision["action"] != "no_action"
        assert (decision["expected_incremental_profit"] > 0) == acting
        assert decision["reason"].startswith(decision["action"] if acting else "no action")
    assert decisions[-1]["action"] == "no_action" and decisions[-1]["reason"].startswith("cold start")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"customer_ids": []}, "at least 1 item"),
        ({"customer_ids": ["abc"]}, "valid integer"),
        ({"ids": [1]}, "customer_ids"),
        ({"customer_ids": list(range(51))}, "at most 50"),
        ({"customer_ids": [2**63]}, "less than or equal to 9223372036854775807"),
        ({"customer_ids": [True]}, "valid integer"),
        ({"customer_ids": [1], "limit": 3}, "Extra inputs are not permitted"),
    ],
)
def test_bad_requests_get_a_clear_4xx(service_url: str, body: dict[str, object], fragment: str) -> None:
    response = httpx.post(f"{service_url}/scores", json=body, timeout=30)
    assert 400 <= response.status_code < 500
    assert fragment in response.text
    # One shape, whether the schema or the handler refused: the message and where it applies.
    assert set(response.json()) == {"error", "detail"} and response.json()["detail"][0]["loc"]


@pytest.mark.parametrize(
    ("route", "body", "fragment"),
    [
        ("/next-best-action", b'{"customer_ids": [9223372036854775808]}', "customer_ids"),
        ("/audiences", b'{"action": "welcome_coupon", "budget": 1e999}', "finite number"),
        ("/audiences", b'{"action": "teleport", "size": 5}', "unknown action 'teleport'"),
        ("/events", b'{"events": [{"customer_id": 9223372036854775808, "event_type": "visit",'
                    b' "event_timestamp": "2031-01-02T03:04:05Z"}]}', "customer_id"),
        ("/events", b'{"events": [{"customer_id": 1, "event_type": "visit",'
                    b' "event_timestamp": "2999-01-01T00:00:00Z"}]}', "event_timestamp"),
        ("/events", b'{"events": [{"customer_id": 1, "event_type": "visit",'
                    b' "event_timestamp": "0001-01-01T00:00:00Z"}]}', "event_timestamp"),
    ],
)  # fmt: skip
def test_out_of_range_values_get_a_400_naming_the_field(
    service_url: str, route: str, body: bytes, fragment: str
) -> None:
    headers = {"Content-Type": "application/json"}
    response = httpx.post(f"{service_url}{route}", content=body, headers=headers, timeout=60)
    assert response.status_code == 400 and fragment in response.text, response.text
    assert set(response.json()) == {"error", "detail"}


def test_health_metrics_and_openapi(service_url: str) -> None:
    assert httpx.get(f"{service_url}/livez", timeout=5).status_code == 200
    assert httpx.get(f"{service_url}/readyz", timeout=5).status_code == 200
    httpx.post(f"{service_url}/scores", json={"customer_ids": [1]}, timeout=30)
    metrics = httpx.get(f"{service_url}/metrics", timeout=5)
    assert metrics.status_code == 200 and "request" in metrics.text and "/scores" in metrics.text
    paths = httpx.get(f"{service_url}/docs.json", timeout=5).json()["paths"]
    assert {"/scores", "/next-best-action", "/events", "/audiences"} <= set(paths)
    # /scores sends its encoded body as it is (serving.score_table) and still documents its schema.
    scores = paths["/scores"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert scores["properties"]["scores"]["items"]["$ref"].endswith("/CustomerScore")
    # The mounted marketer routes are documented too, with their response schemas.
    campaigns = {"/campaigns/actions", "/campaigns/results", "/campaigns/{campaign_id}/audience.csv"}
    assert campaigns <= set(paths)
    listed = paths["/campaigns/results"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listed["schema"]["items"]["$ref"].endswith("/CampaignRecord")


def test_oversized_bodies_are_refused_before_parsing(service_url: str) -> None:
    huge = {"customer_ids": [1] * 10, "padding": "x" * 2_000_000}
    response = httpx.post(f"{service_url}/scores", json=huge, timeout=30)
    assert response.status_code == 413 and "exceeds" in response.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        yield b'{"customer_ids": [1], "padding": "'
        yield from [b"x" * 65_536] * 20
        yield b'"}'

    headers = {"Content-Type": "application/json"}
    chunked = httpx.post(f"{service_url}/scores", content=chunks(), headers=headers, timeout=30)
    assert chunked.status_code == 413 and "exceeds" in chunked.json()["error"]


def test_api_key_is_enforced_when_configured(trained_pipeline: Pipeline) -> None:
    env = {**trained_pipeline.env, "NUDGE_API_KEY": "s3cret"}
    config = ServingConfig(port=3918, reload_interval_s=0)
    with ServerProcess(config, log_file=trained_pipeline.root / "serve-auth.log", env=env) as url:
        body = {"customer_ids": [1]}
        missing = httpx.post(f"{url}/scores", json=body, timeout=30)
        assert missing.status_code == 401 and "X-API-Key" in missing.json()["error"]
        wrong = httpx.post(f"{url}/scores", json=body, headers={"X-API-Key": "nope"}, timeout=30)
        assert wrong.status_code == 401
        ok = httpx.post(f"{url}/scores", json=body, headers={"X-API-Key": "s3cret"}, timeout=30)
        assert ok.status_code == 200
        assert httpx.get(f"{url}/readyz", timeout=5).status_code == 200  # probes stay open


def test_a_moved_alias_is_served_and_gets_its_table(trained_pipeline: Pipeline) -> None:
    """Hot reload through the real server: one reload interval after the champion alias moves,
    /scores answers with the new version, from a score table built for it."""
    import mlflow
    from mlflow import MlflowClient

    # Process-wide: create_model_version looks a logged model's source up through it, whatever
    # the client's own tracking URI.
    mlflow.set_tracking_uri(trained_pipeline.paths.tracking_uri)
    client = MlflowClient()
    champion = client.get_model_version_by_alias("nudge-churn", "champion")
    tables = trained_pipeline.data_dir / "score_tables"
    config = ServingConfig(port=3918, reload_interval_s=1)
    log = trained_pipeline.root / "serve-reload.log"
    with ServerProcess(config, log_file=log, env=trained_pipeline.env) as url:
        built = set(tables.glob("*.parquet"))
        assert len(built) == 1
        moved = client.create_model_version("nudge-churn", source=champion.source, run_id=champion.run_id)
        try:
            client.set_registered_model_alias("nudge-churn", "champion", moved.version)
            deadline = time.monotonic() + 120
            while set(tables.glob("*.parquet")) == built and time.monotonic() < deadline:
                time.sleep(0.5)
            rebuilt = set(tables.glob("*.parquet"))
            assert rebuilt and rebuilt != built, "no score table was built for the new champion"
            # Every worker answers with the new version (requests land on any of them).
            want, streak = str(moved.version), 4 * (os.cpu_count() or 1)
            served: list[str] = []
            while served[-streak:] != [want] * streak:
                assert time.monotonic() < deadline, f"churn versions after the swap: {served[-streak:]}"
                body = httpx.post(f"{url}/scores", json={"customer_ids": [1]}, timeout=30).json()
                served.append(body["models"]["nudge-churn"])
        finally:
            client.set_registered_model_alias("nudge-churn", "champion", champion.version)
    assert "score table:" in log.read_text()  # the service's own INFO logs reach the server log


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
