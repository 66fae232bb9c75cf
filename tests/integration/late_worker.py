"""A BentoML service whose second worker turns ready a few seconds after the first, for
tests/integration/test_readiness.py: `bentoml serve tests.integration.late_worker:LateWorker`."""

from __future__ import annotations

import time

import bentoml

from serving.probes import WorkerTag

LATE_BY_S = 4.0


@bentoml.service(name="late")
class LateWorker:
    def __init__(self) -> None:
        # server_context.worker_index counts workers from 1.
        self.ready_at = time.monotonic() + (LATE_BY_S if bentoml.server_context.worker_index == 2 else 0.0)

    def __is_ready__(self) -> bool:
        return time.monotonic() >= self.ready_at

    @bentoml.api(route="/ping")
    def ping(self) -> dict[str, bool]:
        return {"ok": True}


LateWorker.add_asgi_middleware(WorkerTag)  # type: ignore[attr-defined]
