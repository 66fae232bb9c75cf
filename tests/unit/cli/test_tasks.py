"""Model commands name every task they accept when given one they do not."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from cli.main import app


@pytest.mark.parametrize(
    ("command", "allowed"),
    [("promote", "churn, conversion, vip, all"), ("rollback", "churn, conversion, vip, uplift, all")],
)
def test_an_unknown_task_is_refused_with_the_accepted_ones(command: str, allowed: str) -> None:
    result = CliRunner().invoke(app, [command, "--task", "foo"])
    assert result.exit_code == 2
    shown = re.sub(r"[│\s]+", " ", result.output)  # unwrap typer's error panel
    assert f"unknown task 'foo'; allowed: {allowed}" in shown
