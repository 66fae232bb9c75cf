"""serving.traffic: BentoML's request timeout, with its timer cancelled once the request is done."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from bentoml._internal.server.http.traffic import TimeoutMiddleware

from serving.traffic import cancel_request_timers


@pytest.fixture(autouse=True)
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    # monkeypatch restores BentoML's own __call__ after each test.
    monkeypatch.setattr(TimeoutMiddleware, "__call__", TimeoutMiddleware.__call__)
    assert cancel_request_timers()


async def _request(app: Any, timeout: float) -> tuple[list[dict[str, Any]], list[asyncio.TimerHandle]]:
    """One HTTP request through the middleware; the messages sent and the timers it scheduled."""
    loop = asyncio.get_running_loop()
    timers: list[asyncio.TimerHandle] = []
    schedule = loop.call_later

    def recording_call_later(*args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        timers.append(schedule(*args, **kwargs))
        return timers[-1]

    loop.call_later = recording_call_later  # type: ignore[method-assign]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        await TimeoutMiddleware(app, timeout)({"type": "http"}, receive, send)
    finally:
        loop.call_later = schedule  # type: ignore[method-assign]
    return sent, timers


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _slow(scope: Any, receive: Any, send: Any) -> None:
    await asyncio.sleep(5)
    await _ok(scope, receive, send)


def test_a_finished_request_leaves_no_timer_holding_it() -> None:
    sent, timers = asyncio.run(_request(_ok, timeout=30))
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [200]
    assert len(timers) == 1
    assert timers[0].cancelled()


def test_a_request_over_the_timeout_still_gets_504() -> None:
    sent, timers = asyncio.run(_request(_slow, timeout=0.05))
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [504]
    assert b"0.05 seconds" in sent[-1]["body"]
    assert timers[0].cancelled()
