"""serving.guard: a body past max_request_bytes gets a 413, whether its length is declared or it comes
in chunks without one, whatever the app behind the guard does with the error."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from serving.guard import Guard

Message = dict[str, Any]


async def _read_all(receive: Any) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        body, more = body + message.get("body", b""), message.get("more_body", False)
    return body


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    await _answer(send, 200, str(len(await _read_all(receive))).encode())


async def _catching(scope: Any, receive: Any, send: Any) -> None:
    """As BentoML's route handlers do: any exception while handling becomes a 500 of their own."""
    try:
        body = await _read_all(receive)
    except Exception:
        await _answer(send, 500, b'{"error": "An unexpected error has occurred"}')
        return
    await _answer(send, 200, str(len(body)).encode())


async def _streaming(scope: Any, receive: Any, send: Any) -> None:
    """Starts its answer before reading the body: too late for a 413."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await _read_all(receive)
    await send({"type": "http.response.body", "body": b""})


def _request(app: Any, chunks: list[bytes], headers: list[tuple[bytes, bytes]] = []) -> list[Message]:  # noqa: B006
    sent: list[Message] = []
    pending = list(chunks)

    async def receive() -> Message:
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "path": "/scores", "method": "POST", "headers": headers}
    asyncio.run(Guard(app)(scope, receive, send))
    return sent


def _status_and_body(sent: list[Message]) -> tuple[list[int], bytes]:
    statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
    return statuses, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def _over(limit: int) -> list[bytes]:
    """A body one byte over `limit`, in 64 KiB chunks (Transfer-Encoding: chunked, no length)."""
    size, chunk = limit + 1, 65_536
    return [b"x" * min(chunk, size - start) for start in range(0, size, chunk)]


@pytest.mark.parametrize("app", [_echo, _catching], ids=["error raised", "error answered by the app"])
def test_chunked_body_over_the_cap_gets_413(app: Any) -> None:
    limit = Guard(_echo).max_bytes
    statuses, body = _status_and_body(_request(app, _over(limit)))
    assert statuses == [413]
    assert json.loads(body) == {"error": f"request body exceeds {limit} bytes"}


def test_declared_length_over_the_cap_gets_413_unread() -> None:
    limit = Guard(_echo).max_bytes
    statuses, body = _status_and_body(
        _request(_echo, [b"{}"], [(b"content-length", str(limit + 1).encode())])
    )
    assert statuses == [413] and b"exceeds" in body


def test_chunked_body_within_the_cap_reaches_the_app() -> None:
    limit = Guard(_echo).max_bytes
    chunks = _over(limit)
    chunks[-1] = chunks[-1][:-1]  # exactly the cap
    assert _status_and_body(_request(_catching, chunks)) == ([200], str(limit).encode())


def test_an_answer_already_started_is_not_replaced() -> None:
    from serving.guard import TooLarge

    with pytest.raises(TooLarge):
        _request(_streaming, _over(Guard(_echo).max_bytes))
