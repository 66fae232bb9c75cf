"""serving.launcher's ServerProcess returns once every worker of the server is ready, not the first:
BentoML's workers share one socket and each answers /readyz for itself."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import httpx
import psutil
import pytest

from configs.schema import ServingConfig
from serving.launcher import ServerProcess
from serving.probes import WORKER_HEADER

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]


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


# A command that started the service and is stopped (kill, a CI time limit) stops the service too.
_STOPPABLE = """
import sys, time
from pathlib import Path
from configs.process import exit_cleanly_on_sigterm
from configs.schema import ServingConfig
from serving.launcher import ServerProcess

exit_cleanly_on_sigterm()
config = ServingConfig(port=int(sys.argv[1]), workers=2)
late = "tests.integration.late_worker:LateWorker"
with ServerProcess(config, log_file=Path(sys.argv[2]), service=late, service_name="late"):
    print("ready", flush=True)
    time.sleep(600)
"""


@pytest.mark.parametrize("when", ["starting", "serving"])
def test_a_stopped_command_stops_the_service_it_started(when: str, tmp_path: Path) -> None:
    port = 3921
    url = f"http://127.0.0.1:{port}/readyz"
    command = subprocess.Popen(
        [sys.executable, "-c", _STOPPABLE, str(port), str(tmp_path / "serve.log")],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    started: list[psutil.Process] = []
    try:
        if when == "starting":  # the first worker answers, the launcher still waits for the late one
            _until(lambda: _answers(url) == 200, "a worker to answer")
        else:
            assert command.stdout is not None and command.stdout.readline() == "ready\n"
        started = psutil.Process(command.pid).children(recursive=True)
        command.send_signal(signal.SIGTERM)
        assert command.wait(timeout=60) == 128 + signal.SIGTERM
        _until(lambda: _answers(url) is None, "the service to stop")
    finally:  # whatever failed, leave no server behind for the next test
        command.kill()
        for process in started:
            with suppress(psutil.NoSuchProcess):
                process.kill()


def _answers(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return None


def _until(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout_s:.0f} s for {what}")
        time.sleep(0.2)
