"""`nudge scores --url`: an unreachable service is one clear error naming the endpoint."""

from __future__ import annotations

import socket

import pytest

from serving.client import request_decisions, request_scores


def _closed_port() -> int:
    with socket.socket() as sock:  # bound then closed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("request_", "route"), [(request_scores, "scores"), (request_decisions, "next-best-action")]
)
def test_an_unreachable_service_is_named(request_: object, route: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(ValueError, match=rf"{url}/{route}: .*is `nudge serve` running there\?"):
        request_(url, [1], timeout_s=5)  # type: ignore[operator]
