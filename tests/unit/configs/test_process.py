"""Every nudge process hides libraries' deprecation notices, shows every other warning, turns
library telemetry off without overriding what is set, and unwinds on SIGTERM."""

from __future__ import annotations

import signal
import warnings

import pytest
from sqlalchemy.exc import SADeprecationWarning

from configs.process import TELEMETRY_OFF, exit_cleanly_on_sigterm, telemetry_off, without_deprecations


def test_deprecation_notices_are_dropped_and_other_warnings_shown() -> None:
    shown: list[type[Warning]] = []
    show = without_deprecations(lambda message, category, *args, **kwargs: shown.append(category))
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        warnings.warn("old API", DeprecationWarning, stacklevel=1)
        warnings.warn("old loader", SADeprecationWarning, stacklevel=1)
        warnings.warn("experimental", RuntimeWarning, stacklevel=1)
        warnings.warn("careful", UserWarning, stacklevel=1)
    assert shown == [RuntimeWarning, UserWarning]


def test_telemetry_is_turned_off_where_not_set_already() -> None:
    env = telemetry_off({"FEAST_USAGE": "True", "PATH": "/bin"})
    assert env == {**TELEMETRY_OFF, "FEAST_USAGE": "True", "PATH": "/bin"}


@pytest.mark.parametrize(("interrupt", "raised"), [(False, SystemExit), (True, KeyboardInterrupt)])
def test_sigterm_unwinds_the_stack(interrupt: bool, raised: type[BaseException]) -> None:
    before = signal.getsignal(signal.SIGTERM)
    cleaned = []
    try:
        exit_cleanly_on_sigterm(interrupt)
        with pytest.raises(raised) as stopped:
            try:
                signal.raise_signal(signal.SIGTERM)
            finally:
                cleaned.append(True)
    finally:
        signal.signal(signal.SIGTERM, before)
    assert cleaned == [True]
    if isinstance(stopped.value, SystemExit):
        assert stopped.value.code == 143  # 128 + SIGTERM, as a shell reports a process it killed
