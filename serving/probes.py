"""ASGI middleware that signs each answer to the readiness probe with the id of the worker process
that gave it.

BentoML's workers share one listening socket and each answers /readyz for itself, so a 200 says
that one worker is ready, not the server. serving.launcher probes until every worker has said so.
"""

from __future__ import annotations

import os
from typing import Any

READY_PATH = "/readyz"
WORKER_HEADER = "x-nudge-worker"


class WorkerTag:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != READY_PATH:
            await self.app(scope, receive, send)
            return
        # The process id, read per probe: the middleware may be built before the worker forks.
        tag = (WORKER_HEADER.encode(), str(os.getpid()).encode())

        async def tagged(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), tag]}
            await send(message)

        await self.app(scope, receive, tagged)
