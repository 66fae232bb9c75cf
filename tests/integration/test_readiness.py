"""serving.launcher's ServerProcess returns once every worker of the server is ready, not the first:
BentoML's workers share one socket and each answers /readyz for itself."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from configs.schema import ServingConfig
from serving.launcher import ServerProcess
from serving.probes import WORKER_HEADER

pytestmark = pytest.mark.integration


def test_the_server_is_ready_only_when_every_worker_is(tmp_path: Path) -> None:
    """The second worker turns ready 4 s after the first (tests/integration/late_worker.py)."""
    config = ServingConfig(port=3919, workers=2)
    late = ServerProcess(
        config,
        log_file=tmp_path / "serve.log",
        service="tests.integration.late_worker:LateWorker",
        service_name="late",
        ready_timeout_s=120,
    )
    with late as url:
        # Each probe opens its own connection, so the probes reach both workers.
        probes = [httpx.get(f"{url}/readyz", timeout=5) for _ in range(20)]
    assert [probe.status_code for probe in probes] == [200] * 20
    assert len({probe.headers[WORKER_HEADER] for probe in probes}) == 2, "the probes reached one worker"
