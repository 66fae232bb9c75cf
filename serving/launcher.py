"""Run the BentoML service as a real `bentoml serve` process and wait until it is ready."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx

from configs.process import telemetry_off
from configs.schema import ServingConfig
from serving.probes import READY_PATH, WORKER_HEADER

log = logging.getLogger(__name__)

SERVICE = "serving.service:Nudge"
SERVICE_NAME = "nudge"  # its @bentoml.service name, the key of its BentoML settings
_BENTOML_OVERRIDES = "BENTOML_CONFIG_OVERRIDES"  # BentoML's settings override, as JSON
_PROJECT_ROOT = Path(__file__).resolve().parents[1]


def serve_command(config: ServingConfig, service: str = SERVICE) -> list[str]:
    bentoml = Path(sys.executable).with_name("bentoml")
    return [str(bentoml), "serve", service, "--host", config.host, "--port", str(config.port)]


def service_environment(
    config: ServingConfig, base: Mapping[str, str] | None = None, service_name: str = SERVICE_NAME
) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    # The service process loads its own config; hand it exactly the one resolved here.
    env.update({f"NUDGE_SERVING__{key.upper()}": str(value) for key, value in config.model_dump().items()})
    env[_BENTOML_OVERRIDES] = bentoml_overrides(env.get(_BENTOML_OVERRIDES), service_name, config)
    telemetry_off(env)
    # Pin the data locations the CLI resolved, whatever directory bentoml serves from.
    env.setdefault("NUDGE_DATA_DIR", str(Path(env.get("NUDGE_DATA_DIR", "data")).resolve()))
    env.setdefault("NUDGE_MLRUNS_DIR", str(Path(env.get("NUDGE_MLRUNS_DIR", "mlruns")).resolve()))
    return env


def bentoml_overrides(existing: str | None, service_name: str, config: ServingConfig) -> str:
    """BentoML's JSON settings override with this config's worker count for the service; any other
    settings already in it are kept. BentoML reads the worker count before the service code runs,
    so it cannot come from the config the service loads itself."""
    try:
        overrides = json.loads(existing) if existing else {}
    except json.JSONDecodeError as err:
        raise ValueError(f"{_BENTOML_OVERRIDES} is not valid JSON: {err}") from None
    if not isinstance(overrides, dict):
        raise ValueError(f"{_BENTOML_OVERRIDES} must be a JSON object, got {existing!r}")
    services = overrides.setdefault("services", {})
    services.setdefault(service_name, {})["workers"] = worker_count(config)
    return json.dumps(overrides)


def worker_count(config: ServingConfig) -> int:
    """The number of server processes: "cpu_count" resolved as BentoML's own allocator does it
    (cgroup CPU limits included), so the launcher knows how many workers must report ready."""
    if config.workers != "cpu_count":
        return config.workers
    from bentoml._internal.resource import system_resources  # BentoML's count, not a copy of it

    return int(system_resources()["cpu"]) or 1


def serve_forever(config: ServingConfig) -> int:
    """Run the service in the foreground until it exits; its exit code. Stopped itself (SIGTERM with
    configs.process.exit_cleanly_on_sigterm, Ctrl-C), this process stops the server first."""
    process = subprocess.Popen(serve_command(config), env=service_environment(config), cwd=_PROJECT_ROOT)
    try:
        return process.wait()
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, BentoML's graceful shutdown; a kill if it has not ended 20 s later."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ServerProcess:
    """`with ServerProcess(cfg) as url:` starts the service, yields its base URL, stops it after.
    `service` / `service_name`: another BentoML service of this project to run with the same
    settings (the benchmarks' empty endpoint)."""

    def __init__(
        self,
        config: ServingConfig,
        log_file: Path | None = None,
        # /readyz answers once the models are loaded and the score table is built (serving.score_table).
        ready_timeout_s: float = 600.0,
        env: Mapping[str, str] | None = None,
        service: str = SERVICE,
        service_name: str = SERVICE_NAME,
    ) -> None:
        self.config = config
        self.env = env
        self.log_file = log_file
        self.ready_timeout_s = ready_timeout_s
        self.service = service
        self.service_name = service_name
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.config.port}"

    def __enter__(self) -> str:
        output = None
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            output = self.log_file.open("ab")
        try:
            self.process = subprocess.Popen(
                serve_command(self.config, self.service),
                env=service_environment(self.config, self.env, self.service_name),
                cwd=_PROJECT_ROOT,
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                start_new_session=True,
            )
        finally:
            if output is not None:
                output.close()  # the server writes to its own copy
        try:
            self._wait_ready()
        except BaseException:  # a timeout, a bad service, or the caller stopped while waiting
            self.__exit__(None, None, None)
            raise
        return self.url

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None:
            _stop(self.process)

    def _wait_ready(self) -> None:
        """Probe /readyz until every worker has answered 200. The workers share one socket and
        each answers for itself (serving.probes), so a probe reaches any one of them."""
        deadline = time.monotonic() + self.ready_timeout_s
        expected = worker_count(self.config)
        ready: set[str] = set()
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"bentoml serve exited with code {self.process.returncode} before ready"
                    + (f"; see {self.log_file}" if self.log_file else "")
                )
            try:
                answer = httpx.get(f"{self.url}{READY_PATH}", timeout=2)
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code == 200:
                if WORKER_HEADER not in answer.headers:
                    raise RuntimeError(
                        f"{self.service} answers {READY_PATH} without the {WORKER_HEADER} header:"
                        " add serving.probes.WorkerTag to its middleware"
                    )
                ready.add(answer.headers[WORKER_HEADER])
                if len(ready) >= expected:
                    return
            # Once one worker is up, the rest are close: probe often so a probe reaches each soon.
            time.sleep(0.1 if ready else 0.5)
        raise TimeoutError(
            f"bentoml serve not ready at {self.url} within {self.ready_timeout_s:.0f}s:"
            f" {len(ready)} of {expected} workers answered {READY_PATH}"
        )
