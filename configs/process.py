"""What every nudge process sets up first: library telemetry off, library deprecation notices hidden,
SIGTERM turned into a clean exit.

Called by the CLI, the service launcher, the benchmarks and the tests, never at import.
"""

from __future__ import annotations

import os
import signal
import warnings
from collections.abc import Callable, MutableMapping

# Library telemetry phones home; this machine (and many deployments) has no route out.
TELEMETRY_OFF = {
    "FEAST_USAGE": "False",
    "BENTOML_DO_NOT_TRACK": "True",
    "MLFLOW_ENABLE_TELEMETRY": "false",
}


def telemetry_off(env: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Turn library telemetry off in `env` (this process's environment by default, or one being
    built for a child process) wherever it is not set already; returns `env`."""
    target = os.environ if env is None else env
    for key, value in TELEMETRY_OFF.items():
        target.setdefault(key, value)
    return target


def exit_cleanly_on_sigterm(interrupt: bool = False) -> None:
    """End this process on SIGTERM (kill, a CI time limit, docker stop) by an exception, so every
    `with` and `finally` on the stack runs. By default the process dies on the spot: a service it
    started runs on (in its own session, the signal never reaches it) holding its port, and staged
    files stay behind. The exception is SystemExit(143), or with `interrupt` KeyboardInterrupt: pytest
    ends its run (teardown included) on that, while a SystemExit only fails the running test.
    Call from the main thread."""
    signal.signal(signal.SIGTERM, _interrupt if interrupt else _exit)


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def hide_library_deprecations() -> None:
    """Drop DeprecationWarnings from this process's output from now on (other warnings still show)."""
    warnings.showwarning = without_deprecations(warnings.showwarning)


def without_deprecations(show: Callable[..., None]) -> Callable[..., None]:
    """Libraries telling each other about deprecated APIs (ibis, SQLAlchemy under MLflow) are
    nothing a user of nudge can act on, and they bury a command's output. A filter would not
    hold: Feast's modules reset the DeprecationWarning filter when they are imported."""

    def shown(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
        if not issubclass(category, DeprecationWarning):
            show(message, category, *args, **kwargs)

    return shown
