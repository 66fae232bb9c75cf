"""A fix for BentoML's request timeout, which kept every request's objects alive for the whole timeout.

BentoML's `TimeoutMiddleware` (bentoml 1.4) schedules `loop.call_later(timeout, ...)` per request
and never cancels it. Until the timer fires, it keeps the request's future and everything that
future's context holds (tracing spans, locks, queues). Under load the worker therefore carries
rate x timeout requests' worth of dead objects: about 400k objects at 800 req/s with a 30 s
timeout. Full garbage collections then stop the worker for 160-300 ms every few seconds, and those
pauses are the p99. `cancel_request_timers` makes the middleware cancel its timer once the
request is done. Everything else stays the same, including the 504 answer when the timeout
does fire.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.responses import JSONResponse

log = logging.getLogger(__name__)


def cancel_request_timers() -> bool:
    """Patch BentoML's TimeoutMiddleware in this process; False (and a warning) if its shape changed."""
    try:
        from bentoml._internal.server.http.traffic import TimeoutMiddleware
    except ImportError:
        log.warning("bentoml has no TimeoutMiddleware here; request timers left as they are")
        return False
    if not hasattr(TimeoutMiddleware, "_set_timer_out"):
        log.warning("bentoml's TimeoutMiddleware changed; request timers left as they are")
        return False
    TimeoutMiddleware.__call__ = _call  # type: ignore[method-assign]
    return True


async def _call(self: Any, scope: Any, receive: Any, send: Any) -> None:
    """BentoML's TimeoutMiddleware.__call__, with the timer cancelled once the request is done."""
    if scope["type"] not in ("http", "websocket"):
        return await self.app(scope, receive, send)  # type: ignore[no-any-return]
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    timer = loop.call_later(self.timeout, self._set_timer_out, waiter)

    async def _send(message: Any) -> None:
        if not waiter.done():
            waiter.set_result(None)
        await send(message)

    handler = asyncio.ensure_future(self.app(scope, receive, _send), loop=loop)
    try:
        await waiter
    except TimeoutError:
        if handler.cancel():
            body = {"error": f"Not able to process the request in {self.timeout} seconds"}
            await JSONResponse(body, status_code=504)(scope, receive, send)
    else:
        await handler
    finally:
        timer.cancel()
