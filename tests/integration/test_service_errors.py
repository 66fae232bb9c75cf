"""Bad requests to serving.service get a 4xx in one shape, {"error", "detail": [{"loc", "msg", ...}]},
whether the request schema refuses them or a handler does; in BentoML's own app, in process.

The routes' input specs are the Nudge service's own. The handler checks run in a small service of
this module: Nudge needs trained models to start (tests/e2e/test_http.py calls the real one)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import bentoml
import httpx
import pytest
from pydantic import ValidationError

from configs.schema import ServingConfig
from serving.guard import Guard
from serving.schemas import BehaviourEvent, CustomerIdsRequest
from serving.service import EVENT_CLOCK_SKEW, Nudge, check_not_ahead, invalid_argument

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("route", "body", "loc"),
    [
        ("scores", b'{"customer_ids": [9223372036854775808]}', ["customer_ids", 0]),
        ("scores", b'{"customer_ids": [true]}', ["customer_ids", 0]),
        ("scores", b'{"customer_ids": [1], "debug": true}', ["debug"]),
        ("next_best_action", b'{"customer_ids": [1, 9223372036854775808]}', ["customer_ids", 1]),
        ("next_best_action", b'{"customer_ids": [false]}', ["customer_ids", 0]),
        (
            "events",
            b'{"events": [{"customer_id": 9223372036854775808, "event_type": "visit",'
            b' "event_timestamp": "2031-01-02T03:04:05Z"}]}',
            ["events", 0, "customer_id"],
        ),
        (
            "events",
            b'{"events": [{"customer_id": 1, "event_type": "visit",'
            b' "event_timestamp": "2999-01-01T00:00:00Z"}]}',
            ["events", 0, "event_timestamp"],
        ),
        ("audiences", b'{"action": "welcome_coupon", "budget": 1e999}', ["budget"]),
    ],
)
def test_nudge_routes_refuse_what_they_cannot_serve(route: str, body: bytes, loc: list[Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        Nudge.apis[route].input_spec.model_validate_json(body)
    assert [list(error["loc"]) for error in refused.value.errors()] == [loc]


def test_too_many_ids_is_refused_as_a_field_error() -> None:
    nudge = SimpleNamespace(config=ServingConfig(max_customers_per_request=2))
    with pytest.raises(ValidationError) as refused:
        Nudge.inner._check_size(nudge, [1, 2, 3])
    [error] = refused.value.errors()
    assert error["loc"] == ("customer_ids",) and error["msg"] == "at most 2 per request, got 3"


def test_events_far_ahead_of_the_wall_clock_are_refused() -> None:
    now = datetime(2030, 6, 1, 12, tzinfo=UTC)
    events = [
        BehaviourEvent(customer_id=1, event_type="visit", event_timestamp=now - timedelta(days=1)),
        BehaviourEvent(customer_id=2, event_type="order", event_timestamp=now + EVENT_CLOCK_SKEW),
    ]
    check_not_ahead(events, now)  # a clock a little behind the sender's is fine
    late = BehaviourEvent(customer_id=3, event_type="visit", event_timestamp=now + timedelta(hours=1))
    with pytest.raises(ValidationError) as refused:
        check_not_ahead([*events, late], now)
    [error] = refused.value.errors()
    assert error["loc"] == ("events", 2, "event_timestamp") and "after the service clock" in error["msg"]


@bentoml.service(name="errors")
class Errors:
    """Takes /scores' body; refuses more than two ids in its handler, as Nudge does over its limit."""

    @bentoml.api(route="/ids", input_spec=CustomerIdsRequest)
    def ids(self, customer_ids: list[int]) -> dict[str, int]:
        if len(customer_ids) > 2:
            raise invalid_argument(CustomerIdsRequest, ("customer_ids",), "at most 2 per request")
        return {"ids": len(customer_ids)}


Errors.add_asgi_middleware(Guard)


@pytest.fixture(scope="module")
def app() -> Iterator[Any]:
    yield Errors.to_asgi()


def post(app: Any, **request: Any) -> httpx.Response:
    async def call() -> httpx.Response:
        # The lifespan starts the service instance, as the server does.
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://nudge") as client:
                return await client.post("/ids", **request)

    return asyncio.run(call())


def test_handler_refusals_have_the_shape_of_validation_errors(app: Any) -> None:
    refused_by_schema = post(app, json={"customer_ids": [True]})
    refused_by_handler = post(app, json={"customer_ids": [1, 2, 3]})
    assert refused_by_schema.status_code == refused_by_handler.status_code == 400
    by_schema, by_handler = refused_by_schema.json(), refused_by_handler.json()
    assert set(by_schema) == set(by_handler) == {"error", "detail"}
    assert by_handler == {
        "error": "1 validation error for CustomerIdsRequest",
        "detail": [{"type": "invalid_argument", "loc": ["customer_ids"], "msg": "at most 2 per request"}],
    }
    assert by_schema["detail"][0]["loc"] == ["customer_ids", 0]
    assert post(app, json={"customer_ids": [1, 2]}).json() == {"ids": 2}


def test_chunked_body_over_the_cap_gets_413(app: Any) -> None:
    limit = ServingConfig().max_request_bytes  # configs/serving.yaml leaves it at the default

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        yield b'{"customer_ids": [1], "padding": "'
        for _ in range(limit // 65_536 + 1):
            yield b"x" * 65_536
        yield b'"}'

    response = post(app, content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413 and "exceeds" in response.json()["error"]
