"""The CLI hides libraries' deprecation notices and shows every other warning."""

from __future__ import annotations

import warnings

from sqlalchemy.exc import SADeprecationWarning

from cli.main import _without_deprecations


def test_deprecation_notices_are_dropped_and_other_warnings_shown() -> None:
    shown: list[type[Warning]] = []
    show = _without_deprecations(lambda message, category, *args, **kwargs: shown.append(category))
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        warnings.warn("old API", DeprecationWarning, stacklevel=1)
        warnings.warn("old loader", SADeprecationWarning, stacklevel=1)
        warnings.warn("experimental", RuntimeWarning, stacklevel=1)
        warnings.warn("careful", UserWarning, stacklevel=1)
    assert shown == [RuntimeWarning, UserWarning]
