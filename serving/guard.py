"""ASGI middleware in front of every route: API-key check (when NUDGE_API_KEY is set) and a cap on
request body size, answered with 401 / 413 before a handler or validator sees the request.

Configuration is read when the server builds its app, not at import.
"""

from __future__ import annotations

import json
import os
from typing import Any

from configs.loader import load_config
from configs.schema import ServingConfig

# Probes, metrics and API docs stay open so orchestrators and scrapers need no key; so does the
# marketer page, which holds no data and sends the key the marketer types for everything it reads.
OPEN_PATHS = ("/healthz", "/readyz", "/livez", "/metrics", "/docs.json", "/docs", "/marketer")

Scope = dict[str, Any]


class TooLarge(Exception):
    pass


class Guard:
    def __init__(self, app: Any) -> None:
        config = load_config("serving", ServingConfig)
        self.app = app
        self.api_key = os.environ.get("NUDGE_API_KEY") or None
        self.header_name = config.api_key_header
        self.header = config.api_key_header.lower().encode()
        self.max_bytes = config.max_request_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if self._needs_key(scope["path"]) and headers.get(self.header, b"").decode() != self.api_key:
            await _reply(send, 401, f"missing or wrong API key in the {self.header_name} header")
            return
        declared = headers.get(b"content-length")
        if declared is not None and int(declared) > self.max_bytes:
            await _reply(send, 413, f"request body of {int(declared)} bytes exceeds {self.max_bytes}")
            return
        await self._capped(scope, receive, send)

    def _needs_key(self, path: str) -> bool:
        return self.api_key is not None and not path.startswith(OPEN_PATHS)

    async def _capped(self, scope: Scope, receive: Any, send: Any) -> None:
        """Bodies sent without a length (chunked) are counted as they arrive; the read that passes
        the cap raises TooLarge. BentoML's handlers answer any exception with a 500 of their own,
        so the answer the app starts after that is replaced by the 413, and one raised to here
        gets it too, as long as no response of the app's has started."""
        seen = 0
        app_started = refused = False
        error = f"request body exceeds {self.max_bytes} bytes"

        async def counting() -> dict[str, Any]:
            nonlocal seen
            message: dict[str, Any] = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise TooLarge(error)
            return message

        async def sending(message: dict[str, Any]) -> None:
            nonlocal app_started, refused
            if refused:  # the rest of the app's answer to TooLarge
                return
            if seen > self.max_bytes and not app_started:
                refused = True
                await _reply(send, 413, error)
                return
            app_started = app_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except TooLarge:
            if app_started:  # too late for a 413: the server drops the connection
                raise
            if not refused:
                await _reply(send, 413, error)


async def _reply(send: Any, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
