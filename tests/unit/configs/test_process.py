"""Every nudge process hides libraries' deprecation notices, shows every other warning, and turns
library telemetry off without overriding what is set."""

from __future__ import annotations

import warnings

from sqlalchemy.exc import SADeprecationWarning

from configs.process import TELEMETRY_OFF, telemetry_off, without_deprecations


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
